// Passkeys: the account page that lists, adds, renames and removes them, and the JSON endpoints the
// browser script (views/assets/passkeys.js) calls for the two WebAuthn ceremonies — adding a passkey,
// and signing in with one alone (no email, no password). The ceremonies themselves are in webauthn.ts.
//
// The JSON endpoints take their CSRF token in X-CSRF-Token and accept only a same-origin request
// with a JSON body (which a cross-site form cannot send without a refused preflight).
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { startSession } from './start-session.js';
import { describeAgent } from './agents.js';
import { jsonBody, jsonCsrf, jsonError } from './json.js';
import { stamp, type PasskeyRow } from './views.js';
import {
  authenticationOptions,
  passkeyName,
  registerPasskey,
  registrationOptions,
  relyingParty,
  UNVERIFIED,
  verifyAssertion,
  type AssertionFailure,
} from './webauthn.js';
import { safeReturnTo } from '../security/redirect.js';
import { reauthMessage, reauthUnlessRecent, signedInRecently } from './recent-sign-in.js';
import type { LimitKind } from '../security/rate-limit.js';
import type { Passkey } from '../store/types.js';

/** The endpoints the sign-in page's passkey button calls; null when passkeys cannot work at this address. */
export function passkeySignInLinks(c: AuthContext): { optionsUrl: string; verifyUrl: string } | null {
  if (relyingParty(c).unavailable) return null;
  const P = c.var.deps.prefix;
  return { optionsUrl: `${P}/passkeys/sign-in/options`, verifyUrl: `${P}/passkeys/sign-in/verify` };
}

const PASSKEY_CHANGE = 'A passkey is a way into your account, so adding, renaming or removing one';
const REAUTH_MESSAGE = reauthMessage('Adding, renaming or removing a passkey');

export function mountPasskeys(app: Hono<AuthEnv>, deps: AuthServices): void {
  const base = `${deps.prefix}/account/passkeys`;
  mountPasskeyRegistration(app, deps, base);
  mountPasskeyManagement(app, deps, base);
  mountPasskeySignIn(app, deps);
}

/** The account page and adding a passkey (the JSON ceremony passkeys.js runs). */
function mountPasskeyRegistration(app: Hono<AuthEnv>, deps: AuthServices, base: string): void {
  const signedInJson = [requireSession({ json: true }), jsonCsrf(true)] as const;

  app.get(base, requireSession({ redirect: 302, returnTo: base }), (c) =>
    passkeysPage(c, noticeOf(c.req.query('done'))),
  );

  // The add form posts here only if passkeys.js did not take it over (it is hidden until the script runs).
  app.post(base, (c) => c.redirect(base, 303));

  app.post(`${base}/options`, ...signedInJson, async (c) => {
    const user = await deps.store.findUserById(signedIn(c).principal.userId);
    if (!user) return jsonError(c, 401, 'unauthenticated', 'Please sign in again.');
    if (relyingParty(c).unavailable) return jsonError(c, 400, 'unavailable', relyingParty(c).unavailable!);
    if (!(await signedInRecently(c))) return jsonError(c, 403, 'reauth', REAUTH_MESSAGE);
    return c.json(await registrationOptions(c, user));
  });

  app.post(`${base}/verify`, ...signedInJson, async (c) => {
    const body = await jsonBody(c);
    const user = await deps.store.findUserById(signedIn(c).principal.userId);
    if (!user) return jsonError(c, 401, 'unauthenticated', 'Please sign in again.');
    if (!(await signedInRecently(c))) return jsonError(c, 403, 'reauth', REAUTH_MESSAGE);
    const name = passkeyName(body?.name, defaultName(c));
    const outcome = await registerPasskey(c, user, body?.response, name);
    if (!outcome.ok) {
      audit(c, 'passkey.refused', { userId: user.id, detail: `register: ${outcome.reason}` });
      if (outcome.reason === 'duplicate')
        return jsonError(c, 409, 'duplicate', 'That passkey is already on an account.');
      if (outcome.reason === 'challenge')
        return jsonError(c, 400, 'challenge', 'That took too long, or was started in another tab. Please try again.');
      return jsonError(c, 400, 'invalid', 'That passkey could not be added. Please try again.');
    }
    audit(c, 'passkey.added', { userId: user.id, detail: outcome.passkey.name });
    return c.json({ ok: true, redirect: `${base}?done=added` });
  });
}

