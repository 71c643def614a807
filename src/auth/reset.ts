// Password reset and email verification: both only while an smtp binding exists. Tokens are 256-bit,
// single-use (consumed atomically), stored as SHA-256, short-lived, and every link is built from the
// public URL — never from the request's Host header, which an attacker controls.
import { isReservedUserId } from '../store/rules.js';
import type { Hono, MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { normalizeEmail } from '../accounts/email.js';
import { audit, limited } from './audit.js';
import { formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { errorPage, page } from './pages.js';
import { finishSignIn } from './finish-sign-in.js';
import type { ResetView } from './views.js';
import { checkPasswordPolicy, PASSWORD_MESSAGES } from '../security/password.js';
import { safeReturnTo } from '../security/redirect.js';
import { sha256Hex } from '../security/tokens.js';
import { inBackground, sendPasswordChangedEmail, sendResetEmail, sendVerificationEmail } from './mail-jobs.js';

const EXPIRED = 'Your form expired. Please try again.';

/** Without mail there is no link to send: the route answers `answer` instead. */
function requireMail(answer: (c: AuthContext) => Response): MiddlewareHandler<AuthEnv> {
  return async function requireMail(c, next) {
    if (!c.var.deps.mailer()) return answer(c);
    await next();
    return undefined;
  };
}

// Without mail, say what to do instead (the same page for the form's own address, 200, and for posts
// and links that cannot work, 404).
const notSetUp = (c: AuthContext, status = 404) =>
  page(c, 'forgot', 'Reset your password', { unavailable: true, csrf: '', email: '', error: null }, status);

const forgotForm = (c: AuthContext, email: string, error: string | null, status = 200) =>
  page(c, 'forgot', 'Reset your password', { csrf: csrfToken(c), email, error }, status);

const resetForm = (c: AuthContext, token: string, errors: ResetView['errors'], status = 200) =>
  page(c, 'reset', 'Choose a new password', { csrf: csrfToken(c), token, errors }, status);

const confirmEmailPage = (c: AuthContext, email: string, notice: string | null, status = 200) =>
  page(c, 'confirm-email', 'Confirm your email', { csrf: csrfToken(c), email, notice }, status);

const resetToken = (value: unknown) => (typeof value === 'string' && value.length <= 128 ? value : '');

export function mountPasswordReset(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const mailOn = requireMail(notSetUp);

  app.get(
    `${P}/forgot`,
    requireMail((c) => notSetUp(c, 200)),
    (c) => forgotForm(c, '', null),
  );

  const forgotExpired = csrf({
    signedOutForm: true,
    refuse: (c, form) => forgotForm(c, normalizeEmail(form.email), EXPIRED, 403),
  });
  app.post(`${P}/forgot`, mailOn, forgotExpired, async (c) => {
    const email = normalizeEmail((await formOf(c)).email);
    const tooMany = await limited(c, 'forgot', email || undefined);
    if (tooMany) return tooMany;
    // Looked up and mailed in the background: the answer takes the same time whether or not the account exists.
    inBackground(deps, 'reset request', async () => {
      const user = email ? await deps.store.findUserByEmail(email) : null;
      // Gatehouse's own users have no password to reset.
      if (!user || user.disabled || isReservedUserId(user.id)) return;
      await sendResetEmail(deps, user);
      audit(c, 'password.reset-requested', { userId: user.id, email }); // the context outlives the answer
    });
    // The same answer whether or not the account exists.
    return page(c, 'message', 'Check your email', {
      heading: 'Check your email',
      message:
        'If an account exists for that address, we sent it a link to reset the password. ' +
        'The link works for 30 minutes.',
      link: { href: `${P}/sign-in`, label: 'Back to sign in' },
    });
  });

  app.get(`${P}/reset`, mailOn, (c) => {
    const token = c.req.query('token') ?? '';
    if (!token || token.length > 128)
      return errorPage(c, 400, 'This link is not valid', 'Ask for a new password reset link.');
    return resetForm(c, token, {});
  });

  const resetExpired = csrf({
    signedOutForm: true,
    refuse: (c, form) => resetForm(c, resetToken(form.token), { form: EXPIRED }, 403),
  });
  app.post(`${P}/reset`, mailOn, resetExpired, resetPassword);

  mountVerifyEmail(app, deps);
}

async function resetPassword(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const form = await formOf(c);
  const token = resetToken(form.token);
  const password = typeof form.password === 'string' ? form.password : '';
  const tooMany = await limited(c, 'reset');
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
  if (checkPasswordPolicy(password, user.email))
    // No form left to put it under.
    return resetForm(c, '', { form: PASSWORD_MESSAGES['same-as-email'] + ' Ask for a new link.' }, 400);
  // Resetting proves the mailbox: the email counts as verified from now on.
  await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(password), emailVerified: true }, now);
  await deps.sessions.revokeUser(user.id); // every device signs in again
  await deps.store.deleteTokens('reset', user.id); // the other links that were mailed die with this one
  await deps.lockout.clear(user.email); // the owner can always get back in by email
  audit(c, 'password.reset', { userId: user.id });
  sendPasswordChangedEmail(deps, user);
  // The mailbox replaces the password, never the second factor: with one set, it is asked for next.
  return finishSignIn(c, user, 'password', safeReturnTo('/'));
}

