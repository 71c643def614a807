// Changing the account's address (docs/architecture.md#devices): the current password (an account
// without one: a recent sign-in), then a link mailed to the NEW address; the change happens only when
// that link is used, and the OLD address is told. The link is a
// single-use `email-change` token (only its SHA-256 stored) carrying the new address, and the old one
// in `note`, so a link issued before another change of address no longer applies.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { EMAIL_MESSAGES, isDomainAllowed, parseEmail } from '../accounts/email.js';
import { audit, limited } from './audit.js';
import { field, formOf, tokenParam } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { sendInBackground } from './mail-jobs.js';
import { checkCurrentPassword } from './account.js';
import { accountPage, EMAIL_CHANGE_REAUTH, emailChangeBlocked } from './account-page.js';
import { reauthMessage, signedInRecently } from './recent-sign-in.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import { isStoreError, type User } from '../store/types.js';

const CHANGE_TTL_MS = 60 * 60_000; // it moves where password resets go: short, like a reset link

// The same words whether the address is free or belongs to someone: the page never tells who is registered.
const SENT = (email: string) =>
  `If ${email} can be used for your account, a link is on its way to it. Your ` +
  'address changes only when you open that link (within an hour).';
const CANNOT_USE = 'This address cannot be used for your account. Your address was not changed.';
const LINK_DEAD =
  'This link is invalid, expired or already used, or your address changed since it ' +
  'was sent. Ask for a new one on your account page.';

/** The address typed, normalised and checked like a new account's (accounts/email.ts, the domain policy). */
function newAddress(deps: AuthServices, value: unknown, current: string): { email: string } | { error: string } {
  const parsed = parseEmail(value);
  if (!parsed.ok) return { error: EMAIL_MESSAGES[parsed.reason] };
  if (parsed.email === current) return { error: 'That is already your address.' };
  const settings = deps.settings.current();
  if (settings.signUp === 'domains' && !isDomainAllowed(parsed.email, settings.allowedDomains)) {
    return { error: 'This app accepts addresses at approved domains only.' };
  }
  return { email: parsed.email };
}

export function mountEmailChange(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  app.post(`${P}/account/email`, requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage }), requestChange);
  // GET only looks (a mail scanner that follows links spends nothing); the POST spends. Either browser
  // may finish: the token is the proof, issued to a signed-in user who gave their password.
  app.get(`${P}/account/email/confirm`, async (c) => {
    const token = tokenParam(c.req.query('token'));
    const live = token ? await liveChange(c, token) : null;
    if (!live) return errorPage(c, 400, 'This link is not valid', LINK_DEAD);
    return page(c, 'admin-confirm', 'Confirm your new email', {
      csrf: csrfToken(c),
      heading: 'Use this address for your account?',
      subject: { title: live.token.email!, badge: 'new address', detail: `in place of ${live.user.email}` },
      effect:
        `You will sign in with ${live.token.email} from now on, and password reset links ` +
        `will go there. ${live.user.email} is told of the change.`,
      button: 'Change my address',
      danger: false,
      action: `${P}/account/email/confirm?token=${encodeURIComponent(token!)}`,
      cancel: c.get('session') ? `${P}/account` : '/',
    });
  });
  app.post(`${P}/account/email/confirm`, csrf({ signedOutForm: true, refuse: formExpiredPage }), confirmChange);
}

async function liveChange(c: AuthContext, token: string) {
  const { store, now } = c.var.deps;
  const found = await store.findToken(sha256Hex(token), 'email-change', new Date(now()));
  const user = found?.userId ? await store.findUserById(found.userId) : null;
  return found && user && !user.disabled && user.email === found.note ? { token: found, user } : null;
}

