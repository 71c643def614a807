// The second step (architecture.md#mfa). With a factor set, a right password (or a social login) makes
// NO session: it makes a pending step — a 5-minute single-use record in the store, whose random key
// travels only in a sealed, HttpOnly cookie of this browser — and asks for a code. Another browser
// holds no such cookie, so it cannot finish the step; a finished or expired step is gone. Wrong codes
// count towards the same lockout as wrong passwords (security/lockout.ts), keyed on the email.
//
// Step-up: a signed-in session made without a second factor that meets an `--mfa` access rule shows a
// code here too, and continues under a new session token whose `amr` has `otp`.
import { createHmac } from 'node:crypto';
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { formExpiredPage, page } from './pages.js';
import { startSession } from './start-session.js';
import { jsonBody, jsonCsrf } from './json.js';
import { authenticationOptions, relyingParty, UNVERIFIED, verifyPasskeyForUser } from './webauthn.js';
import { withReturnTo } from './views.js';
import { seal, unseal } from '../config/secrets.js';
import type { CodeKind } from '../mfa/factors.js';
import { factorChangedMail, type FactorChange } from '../mfa/mail.js';
import { amrOf, hasSecondFactor, mustEnrol } from '../mfa/policy.js';
import { safeReturnTo } from '../security/redirect.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import { clearCookie, readCookie } from '../session/cookies.js';
import type { User } from '../store/types.js';

export const PENDING_TTL_MS = 5 * 60_000;

interface PendingCookie {
  t: string; // the random key; the store keeps its SHA-256
  p: string; // provider the first step used
  r: string; // return_to
}

const cookieName = (deps: AuthServices) => (deps.cookies.secure ? '__Host-gatehouse_mfa' : 'gatehouse_mfa');
const cookieKey = (deps: AuthServices) => createHmac('sha256', deps.settings.current().secret).update('gatehouse second step').digest();

/** Where a fresh session goes: where it was going, unless the policy wants a factor first. */
export function afterSignIn(c: AuthContext, returnTo: string): string {
  const s = c.get('session');
  const P = c.var.deps.prefix;
  return s && mustEnrol(c.var.deps.settings.current().mfa, s.principal) ? withReturnTo(`${P}/account/totp`, returnTo) : returnTo;
}

/**
 * The end of every first step (password, social login, reset): a session, or — with a factor set —
 * the second step. `hasFactor` when the caller already knows it.
 */
export async function finishSignIn(c: AuthContext, user: User, provider: string, returnTo: string, hasFactor?: boolean): Promise<Response> {
  const deps = c.var.deps;
  if (hasFactor ?? (await deps.mfa.hasFactor(user.id))) {
    await beginSecondStep(c, user, provider, returnTo);
    return c.redirect(`${deps.prefix}/sign-in/code`, 303);
  }
  await startSession(c, user, provider);
  return c.redirect(afterSignIn(c, returnTo), 303);
}

async function beginSecondStep(c: AuthContext, user: User, provider: string, returnTo: string): Promise<void> {
  const deps = c.var.deps;
  const t = randomToken(32);
  const now = deps.now();
  await deps.store.createToken({ hash: sha256Hex(t), kind: 'mfa', userId: user.id, email: user.email, createdAt: new Date(now), expiresAt: new Date(now + PENDING_TTL_MS) });
  const value = seal(JSON.stringify({ t, p: provider, r: returnTo } satisfies PendingCookie), cookieKey(deps));
  const secure = deps.cookies.secure;
  c.header('set-cookie', `${cookieName(deps)}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${PENDING_TTL_MS / 1000}${secure ? '; Secure' : ''}`, { append: true });
}

interface Pending {
  hash: string;
  user: User;
  provider: string;
  returnTo: string;
}

