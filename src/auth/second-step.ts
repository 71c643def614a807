// The second step (architecture.md#mfa). With a factor set, a right password (or a social login) makes
// NO session: it makes a pending step (finish-sign-in.ts) — a 5-minute single-use record in the store,
// whose random key travels only in a sealed, HttpOnly cookie of this browser — and asks for a code. Another browser
// holds no such cookie, so it cannot finish the step; a finished or expired step is gone. Wrong codes
// count towards the same lockout as wrong passwords (security/lockout.ts), keyed on the email.
//
// Step-up: a signed-in session made without a second factor that meets an `--mfa` access rule shows a
// code here too, and continues under a new session token whose `amr` has `otp`.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { formExpiredPage, page } from './pages.js';
import { startSession } from './start-session.js';
import { afterSignIn, pendingCookieName, pendingOf } from './finish-sign-in.js';
import { checkCode } from './code-check.js';
import { jsonBody, jsonCsrf } from './json.js';
import { authenticationOptions, relyingParty, UNVERIFIED, verifyPasskeyForUser } from './webauthn.js';
import { withReturnTo } from './views.js';
import { amrOf, hasSecondFactor } from '../mfa/policy.js';
import { safeReturnTo } from '../security/redirect.js';
import { clearCookie } from '../session/cookies.js';
import type { User } from '../store/types.js';

const withFactor = (amr: readonly string[], factor: 'otp' | 'hwk') => [...amr.filter((m) => m !== factor), factor];
const withOtp = (amr: readonly string[]) => withFactor(amr, 'otp');
const hasPasskey = async (c: AuthContext, user: User) => (await c.var.deps.store.listPasskeys(user.id)).length > 0;

function codePage(
  c: AuthContext,
  mode: 'sign-in' | 'step-up',
  returnTo: string,
  error: string | null,
  status = 200,
  withPasskey = false,
): Response {
  const P = c.var.deps.prefix;
  const passkeySignIn =
    withPasskey && !relyingParty(c).unavailable
      ? { optionsUrl: `${P}/sign-in/code/passkey/options`, verifyUrl: `${P}/sign-in/code/passkey/verify` }
      : null;
  const recovery = c.req.query('recovery') !== undefined;
  const here = mode === 'sign-in' ? `${P}/sign-in/code` : `${P}/step-up`;
  const switchQuery = new URLSearchParams({
    ...(mode === 'step-up' && returnTo !== '/' ? { return_to: returnTo } : {}),
    ...(recovery ? {} : { recovery: '' }),
  }).toString();
  return page(
    c,
    'second-step',
    mode === 'sign-in' ? 'Two-step sign-in' : 'Confirm it is you',
    {
      csrf: csrfToken(c),
      heading: mode === 'sign-in' ? 'Two-step sign-in' : 'Confirm it is you',
      lede:
        mode === 'sign-in'
          ? 'Enter the code from your authenticator app, or one of your recovery codes.'
          : 'This page asks for a second step. Enter the code from your authenticator app, or a recovery code.',
      action: here,
      returnTo,
      error,
      recovery,
      switchHref: switchQuery ? `${here}?${switchQuery}` : here,
      cancel: mode === 'sign-in' ? { href: `${P}/sign-in`, label: 'Start again' } : { href: '/', label: 'Cancel' },
      passkeySignIn,
    },
    status,
  );
}

function expiredPage(c: AuthContext): Response {
  c.header('set-cookie', clearCookie(pendingCookieName(c.var.deps), c.var.deps.cookies.secure), { append: true });
  return page(
    c,
    'message',
    'Sign in again',
    {
      heading: 'Sign in again',
      message: 'This sign-in took longer than 5 minutes, was finished already, or began in another browser.',
      link: { href: `${c.var.deps.prefix}/sign-in`, label: 'Back to sign-in' },
    },
    400,
  );
}