async function requestChange(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  const form = await formOf(c);
  const user = await deps.store.findUserById(s.principal.userId);
  if (!user) return c.redirect(`${deps.prefix}/sign-in`, 303);
  const blocked = emailChangeBlocked(deps);
  if (blocked) return accountPage(c, s, { errors: { new_email: blocked } }, deps.mailer() ? 400 : 409);
  const target = newAddress(deps, form.new_email, user.email);
  if ('error' in target)
    return accountPage(c, s, { errors: { new_email: target.error }, newEmail: field(form.new_email) }, 400);
  // A stolen cookie alone must not move the account to its thief's mailbox: the password, or for an
  // account without one (social sign-in, passkeys) a sign-in within the last minutes.
  if (user.passwordHash) {
    const proof = await checkCurrentPassword(c, user, field(form.email_password), 'email.change-requested');
    if (!proof.ok)
      return (
        proof.tooMany ??
        accountPage(c, s, { errors: { email_password: proof.message }, newEmail: target.email }, proof.status)
      );
  } else if (!(await signedInRecently(c))) {
    return accountPage(
      c,
      s,
      { errors: { new_email: reauthMessage(EMAIL_CHANGE_REAUTH) }, newEmail: target.email },
      403,
    );
  }
  // Per new address and per client: the form cannot be used to flood someone's mailbox.
  const tooMany = await limited(c, 'verify-resend', target.email);
  if (tooMany) return tooMany;
  const taken = await deps.store.findUserByEmail(target.email);
  if (taken) {
    // The owner of the taken address hears of it; the person asking learns nothing they could use.
    sendInBackground(
      deps,
      target.email,
      `Your ${deps.appName} account`,
      `Hello,\n\nSomeone asked to move another ${deps.appName} account to this ` +
        'address, which already has an account here. Nothing was changed.\n\nIf this was ' +
        `you, sign in at ${deps.linkOrigin()}${deps.prefix}/sign-in with this address ` +
        'instead.\n',
    );
  } else {
    await sendChangeLink(deps, user, target.email);
  }
  audit(c, 'email.change-requested', {
    userId: user.id,
    email: user.email,
    detail: taken ? 'address taken' : undefined,
  });
  return accountPage(c, s, { notice: SENT(target.email) });
}

async function sendChangeLink(deps: AuthServices, user: User, email: string): Promise<void> {
  await deps.store.deleteTokens('email-change', user.id); // one live link at a time: the latest request wins
  const token = randomToken(32);
  const now = deps.now();
  await deps.store.createToken({
    hash: sha256Hex(token),
    kind: 'email-change',
    userId: user.id,
    email,
    note: user.email,
    createdAt: new Date(now),
    expiresAt: new Date(now + CHANGE_TTL_MS),
  });
  const link = `${deps.linkOrigin()}${deps.prefix}/account/email/confirm?token=${token}`;
  sendInBackground(
    deps,
    email,
    `Confirm your new email for ${deps.appName}`,
    `Hello ${user.name},\n\nYou asked to use this address for your ${deps.appName} ` +
      `account in place of ${user.email}. Open this link within an hour to ` +
      `confirm:\n\n${link}\n\nIf it was not you, ignore this message: nothing ` +
      'changes.\n',
  );
}

async function confirmChange(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const token = tokenParam(c.req.query('token')) ?? tokenParam((await formOf(c)).token);
  const at = new Date(deps.now());
  const used = token ? await deps.store.consumeToken(sha256Hex(token), 'email-change', at) : null;
  const user = used?.userId ? await deps.store.findUserById(used.userId) : null;
  if (!used?.email || !user || user.disabled || user.email !== used.note)
    return errorPage(c, 400, 'This link is not valid', LINK_DEAD);
  // Checked again: the domain policy may have changed since the link was sent.
  const target = newAddress(deps, used.email, user.email);
  if ('error' in target)
    return errorPage(c, 400, 'Address not changed', `${target.error} Your address was not changed.`);
  try {
    // The link proved the mailbox: the new address counts as confirmed.
    await deps.store.updateUser(user.id, { email: target.email, emailVerified: true }, at);
  } catch (err) {
    if (!isStoreError(err, 'DUPLICATE')) throw err;
    return errorPage(c, 409, 'Address not changed', CANNOT_USE); // someone took it since the link was sent
  }
  // Reset and verification links mailed to the old address must not outlive it.
  await Promise.all([
    deps.store.deleteTokens('reset', user.id),
    deps.store.deleteTokens('verify-email', user.id),
    deps.store.deleteTokens('email-change', user.id),
  ]);
  audit(c, 'email.changed', { userId: user.id, email: target.email, detail: `from ${user.email}` });
  sendInBackground(
    deps,
    user.email,
    `Your ${deps.appName} email address was changed`,
    `Hello ${user.name},\n\nThe email address of your ${deps.appName} account was ` +
      `changed from ${user.email} to ${target.email}. You sign in with the new address ` +
      'from now on.\n\nIf this was not you, tell the administrator at once: someone ' +
      'who knows your password did it.\n',
  );
  return page(c, 'message', 'Email changed', {
    heading: 'Email changed',
    message: `Your account now uses ${target.email}. Sign in with it from now on.`,
    link: c.get('session')
      ? { href: `${deps.prefix}/account`, label: 'Back to your account' }
      : { href: `${deps.prefix}/sign-in`, label: 'Sign in' },
  });
}