/** This browser's live pending step, or null (none, expired, finished, or the user disabled since). */
async function pendingOf(c: AuthContext): Promise<Pending | null> {
  const deps = c.var.deps;
  const raw = readCookie(c.req.header('cookie'), cookieName(deps));
  if (!raw || raw.length > 1024) return null;
  let cookie: PendingCookie;
  try {
    cookie = JSON.parse(unseal(raw, cookieKey(deps))) as PendingCookie;
  } catch {
    return null;
  }
  const hash = sha256Hex(String(cookie.t));
  const token = await deps.store.findToken(hash, 'mfa', new Date(deps.now()));
  const user = token?.userId ? await deps.store.findUserById(token.userId) : null;
  if (!user || user.disabled) return null;
  return { hash, user, provider: String(cookie.p), returnTo: safeReturnTo(cookie.r) };
}

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
    return { ok: false, status: 401, error: 'That code is not right, or it was used already. Try the newest code from your app.' };
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

const withFactor = (amr: readonly string[], factor: 'otp' | 'hwk') => [...amr.filter((m) => m !== factor), factor];
const withOtp = (amr: readonly string[]) => withFactor(amr, 'otp');
const hasPasskey = async (c: AuthContext, user: User) => (await c.var.deps.store.listPasskeys(user.id)).length > 0;

function codePage(c: AuthContext, mode: 'sign-in' | 'step-up', returnTo: string, error: string | null, status = 200, withPasskey = false): Response {
  const P = c.var.deps.prefix;
  const passkeySignIn = withPasskey && !relyingParty(c).unavailable ? { optionsUrl: `${P}/sign-in/code/passkey/options`, verifyUrl: `${P}/sign-in/code/passkey/verify` } : null;
  const recovery = c.req.query('recovery') !== undefined;
  const here = mode === 'sign-in' ? `${P}/sign-in/code` : `${P}/step-up`;
  const switchQuery = new URLSearchParams({ ...(mode === 'step-up' && returnTo !== '/' ? { return_to: returnTo } : {}), ...(recovery ? {} : { recovery: '' }) }).toString();
  return page(c, 'second-step', mode === 'sign-in' ? 'Two-step sign-in' : 'Confirm it is you', {
    csrf: csrfToken(c),
    heading: mode === 'sign-in' ? 'Two-step sign-in' : 'Confirm it is you',
    lede: mode === 'sign-in'
      ? 'Enter the code from your authenticator app, or one of your recovery codes.'
      : 'This page asks for a second step. Enter the code from your authenticator app, or a recovery code.',
    action: here,
    returnTo,
    error,
    recovery,
    switchHref: switchQuery ? `${here}?${switchQuery}` : here,
    cancel: mode === 'sign-in' ? { href: `${P}/sign-in`, label: 'Start again' } : { href: '/', label: 'Cancel' },
    passkeySignIn,
  }, status);
}

function expiredPage(c: AuthContext): Response {
  c.header('set-cookie', clearCookie(cookieName(c.var.deps), c.var.deps.cookies.secure), { append: true });
  return page(c, 'message', 'Sign in again', {
    heading: 'Sign in again',
    message: 'This sign-in took longer than 5 minutes, was finished already, or began in another browser.',
    link: { href: `${c.var.deps.prefix}/sign-in`, label: 'Back to sign-in' },
  }, 400);
}