export function mountSecondStep(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.get(`${P}/sign-in/code`, async (c) => {
    const pending = await pendingOf(c);
    return pending ? codePage(c, 'sign-in', '/', null, 200, await hasPasskey(c, pending.user)) : expiredPage(c);
  });

  mountPasskeyStep(app, deps);

  app.post(
    `${P}/sign-in/code`,
    csrf({
      signedOutForm: true,
      refuse: (c) => codePage(c, 'sign-in', '/', 'Your form expired. Please try again.', 403),
    }),
    finishWithCode,
  );

  app.get(`${P}/step-up`, requireSession({ redirect: 302 }), async (c) => {
    const s = signedIn(c);
    const returnTo = safeReturnTo(c.req.query('return_to'));
    if (hasSecondFactor(s.principal.amr)) return c.redirect(returnTo, 302);
    // Nothing to show yet: set one up first (which counts as the second step for this session).
    if (!(await deps.mfa.hasFactor(s.principal.userId)))
      return c.redirect(withReturnTo(`${P}/account/totp`, returnTo), 302);
    return codePage(c, 'step-up', returnTo, null);
  });

  app.post(`${P}/step-up`, requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage }), stepUpWithCode);
}

/** A right code finishes a pending sign-in (password or provider first) and starts the session. */
async function finishWithCode(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const pending = await pendingOf(c);
  if (!pending) return expiredPage(c);
  const tooMany = await limited(c, 'sign-in');
  if (tooMany) return tooMany;
  const checked = await checkCode(c, pending.user, field((await formOf(c)).code));
  if (!checked.ok) return codePage(c, 'sign-in', '/', checked.error, checked.status, await hasPasskey(c, pending.user));
  // Single use: of two tabs finishing at once, one wins; the other starts again.
  if (!(await deps.store.consumeToken(pending.hash, 'mfa', new Date(deps.now())))) return expiredPage(c);
  c.header('set-cookie', clearCookie(pendingCookieName(deps), deps.cookies.secure), { append: true });
  await startSession(c, pending.user, pending.provider, { amr: withOtp(amrOf(pending.provider)) });
  audit(c, pending.provider === 'password' ? 'sign-in.success' : 'provider.login', {
    userId: pending.user.id,
    email: pending.user.email,
    detail: `${pending.provider} + ${checked.kind}`,
  });
  return c.redirect(afterSignIn(c, pending.returnTo), 303);
}

/** A right code raises a signed-in session to one made with a second factor. */
async function stepUpWithCode(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  const form = await formOf(c);
  const returnTo = safeReturnTo(form.return_to);
  const user = await deps.store.findUserById(s.principal.userId);
  if (!user) return c.redirect(`${deps.prefix}/sign-in`, 303);
  const tooMany = await limited(c, 'sign-in');
  if (tooMany) return tooMany;
  const checked = await checkCode(c, user, field(form.code));
  if (!checked.ok) return codePage(c, 'step-up', returnTo, checked.error, checked.status);
  // A new token for the stronger session: one stolen before the step-up gains nothing from it.
  await startSession(c, user, s.principal.provider, { amr: withOtp(s.principal.amr ?? amrOf(s.principal.provider)) });
  audit(c, 'mfa.step-up', { userId: user.id, email: user.email, detail: checked.kind });
  return c.redirect(returnTo, 303);
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
    if (tooMany)
      return c.json(
        { error: 'rate_limited', message: 'Too many attempts. Please wait a little before trying again.' },
        429,
      );
    const outcome = await verifyPasskeyForUser(c, pending.user, (await jsonBody(c))?.response);
    if (!outcome.ok) {
      audit(c, 'mfa.failure', {
        userId: pending.user.id,
        email: pending.user.email,
        detail: `passkey: ${outcome.reason}`,
      });
      const message =
        outcome.reason === 'unverified' ? UNVERIFIED : 'That passkey did not work. Try again, or enter a code.';
      return c.json({ error: 'passkey_refused', message }, outcome.reason === 'locked' ? 429 : 401);
    }
    if (!(await deps.store.consumeToken(pending.hash, 'mfa', new Date(deps.now()))))
      return c.json({ error: 'expired', message: 'This sign-in expired. Please start again.' }, 400);
    c.header('set-cookie', clearCookie(pendingCookieName(deps), deps.cookies.secure), { append: true });
    await startSession(c, pending.user, pending.provider, { amr: withFactor(amrOf(pending.provider), 'hwk') });
    audit(c, 'passkey.used', { userId: pending.user.id, email: pending.user.email, detail: outcome.passkey.name });
    audit(c, pending.provider === 'password' ? 'sign-in.success' : 'provider.login', {
      userId: pending.user.id,
      email: pending.user.email,
      detail: `${pending.provider} + passkey`,
    });
    return c.json({ ok: true, redirect: afterSignIn(c, pending.returnTo) });
  });
}