/** Renaming and removing (removal asks first). */
function mountPasskeyManagement(app: Hono<AuthEnv>, deps: AuthServices, base: string): void {
  const signedInForm = [requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage })] as const;

  // A rename too: a thief's "Old phone — remove me" on the owner's only passkey is a trap for the owner.
  app.post(`${base}/rename`, ...signedInForm, async (c) => {
    const s = signedIn(c);
    if (!(await signedInRecently(c))) return passkeysPage(c, null, REAUTH_MESSAGE, 403);
    const form = await formOf(c);
    const id = field(form.id);
    const name = passkeyName(form.name, '');
    if (!name) return passkeysPage(c, null, 'Give the passkey a name.', 400);
    if (!(await deps.store.renamePasskey(s.principal.userId, id, name)))
      return passkeysPage(c, null, 'There is no such passkey on your account.', 404);
    audit(c, 'passkey.renamed', { userId: s.principal.userId, detail: name });
    return c.redirect(`${base}?done=renamed`, 303);
  });

  // Removing asks first: a passkey gone may be the only way this person signs in.
  app.get(`${base}/remove`, requireSession({ redirect: 302, returnTo: base }), async (c) => {
    if (!(await signedInRecently(c))) return passkeysPage(c, null, REAUTH_MESSAGE, 403);
    const key = await ownPasskey(c, c.req.query('id'));
    if (!key) return errorPage(c, 404, 'Passkey not found', 'There is no such passkey on your account.');
    return page(c, 'admin-confirm', 'Remove this passkey?', {
      csrf: csrfToken(c),
      heading: 'Remove this passkey?',
      button: 'Remove passkey',
      danger: true,
      effect:
        'You will no longer be able to sign in with it. The copy on your device stays ' +
        'there until you delete it in your device’s settings.',
      subject: { title: key.name, badge: 'passkey', detail: `Added ${stamp(key.createdAt).text}` },
      action: `${base}/remove?id=${encodeURIComponent(key.id)}`,
      cancel: base,
    });
  });

  app.post(`${base}/remove`, ...signedInForm, async (c) => {
    const s = signedIn(c);
    if (!(await signedInRecently(c))) return passkeysPage(c, null, REAUTH_MESSAGE, 403);
    const id = c.req.query('id') ?? field((await formOf(c)).id);
    if (!(await deps.store.deletePasskey(s.principal.userId, id)))
      return errorPage(c, 404, 'Passkey not found', 'There is no such passkey on your account.');
    audit(c, 'passkey.removed', { userId: s.principal.userId });
    return c.redirect(`${base}?done=removed`, 303);
  });
}

/** "Sign in with a passkey": no email, no password (discoverable credentials). */
function mountPasskeySignIn(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.post(`${P}/passkeys/sign-in/options`, jsonCsrf(false), async (c) => {
    const tooMany = await limitedJson(c, 'passkey');
    if (tooMany) return tooMany;
    if (relyingParty(c).unavailable) return jsonError(c, 400, 'unavailable', relyingParty(c).unavailable!);
    return c.json(await authenticationOptions(c));
  });

  app.post(`${P}/passkeys/sign-in/verify`, jsonCsrf(false), async (c) => {
    const tooMany = await limitedJson(c, 'sign-in');
    if (tooMany) return tooMany;
    const body = await jsonBody(c);
    const outcome = await verifyAssertion(c, body?.response, null);
    if (!outcome.ok) {
      audit(c, 'passkey.refused', { userId: outcome.user?.id, email: outcome.user?.email, detail: outcome.reason });
      if (outcome.reason === 'locked')
        audit(c, 'sign-in.failure', { userId: outcome.user?.id, email: outcome.user?.email, detail: 'locked' });
      return refusal(c, outcome.reason, outcome.user?.email ?? null);
    }
    const { user, passkey } = outcome;
    // As for a password: with mail on, an unconfirmed address does not sign in (sign-in.ts).
    if (deps.mailer() && !user.emailVerified) {
      audit(c, 'sign-in.unverified', { userId: user.id, email: user.email });
      return jsonError(
        c,
        403,
        'unverified',
        'Confirm your email address first: sign in with your password to get a new link.',
      );
    }
    await startSession(c, user, 'passkey');
    audit(c, 'passkey.used', { userId: user.id, email: user.email, detail: passkey.name });
    audit(c, 'sign-in.success', { userId: user.id, email: user.email, detail: 'passkey' });
    return c.json({
      ok: true,
      redirect: safeReturnTo(typeof body?.return_to === 'string' ? body.return_to : undefined),
    });
  });
}

