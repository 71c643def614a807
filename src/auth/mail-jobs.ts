// The mail the auth pages send — links to confirm an address or reset a password, and notices to an
// account's owner — and the background work around it. Routes call these after answering, so a reply
// never waits on SMTP (docs/architecture.md#auth-downwards).
import type { AuthServices } from './context.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { TokenKind, User } from '../store/types.js';

const RESET_TTL_MS = 30 * 60_000;
const VERIFY_TTL_MS = 24 * 3600_000;

async function issueToken(deps: AuthServices, kind: TokenKind, user: User, ttlMs: number): Promise<string> {
  const token = randomToken(32);
  const now = deps.now();
  await deps.store.createToken({
    hash: sha256Hex(token),
    kind,
    userId: user.id,
    email: user.email,
    createdAt: new Date(now),
    expiresAt: new Date(now + ttlMs),
  });
  return token;
}

/** Mail is sent in the background: the answer must not wait on SMTP, or its timing would tell who exists. */
export function sendInBackground(deps: AuthServices, to: string, subject: string, text: string) {
  const mailer = deps.mailer();
  if (!mailer) return;
  mailer.send({ to, subject, text }).catch((err: Error) => deps.log(`gatehouse: mail to ${to} failed: ${err.message}`));
}

/** Work after the answer was sent (look-ups and mail): its failure is logged, never shown. */
export function inBackground(deps: AuthServices, what: string, work: () => Promise<void>): void {
  work().catch((err: Error) => deps.log(`gatehouse: ${what} failed: ${err.message}`));
}

export async function sendVerificationEmail(deps: AuthServices, user: User): Promise<void> {
  if (!deps.mailer()) return;
  const token = await issueToken(deps, 'verify-email', user, VERIFY_TTL_MS);
  const link = `${deps.linkOrigin()}${deps.prefix}/verify-email?token=${token}`;
  sendInBackground(
    deps,
    user.email,
    `Confirm your email for ${deps.appName}`,
    `Hello ${user.name},\n\nConfirm your email address for ${deps.appName} by ` +
      `opening this link (valid 24 hours):\n\n${link}\n\nIf you did not sign up, ` +
      'ignore this message.\n',
  );
}

/** Someone signed up with an address that has an account: tell its owner, not the visitor. */
export function sendAccountExistsEmail(deps: AuthServices, email: string): void {
  sendInBackground(
    deps,
    email,
    `Your ${deps.appName} account`,
    `Hello,\n\nSomeone tried to create a ${deps.appName} account with this address, ` +
      `but you already have one. Sign in at ${deps.linkOrigin()}${deps.prefix}/sign-in ` +
      '— or, if you forgot your password, reset it at ' +
      `${deps.linkOrigin()}${deps.prefix}/forgot.\n\nIf this was not you, you can ` +
      'ignore this message.\n',
  );
}

/** After a reset or a change: if it was not the owner, the owner hears of it at once. */
export function sendPasswordChangedEmail(deps: AuthServices, user: User): void {
  sendInBackground(
    deps,
    user.email,
    `Your ${deps.appName} password was changed`,
    `Hello ${user.name},\n\nThe password of your ${deps.appName} account was just ` +
      'changed, and every device was signed out.\n\nIf this was you, there is nothing ' +
      'to do. If it was not, reset your password now at ' +
      `${deps.linkOrigin()}${deps.prefix}/forgot and tell the administrator.\n`,
  );
}

export async function sendResetEmail(deps: AuthServices, user: User): Promise<void> {
  const token = await issueToken(deps, 'reset', user, RESET_TTL_MS);
  const link = `${deps.linkOrigin()}${deps.prefix}/reset?token=${token}`;
  sendInBackground(
    deps,
    user.email,
    `Reset your ${deps.appName} password`,
    `Hello ${user.name},\n\nSomeone asked to reset the password of your ` +
      `${deps.appName} account. Open this link within 30 minutes to choose a new ` +
      `one:\n\n${link}\n\nIf it was not you, ignore this message: your password stays ` +
      'as it is.\n',
  );
}
