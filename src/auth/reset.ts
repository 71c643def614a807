// Password reset and email verification: both only while an smtp binding exists. Tokens are 256-bit,
// single-use (consumed atomically), stored as SHA-256, short-lived, and every link is built from the
// public URL — never from the request's Host header, which an attacker controls.
import type { Hono } from 'hono';
import type { AuthDeps, AuthEnv, AuthKit } from './context.js';
import { normalizeEmail } from './email.js';
import { checkPasswordPolicy, PASSWORD_MESSAGES } from '../security/password.js';
import { safeReturnTo } from '../security/redirect.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { TokenKind, User } from '../store/types.js';

const RESET_TTL_MS = 30 * 60_000;
const VERIFY_TTL_MS = 24 * 3600_000;

async function issueToken(deps: AuthDeps, kind: TokenKind, user: User, ttlMs: number): Promise<string> {
  const token = randomToken(32);
  const now = deps.now();
  await deps.store.createToken({ hash: sha256Hex(token), kind, userId: user.id, email: user.email, createdAt: new Date(now), expiresAt: new Date(now + ttlMs) });
  return token;
}

/** Mail is sent in the background: the answer must not wait on SMTP, or its timing would tell who exists. */
function sendInBackground(deps: AuthDeps, to: string, subject: string, text: string) {
  const mailer = deps.mailer();
  if (!mailer) return;
  mailer.send({ to, subject, text }).catch((err: Error) => process.stderr.write(`gatehouse: mail to ${to} failed: ${err.message}\n`));
}

export async function sendVerificationEmail(deps: AuthDeps, user: User): Promise<void> {
  if (!deps.mailer()) return;
  const token = await issueToken(deps, 'verify-email', user, VERIFY_TTL_MS);
  const link = `${deps.linkOrigin()}${deps.prefix}/verify-email?token=${token}`;
  sendInBackground(deps, user.email, `Confirm your email for ${deps.appName}`,
    `Hello ${user.name},\n\nConfirm your email address for ${deps.appName} by opening this link (valid 24 hours):\n\n${link}\n\nIf you did not sign up, ignore this message.\n`);
}

/** Someone signed up with an address that has an account: tell its owner, not the visitor. */
export function sendAccountExistsEmail(deps: AuthDeps, email: string): void {
  sendInBackground(deps, email, `Your ${deps.appName} account`,
    `Hello,\n\nSomeone tried to create a ${deps.appName} account with this address, but you already have one. Sign in at ${deps.linkOrigin()}${deps.prefix}/sign-in — or, if you forgot your password, reset it at ${deps.linkOrigin()}${deps.prefix}/forgot.\n\nIf this was not you, you can ignore this message.\n`);
}

/** After a reset or a change: if it was not the owner, the owner hears of it at once. */
export function sendPasswordChangedEmail(deps: AuthDeps, user: User): void {
  sendInBackground(deps, user.email, `Your ${deps.appName} password was changed`,
    `Hello ${user.name},\n\nThe password of your ${deps.appName} account was just changed, and every device was signed out.\n\nIf this was you, there is nothing to do. If it was not, reset your password now at ${deps.linkOrigin()}${deps.prefix}/forgot and tell the administrator.\n`);
}