async function refusal(c: AuthContext, reason: AssertionFailure, email: string | null): Promise<Response> {
  if (reason === 'challenge')
    return jsonError(c, 400, 'challenge', 'That took too long, or was started in another tab. Please try again.');
  if (reason === 'unverified') return jsonError(c, 401, 'unverified', UNVERIFIED);
  if (reason === 'unknown-passkey')
    return jsonError(
      c,
      401,
      'unknown_passkey',
      'This passkey is not registered here (it may have been removed). Sign in another way.',
    );
  if (reason === 'locked' && email) {
    const minutes = Math.max(1, Math.ceil((await c.var.deps.lockout.lockedFor(email)) / 60_000));
    return jsonError(c, 401, 'locked', `Too many attempts: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
  }
  return jsonError(c, 401, 'refused', 'That passkey was not accepted.');
}

async function passkeysPage(
  c: AuthContext,
  notice: string | null,
  error: string | null = null,
  status = 200,
): Promise<Response> {
  const s = signedIn(c);
  const { prefix, store } = c.var.deps;
  const keys = await store.listPasskeys(s.principal.userId);
  const links = { optionsUrl: `${prefix}/account/passkeys/options`, verifyUrl: `${prefix}/account/passkeys/verify` };
  return page(
    c,
    'passkeys',
    'Passkeys',
    {
      csrf: csrfToken(c),
      user: s.principal,
      passkeys: keys.map((k) => rowOf(prefix, k)),
      unavailable: relyingParty(c).unavailable,
      defaultName: defaultName(c),
      ...links,
      notice,
      error,
      reauth: await reauthUnlessRecent(c, PASSKEY_CHANGE, `${prefix}/account/passkeys`),
    },
    status,
  );
}

function rowOf(prefix: string, k: Passkey): PasskeyRow {
  return {
    id: k.id,
    name: k.name,
    createdAt: stamp(k.createdAt),
    lastUsedAt: k.lastUsedAt ? stamp(k.lastUsedAt) : null,
    kind: kindOf(k.transports),
    removeHref: `${prefix}/account/passkeys/remove?id=${encodeURIComponent(k.id)}`,
  };
}

/** What the transports say about where the passkey lives, in words. */
function kindOf(transports: string[]): string {
  if (transports.includes('internal') || transports.includes('hybrid')) return 'Device or password manager';
  if (transports.some((t) => t === 'usb' || t === 'nfc' || t === 'ble')) return 'Security key';
  return 'Passkey';
}

/** "Chrome on Linux": what a passkey added now is called unless its owner names it. */
function defaultName(c: AuthContext): string {
  return describeAgent(c.get('userAgent')) ?? 'Passkey';
}

const NOTICES: Record<string, string> = {
  added: 'Passkey added. You can now sign in with it.',
  renamed: 'Passkey renamed.',
  removed: 'Passkey removed.',
};
const noticeOf = (done: string | undefined): string | null => (done ? (NOTICES[done] ?? null) : null);

async function ownPasskey(c: AuthContext, id: string | undefined): Promise<Passkey | null> {
  if (!id) return null;
  const key = await c.var.deps.store.findPasskey(id);
  return key && key.userId === signedIn(c).principal.userId ? key : null;
}

async function limitedJson(c: AuthContext, kind: LimitKind): Promise<Response | null> {
  const verdict = await c.var.deps.limits.check(kind, c.get('ip'));
  if (verdict.ok) return null;
  audit(c, 'rate-limited', { detail: kind });
  c.header('retry-after', String(verdict.retryAfterSec));
  return jsonError(c, 429, 'rate_limited', 'Too many attempts. Please wait a little before trying again.');
}
