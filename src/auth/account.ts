// The account page (docs/architecture.md#devices): one page in sections — Profile (the address and its
// change), Security (a summary of factors, passkeys and personal tokens, and the password change),
// Sessions (end one, or every other), Connected apps, Linked accounts. account-page.ts renders it; each
// section's actions live in their own module (account-email.ts, account-identities.ts, mfa-account.ts,
// …); this one owns sessions and the password.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { formExpiredPage, page } from './pages.js';
import { accountPage } from './account-page.js';
import { sendPasswordChangedEmail } from './mail-jobs.js';
import { startSession } from './start-session.js';
import { checkPasswordPolicy, PASSWORD_MESSAGES } from '../security/password.js';
import type { AuditEvent } from '../security/audit-log.js';
import type { User } from '../store/types.js';

export function mountAccount(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  // A form posted after the session ended goes to sign-in, without a way back to a POST.
  const signedInPost = [requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage })] as const;

  app.get(`${P}/account`, requireSession({ redirect: 302, returnTo: `${P}/account` }), (c) =>
    accountPage(c, signedIn(c)),
  );

  app.post(`${P}/account/sessions/revoke`, ...signedInPost, async (c) => {
    const s = signedIn(c);
    const id = field((await formOf(c)).id);
    const mine = await deps.store.listUserSessions(s.principal.userId);
    if (mine.some((x) => x.id === id)) {
      await deps.sessions.revoke(id);
      audit(c, 'session.revoked', { userId: s.principal.userId });
    }
    return c.redirect(`${P}/account`, 303);
  });

  // "Sign out everywhere else": a page that says what will happen, then the POST.
  app.get(`${P}/account/sessions/others`, requireSession({ redirect: 302, returnTo: `${P}/account` }), (c) =>
    page(c, 'admin-confirm', 'Sign out everywhere else', {
      csrf: csrfToken(c),
      heading: 'Sign out everywhere else?',
      subject: {
        title: signedIn(c).principal.email,
        badge: 'your account',
        detail: 'every browser, phone and paired device but this one',
      },
      effect:
        'Every other session of your account ends at once: those devices must sign in ' +
        'again. This browser stays signed in. Personal tokens and connected apps are not ' +
        'affected.',
      button: 'Sign out everywhere else',
      danger: true,
      action: `${P}/account/sessions/others`,
      cancel: `${P}/account`,
    }),
  );
  app.post(`${P}/account/sessions/others`, ...signedInPost, async (c) => {
    const s = signedIn(c);
    const others = (await deps.store.listUserSessions(s.principal.userId)).filter((x) => x.id !== s.sessionId).length;
    await deps.sessions.revokeUser(s.principal.userId, s.sessionId);
    audit(c, 'session.revoked-others', { userId: s.principal.userId, detail: String(others) });
    return accountPage(c, s, {
      notice: others === 1 ? 'Signed out 1 other session.' : `Signed out ${others} other sessions.`,
    });
  });

  app.post(`${P}/account/password`, ...signedInPost, changePassword);
}

/** The current password, asked before a sensitive change. Guesses count like sign-in failures: a
 *  stolen session must not become an unlimited password oracle. */
export async function checkCurrentPassword(
  c: AuthContext,
  user: User,
  given: string,
  failure: AuditEvent,
): Promise<{ ok: true } | { ok: false; message: string; status: number; tooMany?: Response }> {
  const deps = c.var.deps;
  const tooMany = await limited(c, 'sign-in'); // the 429 page, with Retry-After
  if (tooMany) return { ok: false, message: 'Too many attempts.', status: 429, tooMany };
  const attempt = await deps.lockout.begin(user.email);
  const allowed = attempt.allowed;
  const matches = allowed && user.passwordHash !== null && (await deps.hasher.verify(user.passwordHash, given)).ok;
  if (matches) {
    await attempt.succeeded();
    return { ok: true };
  }
  if (attempt.lockedNow || (allowed && (await attempt.failed())))
    audit(c, 'lockout', { email: user.email, userId: user.id });
  audit(c, failure, { userId: user.id, detail: allowed ? 'wrong password' : 'locked' });
  return allowed
    ? { ok: false, message: 'That is not your current password.', status: 400 }
    : { ok: false, message: 'Too many wrong attempts. Wait a few minutes, or reset your password.', status: 429 };
}

async function changePassword(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  const form = await formOf(c);
  const user = await deps.store.findUserById(s.principal.userId);
  if (!user) return c.redirect(`${deps.prefix}/sign-in`, 303);
  const next = field(form.password);
  const proof = await checkCurrentPassword(c, user, field(form.current_password), 'password.change-failed');
  if (!proof.ok)
    return proof.tooMany ?? accountPage(c, s, { errors: { current_password: proof.message } }, proof.status);
  const problem = checkPasswordPolicy(next, user.email);
  if (problem) return accountPage(c, s, { errors: { password: PASSWORD_MESSAGES[problem] } }, 400);
  await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(next) }, new Date(deps.now()));
  // Every session ends — this one too: it continues under a new token (re-authentication), so a
  // token stolen before the change is worthless after it. Outstanding reset links die as well.
  await deps.sessions.revokeUser(user.id);
  await deps.store.deleteTokens('reset', user.id);
  c.set('session', null);
  await startSession(c, user, s.principal.provider, { amr: s.principal.amr });
  const fresh = c.get('session') ?? s;
  audit(c, 'password.changed', { userId: user.id });
  sendPasswordChangedEmail(deps, user);
  return accountPage(c, fresh, { notice: 'Password changed. Your other sessions were signed out.' });
}