export function mountSecondStep(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.get(`${P}/sign-in/code`, async (c) => {
    const pending = await pendingOf(c);
    return pending ? codePage(c, 'sign-in', '/', null, 200, await hasPasskey(c, pending.user)) : expiredPage(c);
  });

  mountPasskeyStep(app, deps);

  app.post(`${P}/sign-in/code`, csrf({ signedOutForm: true, refuse: (c) => codePage(c, 'sign-in', '/', 'Your form expired. Please try again.', 403) }), async (c) => {
    const pending = await pendingOf(c);
    if (!pending) return expiredPage(c);
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return tooMany;
    const checked = await checkCode(c, pending.user, field((await formOf(c)).code));
    if (!checked.ok) return codePage(c, 'sign-in', '/', checked.error, checked.status, await hasPasskey(c, pending.user));
    // Single use: of two tabs finishing at once, one wins; the other starts again.
    if (!(await deps.store.consumeToken(pending.hash, 'mfa', new Date(deps.now())))) return expiredPage(c);
    c.header('set-cookie', clearCookie(cookieName(deps), deps.cookies.secure), { append: true });
    await startSession(c, pending.user, pending.provider, { amr: withOtp(amrOf(pending.provider)) });
    audit(c, pending.provider === 'password' ? 'sign-in.success' : 'provider.login', { userId: pending.user.id, email: pending.user.email, detail: `${pending.provider} + ${checked.kind}` });
    return c.redirect(afterSignIn(c, pending.returnTo), 303);
  });

  app.get(`${P}/step-up`, requireSession({ redirect: 302 }), async (c) => {
    const s = signedIn(c);
    const returnTo = safeReturnTo(c.req.query('return_to'));
    if (hasSecondFactor(s.principal.amr)) return c.redirect(returnTo, 302);
    // Nothing to show yet: set one up first (which counts as the second step for this session).
    if (!(await deps.mfa.hasFactor(s.principal.userId))) return c.redirect(withReturnTo(`${P}/account/totp`, returnTo), 302);
    return codePage(c, 'step-up', returnTo, null);
  });

  app.post(`${P}/step-up`, requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage }), async (c) => {
    const s = signedIn(c);
    const form = await formOf(c);
    const returnTo = safeReturnTo(form.return_to);
    const user = await deps.store.findUserById(s.principal.userId);
    if (!user) return c.redirect(`${P}/sign-in`, 303);
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return tooMany;
    const checked = await checkCode(c, user, field(form.code));
    if (!checked.ok) return codePage(c, 'step-up', returnTo, checked.error, checked.status);
    // A new token for the stronger session: one stolen before the step-up gains nothing from it.
    await startSession(c, user, s.principal.provider, { amr: withOtp(s.principal.amr ?? amrOf(s.principal.provider)) });
    audit(c, 'mfa.step-up', { userId: user.id, email: user.email, detail: checked.kind });
    return c.redirect(returnTo, 303);
  });
}

/** A passkey as the second step: only the pending user's passkeys, against a challenge issued to them. */
function mountPasskeyStep(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  app.post(`${P}/sign-in/code/passkey/options`, jsonCsrf(false), async (c) => {
    const pending = await pendingOf(c);
    if (!pending) return c.json({ error: 'expired', message: 'This sign-in expired. Please start again.' }, 400);
    return c.json(await authenticationOptions(c, pending.user));
  });

  app.post(`${P}/sign-in/code/passkey/verify`, jsonCsrf(false), async (c) => {
    const pending = await pendingOf(c);
    if (!pending) return c.json({ error: 'expired', message: 'This sign-in expired. Please start again.' }, 400);
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return c.json({ error: 'rate_limited', message: 'Too many attempts. Please wait a little before trying again.' }, 429);
    const outcome = await verifyPasskeyForUser(c, pending.user, (await jsonBody(c))?.response);
    if (!outcome.ok) {
      audit(c, 'mfa.failure', { userId: pending.user.id, email: pending.user.email, detail: `passkey: ${outcome.reason}` });
      const message = outcome.reason === 'unverified' ? UNVERIFIED : 'That passkey did not work. Try again, or enter a code.';
      return c.json({ error: 'passkey_refused', message }, outcome.reason === 'locked' ? 429 : 401);
    }
    if (!(await deps.store.consumeToken(pending.hash, 'mfa', new Date(deps.now())))) return c.json({ error: 'expired', message: 'This sign-in expired. Please start again.' }, 400);
    c.header('set-cookie', clearCookie(cookieName(deps), deps.cookies.secure), { append: true });
    await startSession(c, pending.user, pending.provider, { amr: withFactor(amrOf(pending.provider), 'hwk') });
    audit(c, 'passkey.used', { userId: pending.user.id, email: pending.user.email, detail: outcome.passkey.name });
    audit(c, pending.provider === 'password' ? 'sign-in.success' : 'provider.login', { userId: pending.user.id, email: pending.user.email, detail: `${pending.provider} + passkey` });
    return c.json({ ok: true, redirect: afterSignIn(c, pending.returnTo) });
  });
}
