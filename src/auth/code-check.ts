// A second-factor code checked under the lockout, and a change to a user's factors audited and mailed:
// shared by the second step, the account's authenticator page and the admin console
// (docs/architecture.md#mfa).
import type { AuthContext } from './context.js';
import { audit } from './audit.js';
import type { CodeKind } from '../mfa/factors.js';
import { factorChangedMail, type FactorChange } from '../mfa/mail.js';
import type { User } from '../store/types.js';

export type CodeCheck = { ok: true; kind: CodeKind } | { ok: false; status: 400 | 401 | 429; error: string };

/** A code checked under the user's lockout: refused unchecked while locked, and a wrong one counts. */
export async function checkCode(c: AuthContext, user: User, code: string): Promise<CodeCheck> {
  const deps = c.var.deps;
  const attempt = await deps.lockout.begin(user.email);
  if (!attempt.allowed) {
    if (attempt.lockedNow) audit(c, 'lockout', { email: user.email, userId: user.id });
    audit(c, 'mfa.failure', { userId: user.id, email: user.email, detail: 'locked' });
    return { ok: false, status: 429, error: 'Too many wrong attempts. Wait a few minutes, then try again.' };
  }
  const kind = code ? await deps.mfa.verify(user.id, code) : null;
  if (!kind) {
    if (await attempt.failed()) audit(c, 'lockout', { email: user.email, userId: user.id });
    audit(c, 'mfa.failure', { userId: user.id, email: user.email });
    return {
      ok: false,
      status: 401,
      error: 'That code is not right, or it was used already. Try the newest code from your app.',
    };
  }
  await attempt.succeeded();
  if (kind === 'recovery') factorChanged(c, user, 'recovery-used');
  return { ok: true, kind };
}

/** Audits a change to a user's factors and tells them by email (when mail is set up). */
export function factorChanged(c: AuthContext, user: User, change: FactorChange, by?: string): void {
  const deps = c.var.deps;
  audit(c, `mfa.${change}`, { userId: user.id, email: user.email, ...(by ? { detail: `by ${by}` } : {}) });
  const mailer = deps.mailer();
  if (!mailer) return;
  const mail = factorChangedMail(deps.appName, user, change, `${deps.linkOrigin()}${deps.prefix}/sign-in`);
  mailer.send(mail).catch((err: Error) => deps.log(`gatehouse: mail to ${user.email} failed: ${err.message}`));
}