function mountVerifyEmail(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const noMail = (c: AuthContext) =>
    errorPage(
      c,
      404,
      'Email is not set up',
      'This app sends no email, so there is no link to send. Sign in again, or ask an administrator.',
    );
  const expired = csrf({
    signedOutForm: true,
    refuse: (c, form) => confirmEmailPage(c, normalizeEmail(form.email), EXPIRED, 403),
  });

  // A new confirmation link, from the page a not-yet-confirmed sign-in shows. The answer is the same
  // whether or not the address has an account waiting for confirmation (no enumeration), and it is
  // rate-limited per address and per client so it cannot be used to flood a mailbox.
  app.post(`${P}/verify-email/resend`, requireMail(noMail), expired, async (c) => {
    const email = normalizeEmail((await formOf(c)).email);
    const tooMany = await limited(c, 'verify-resend', email || undefined);
    if (tooMany) return tooMany;
    inBackground(deps, 'resend', async () => {
      const user = email ? await deps.store.findUserByEmail(email) : null;
      if (user && !user.emailVerified && !user.disabled && !isReservedUserId(user.id)) {
        await deps.store.deleteTokens('verify-email', user.id); // one live link at a time
        await sendVerificationEmail(deps, user);
      }
    });
    return confirmEmailPage(c, email, 'If that address is waiting for confirmation, a new link is on its way.');
  });

  app.get(`${P}/verify-email`, verifyEmail);
}

async function verifyEmail(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const P = deps.prefix;
  const token = c.req.query('token') ?? '';
  const consumed =
    token && token.length <= 128
      ? await deps.store.consumeToken(sha256Hex(token), 'verify-email', new Date(deps.now()))
      : null;
  if (!consumed?.userId)
    return errorPage(c, 400, 'This link is not valid', 'The verification link is invalid, expired or already used.');
  const user = await deps.store.findUserById(consumed.userId);
  // The address may have changed since the mail was sent: verify only the one the link was sent to.
  if (!user || user.email !== consumed.email)
    return errorPage(c, 400, 'This link is not valid', 'The verification link no longer matches this account.');
  if (user.disabled) return errorPage(c, 403, 'Account disabled', 'This account is disabled.');
  await deps.store.updateUser(user.id, { emailVerified: true }, new Date(deps.now()));
  audit(c, 'email.verified', { userId: user.id });
  // Confirms, but does not sign in: a link that started a session could log a victim into an account
  // an attacker made (login CSRF). The owner signs in with the password they just chose.
  return page(c, 'message', 'Email confirmed', {
    heading: 'Email confirmed',
    message: `Thank you — ${user.email} is confirmed.`,
    link: c.get('session')
      ? { href: '/', label: `Continue to ${deps.appName}` }
      : { href: `${P}/sign-in`, label: 'Sign in' },
  });
}