export function mountPasswordReset(app: Hono<AuthEnv>, deps: AuthDeps, kit: AuthKit): void {
  const P = deps.prefix;
  // Without mail there is no reset link to send: say what to do instead (the same page for the form's
  // own address, 200, and for posts and links that cannot work, 404).
  const notSetUp = (c: Parameters<AuthKit['csrfField']>[0], status = 404) =>
    kit.page(c, 'forgot', 'Reset your password', { unavailable: true, csrf: '', email: '', error: null }, status);

  app.get(`${P}/forgot`, (c) => {
    if (!deps.mailer()) return notSetUp(c, 200);
    return kit.page(c, 'forgot', 'Reset your password', { csrf: kit.csrfField(c), email: '', error: null });
  });

  app.post(`${P}/forgot`, async (c) => {
    if (!deps.mailer()) return notSetUp(c);
    const form = await c.req.parseBody();
    const email = normalizeEmail(form.email);
    if (!kit.csrfOk(c, form, true)) return kit.page(c, 'forgot', 'Reset your password', { csrf: kit.csrfField(c), email, error: 'Your form expired. Please try again.' }, 403);
    const tooMany = await kit.limited(c, 'forgot', email || undefined);
    if (tooMany) return tooMany;
    // Looked up and mailed in the background: the answer takes the same time whether or not the account exists.
    const ip = c.get('ip');
    const userAgent = c.get('userAgent');
    void (async () => {
      const user = email ? await deps.store.findUserByEmail(email) : null;
      if (!user || user.disabled) return;
      const token = await issueToken(deps, 'reset', user, RESET_TTL_MS);
      const link = `${deps.linkOrigin()}${P}/reset?token=${token}`;
      sendInBackground(deps, user.email, `Reset your ${deps.appName} password`,
        `Hello ${user.name},\n\nSomeone asked to reset the password of your ${deps.appName} account. Open this link within 30 minutes to choose a new one:\n\n${link}\n\nIf it was not you, ignore this message: your password stays as it is.\n`);
      deps.audit.record('password.reset-requested', { userId: user.id, email, ip, userAgent });
    })().catch((err: Error) => process.stderr.write(`gatehouse: reset request failed: ${err.message}\n`));
    // The same answer whether or not the account exists.
    return kit.page(c, 'message', 'Check your email', {
      heading: 'Check your email',
      message: 'If an account exists for that address, we sent it a link to reset the password. The link works for 30 minutes.',
      link: { href: `${P}/sign-in`, label: 'Back to sign in' },
    });
  });

  const resetForm = (c: Parameters<AuthKit['csrfField']>[0], token: string, errors: Record<string, string>, status = 200) =>
    kit.page(c, 'reset', 'Choose a new password', { csrf: kit.csrfField(c), token, errors }, status);

  app.get(`${P}/reset`, (c) => {
    if (!deps.mailer()) return notSetUp(c);
    const token = c.req.query('token') ?? '';
    if (!token || token.length > 128) return kit.errorPage(c, 400, 'This link is not valid', 'Ask for a new password reset link.');
    return resetForm(c, token, {});
  });

  app.post(`${P}/reset`, async (c) => {
    if (!deps.mailer()) return notSetUp(c);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' && form.token.length <= 128 ? form.token : '';
    const password = typeof form.password === 'string' ? form.password : '';
    if (!kit.csrfOk(c, form, true)) return resetForm(c, token, { form: 'Your form expired. Please try again.' }, 403);
    const tooMany = await kit.limited(c, 'reset');
    if (tooMany) return tooMany;
    // Check the new password before spending the single-use token, so a typo does not burn the link.
    const problem = checkPasswordPolicy(password);
    if (problem) return resetForm(c, token, { password: PASSWORD_MESSAGES[problem] }, 400);
    const now = new Date(deps.now());
    const consumed = token ? await deps.store.consumeToken(sha256Hex(token), 'reset', now) : null;
    const user = consumed?.userId ? await deps.store.findUserById(consumed.userId) : null;
    if (!user || user.disabled) {
      return resetForm(c, '', { form: 'This reset link is invalid, expired or already used. Ask for a new one.' }, 400);
    }
    if (checkPasswordPolicy(password, user.email)) return resetForm(c, '', { form: PASSWORD_MESSAGES['same-as-email'] + ' Ask for a new link.' }, 400); // no form left to put it under
    // Resetting proves the mailbox: the email counts as verified from now on.
    await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(password), emailVerified: true }, now);
    await deps.sessions.revokeUser(user.id); // every device signs in again
    await deps.store.deleteTokens('reset', user.id); // the other links that were mailed die with this one
    await deps.lockout.clear(user.email); // the owner can always get back in by email
    deps.audit.record('password.reset', { userId: user.id, ip: c.get('ip'), userAgent: c.get('userAgent') });
    sendPasswordChangedEmail(deps, user);
    await kit.startSession(c, user, 'password');
    return c.redirect(safeReturnTo('/'), 303);
  });

  // A new confirmation link, from the page a not-yet-confirmed sign-in shows. The answer is the same
  // whether or not the address has an account waiting for confirmation (no enumeration), and it is
  // rate-limited per address and per client so it cannot be used to flood a mailbox.
  app.post(`${P}/verify-email/resend`, async (c) => {
    const form = await c.req.parseBody();
    const email = normalizeEmail(form.email);
    const again = (notice: string | null, status = 200) =>
      kit.page(c, 'confirm-email', 'Confirm your email', { csrf: kit.csrfField(c), email, notice }, status);
    if (!deps.mailer()) return kit.errorPage(c, 404, 'Email is not set up', 'This app sends no email, so there is no link to send. Sign in again, or ask an administrator.');
    if (!kit.csrfOk(c, form, true)) return again('Your form expired. Please try again.', 403);
    const tooMany = await kit.limited(c, 'verify-resend', email || undefined);
    if (tooMany) return tooMany;
    void (async () => {
      const user = email ? await deps.store.findUserByEmail(email) : null;
      if (user && !user.emailVerified && !user.disabled) {
        await deps.store.deleteTokens('verify-email', user.id); // one live link at a time
        await sendVerificationEmail(deps, user);
      }
    })().catch((err: Error) => process.stderr.write(`gatehouse: resend failed: ${err.message}\n`));
    return again('If that address is waiting for confirmation, a new link is on its way.');
  });

  app.get(`${P}/verify-email`, async (c) => {
    const token = c.req.query('token') ?? '';
    const consumed = token && token.length <= 128 ? await deps.store.consumeToken(sha256Hex(token), 'verify-email', new Date(deps.now())) : null;
    if (!consumed?.userId) return kit.errorPage(c, 400, 'This link is not valid', 'The verification link is invalid, expired or already used.');
    const user = await deps.store.findUserById(consumed.userId);
    // The address may have changed since the mail was sent: verify only the one the link was sent to.
    if (!user || user.email !== consumed.email) return kit.errorPage(c, 400, 'This link is not valid', 'The verification link no longer matches this account.');
    if (user.disabled) return kit.errorPage(c, 403, 'Account disabled', 'This account is disabled.');
    await deps.store.updateUser(user.id, { emailVerified: true }, new Date(deps.now()));
    deps.audit.record('email.verified', { userId: user.id, ip: c.get('ip'), userAgent: c.get('userAgent') });
    // Confirms, but does not sign in: a link that started a session could log a victim into an account
    // an attacker made (login CSRF). The owner signs in with the password they just chose.
    return kit.page(c, 'message', 'Email confirmed', {
      heading: 'Email confirmed',
      message: `Thank you — ${user.email} is confirmed.`,
      link: c.get('session') ? { href: '/', label: `Continue to ${deps.appName}` } : { href: `${P}/sign-in`, label: 'Sign in' },
    });
  });
}
