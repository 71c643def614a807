// Social login: /auth/oauth/:provider/start and /callback. Authorization code flow with PKCE, state and
// nonce (openid-client does the protocol checks; we check the ID token's signature ourselves, see
// id-token.ts). The in-flight transaction lives in a short-lived encrypted cookie, so any replica can
// finish what another started. Accounts are keyed on (issuer, subject); an IdP account is linked to an
// existing email account only when the IdP says the email is verified AND the local account has
// confirmed it too (SPEC §6).
import { createHmac } from 'node:crypto';
import type { Hono } from 'hono';
import type * as Oidc from 'openid-client';
import type { AuthContext, AuthEnv, AuthServices } from '../auth/context.js';
import { audit } from '../auth/audit.js';
import { errorPage } from '../auth/pages.js';
import { startSession } from '../auth/start-session.js';
import { EMAIL_MESSAGES, isDomainAllowed, parseEmail } from '../auth/email.js';
import { seal, unseal } from '../config/secrets.js';
import { clearCookie, readCookie } from '../session/cookies.js';
import { safeReturnTo } from '../security/redirect.js';
import { isStoreError, type User } from '../store/types.js';
import { configurationFor, loadOidc, PRESETS, type ProviderEntry } from './providers.js';
import { createIdTokenVerifier, IdTokenRejected } from './id-token.js';

const TRANSACTION_TTL_MS = 10 * 60_000;

interface Transaction {
  p: string; // provider name
  s: string; // state
  n: string; // nonce
  v: string; // PKCE verifier
  r: string; // return_to
  e: number; // expires at (ms)
}

interface Profile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** Why no session was started, and with which status the refusal page answers. */
interface Refusal {
  problem: string;
  status: number;
}

export function mountSocialLogin(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const cookieName = deps.cookies.secure ? '__Host-gatehouse_oauth' : 'gatehouse_oauth';
  const configs = new Map<string, { key: string; config: Promise<Oidc.Configuration> }>();
  const idTokens = createIdTokenVerifier();
  const keyFor = () => createHmac('sha256', deps.settings.current().secret).update('gatehouse oauth transaction').digest();

  function configOf(p: ProviderEntry): Promise<Oidc.Configuration> {
    const key = `${p.kind} ${p.issuer} ${p.clientId} ${p.clientSecret}`;
    const cached = configs.get(p.name);
    if (cached && cached.key === key) return cached.config;
    const config = configurationFor(p);
    config.catch(() => configs.delete(p.name)); // retry discovery next time
    configs.set(p.name, { key, config });
    return config;
  }

  const find = (name: string) => deps.providers().find((p) => p.name === name);
  const callbackUrl = (p: ProviderEntry) => `${deps.linkOrigin()}${P}/oauth/${p.name}/callback`;
  const fail = (c: AuthContext, message: string, status = 400) => errorPage(c, status, 'Sign-in did not complete', message);

  function transactionCookie(value: string, p: ProviderEntry, maxAgeSec: number): string {
    // Apple returns with a cross-site POST, which a SameSite=Lax cookie would not accompany.
    const sameSite = PRESETS[p.kind].formPost && deps.cookies.secure ? 'None' : 'Lax';
    return `${cookieName}=${value}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSec}${deps.cookies.secure ? '; Secure' : ''}`;
  }

  app.get(`${P}/oauth/:provider/start`, async (c) => {
    const p = find(c.req.param('provider'));
    if (!p) return errorPage(c, 404, 'Unknown sign-in provider', 'This app does not offer that way to sign in.');
    const oidc = await loadOidc();
    let config: Oidc.Configuration;
    try {
      config = await configOf(p);
    } catch (err) {
      deps.log(`gatehouse: provider ${p.name}: discovery failed: ${(err as Error).message}`);
      return fail(c, `We could not reach ${p.name} right now. Please try again in a moment.`, 502);
    }
    const tx: Transaction = {
      p: p.name,
      s: oidc.randomState(),
      n: oidc.randomNonce(),
      v: oidc.randomPKCECodeVerifier(),
      r: safeReturnTo(c.req.query('return_to')),
      e: deps.now() + TRANSACTION_TTL_MS,
    };
    const params: Record<string, string> = {
      redirect_uri: callbackUrl(p),
      scope: p.scopes ?? PRESETS[p.kind].scopes,
      state: tx.s,
      code_challenge: await oidc.calculatePKCECodeChallenge(tx.v),
      code_challenge_method: 'S256',
    };
    if (!PRESETS[p.kind].oauthOnly) params.nonce = tx.n;
    if (PRESETS[p.kind].formPost) params.response_mode = 'form_post';
    c.header('set-cookie', transactionCookie(seal(JSON.stringify(tx), keyFor()), p, TRANSACTION_TTL_MS / 1000), { append: true });
    return c.redirect(oidc.buildAuthorizationUrl(config, params).href, 302);
  });

  const callback = async (c: AuthContext) => {
    const p = find(c.req.param('provider') ?? '');
    if (!p) return errorPage(c, 404, 'Unknown sign-in provider', 'This app does not offer that way to sign in.');
    c.header('set-cookie', clearCookie(cookieName, deps.cookies.secure), { append: true });
    const raw = readCookie(c.req.header('cookie'), cookieName);
    let tx: Transaction | null = null;
    try {
      tx = raw ? (JSON.parse(unseal(raw, keyFor())) as Transaction) : null;
    } catch {
      tx = null;
    }
    if (!tx || tx.p !== p.name || tx.e < deps.now()) return fail(c, 'Your sign-in attempt expired or came from another browser. Please start again.');

    // Parameters come in the query, or in the body for form_post; the URL is rebuilt on the public
    // origin, never from Host.
    const current = new URL(`${callbackUrl(p)}`);
    const incoming = c.req.method === 'POST' ? await c.req.parseBody() : c.req.query();
    for (const [k, v] of Object.entries(incoming)) if (typeof v === 'string') current.searchParams.set(k, v);
    if (current.searchParams.has('error')) {
      return fail(c, current.searchParams.get('error') === 'access_denied' ? 'Sign-in was cancelled.' : `${p.name} refused the sign-in.`);
    }

    let profile: Profile;
    let issuer: string;
    try {
      const oidc = await loadOidc();
      const config = await configOf(p);
      issuer = config.serverMetadata().issuer;
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: tx.v,
        expectedState: tx.s,
        ...(PRESETS[p.kind].oauthOnly ? {} : { expectedNonce: tx.n, idTokenExpected: true }),
      });
      // GitHub is OAuth 2.0 only: no ID token, the profile comes from its API over TLS.
      if (!PRESETS[p.kind].oauthOnly) await verifyIdToken(p, config, tokens.id_token);
      profile = PRESETS[p.kind].oauthOnly ? await githubProfile(config, tokens.access_token) : await oidcProfile(config, tokens, incoming);
    } catch (err) {
      deps.log(`gatehouse: provider ${p.name}: callback refused: ${(err as Error).message}`);
      if (err instanceof IdTokenRejected) {
        audit(c, 'provider.token-refused', { detail: `${p.name}: ${err.message}`.slice(0, 300) });
      }
      return fail(c, `We could not confirm your ${p.name} sign-in. Please start again.`);
    }

    const user = await accountFor(c, p, issuer, profile);
    if (!('id' in user)) return fail(c, user.problem, user.status);
    await startSession(c, user, p.name);
    audit(c, 'provider.login', { userId: user.id, email: user.email, detail: p.name });
    return c.redirect(tx.r, 303);
  };
  app.get(`${P}/oauth/:provider/callback`, callback);
  app.post(`${P}/oauth/:provider/callback`, callback);

  /** openid-client leaves the signature of a token-endpoint ID token unchecked; we do not (id-token.ts). */
  async function verifyIdToken(p: ProviderEntry, config: Oidc.Configuration, idToken: string | undefined): Promise<void> {
    if (!idToken) throw new IdTokenRejected('no ID token in the token response');
    const meta = config.serverMetadata();
    await idTokens.verify(idToken, { provider: p.name, issuer: meta.issuer, audience: p.clientId, jwksUri: meta.jwks_uri }, deps.now());
  }

  async function accountFor(c: AuthContext, p: ProviderEntry, issuer: string, profile: Profile): Promise<User | Refusal> {
    const now = new Date(deps.now());
    const linked = await deps.store.findIdentity(issuer, profile.subject);
    if (linked) {
      const user = await deps.store.findUserById(linked.userId);
      if (!user || user.disabled) return { problem: 'This account is disabled.', status: 403 };
      return user;
    }
    if (!profile.email) return { problem: `${p.name} did not share an email address, which this app needs.`, status: 403 };
    // The IdP's address may start a new account, so it passes the same checks as one typed at sign-up.
    const parsed = parseEmail(profile.email);
    if (!parsed.ok) return { problem: `${p.name} shared an email address this app cannot accept. ${EMAIL_MESSAGES[parsed.reason]}`, status: 403 };
    const email = parsed.email;
    const existing = await deps.store.findUserByEmail(email);
    if (existing) return linkExisting(c, p, issuer, profile, existing, now);
    const settings = deps.settings.current();
    if (settings.signUp === 'invite') return { problem: 'Sign-up is by invitation only.', status: 403 };
    if (settings.signUp === 'domains' && (!profile.emailVerified || !isDomainAllowed(email, settings.allowedDomains))) {
      return { problem: 'Sign-up is limited to approved email domains.', status: 403 };
    }
    let user: User;
    try {
      user = await deps.store.createUser({ email, name: (profile.name ?? email.split('@')[0] ?? email).slice(0, 100), role: 'member', passwordHash: null, emailVerified: profile.emailVerified }, now);
    } catch (err) {
      if (isStoreError(err, 'DUPLICATE')) return { problem: 'Please try again.', status: 403 }; // a concurrent sign-up of the same email won
      throw err;
    }
    await linkIdentity(p, issuer, profile, user.id, now);
    audit(c, 'sign-up', { userId: user.id, email, detail: p.name });
    return user;
  }

  /** An IdP account whose email matches a local account: linked only when BOTH sides proved the address.
   *  The IdP's word alone is not enough: anyone can sign up here with an address they do not own (no
   *  mail bound means it is never confirmed), and linking would hand the real owner's IdP sign-in to
   *  that squatter's account, whose password and sessions keep working. */
  async function linkExisting(c: AuthContext, p: ProviderEntry, issuer: string, profile: Profile, existing: User, now: Date): Promise<User | Refusal> {
    const refuse = (reason: string, refusal: Refusal): Refusal => {
      audit(c, 'provider.link-refused', { userId: existing.id, email: existing.email, detail: `${p.name}: ${reason}` });
      return refusal;
    };
    // Linking on an unverified IdP email would let anyone who types your address at the IdP take over.
    if (!profile.emailVerified) {
      return refuse('provider did not verify the email', { problem: `An account with ${existing.email} exists. Sign in with your password; ${p.name} has not verified this address.`, status: 403 });
    }
    if (existing.disabled) return { problem: 'This account is disabled.', status: 403 };
    if (!existing.emailVerified) {
      return refuse('local account email not confirmed', {
        problem: `An account with ${existing.email} already exists here, and its address has not been confirmed, so it cannot be joined to your ${p.name} sign-in. If the account is yours, sign in with your password and confirm your email address (or reset your password), then use ${p.name} again.`,
        status: 409,
      });
    }
    await linkIdentity(p, issuer, profile, existing.id, now);
    return existing;
  }

  async function linkIdentity(p: ProviderEntry, issuer: string, profile: Profile, userId: string, now: Date) {
    try {
      await deps.store.linkIdentity({ issuer, subject: profile.subject, provider: p.name, userId, email: profile.email, createdAt: now });
    } catch (err) {
      if (!isStoreError(err, 'DUPLICATE')) throw err; // linked concurrently: fine
    }
  }
}

async function oidcProfile(config: Oidc.Configuration, tokens: Oidc.TokenEndpointResponse & Oidc.TokenEndpointResponseHelpers, incoming: Record<string, unknown>): Promise<Profile> {
  const oidc = await loadOidc();
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  let email = typeof claims.email === 'string' ? claims.email : null;
  let verified = claims.email_verified === true || claims.email_verified === 'true';
  let name = typeof claims.name === 'string' ? claims.name : null;
  // The email is often only in userinfo, not the ID token.
  if ((!email || !name) && config.serverMetadata().userinfo_endpoint) {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    if (!email && typeof info.email === 'string') {
      email = info.email;
      verified = info.email_verified === true;
    }
    name ??= typeof info.name === 'string' ? info.name : null;
  }
  // Apple sends the name once, in the form body of the first sign-in.
  if (!name && typeof incoming.user === 'string') {
    try {
      const u = JSON.parse(incoming.user) as { name?: { firstName?: string; lastName?: string } };
      name = [u.name?.firstName, u.name?.lastName].filter(Boolean).join(' ') || null;
    } catch {
      /* ignore a malformed user field */
    }
  }
  return { subject: claims.sub, email, emailVerified: verified, name };
}

async function githubProfile(config: Oidc.Configuration, token: string): Promise<Profile> {
  const oidc = await loadOidc();
  const get = async (path: string) => {
    const res = await oidc.fetchProtectedResource(config, token, new URL(`https://api.github.com${path}`), 'GET', null, new Headers({ accept: 'application/vnd.github+json' }));
    if (!res.ok) throw new Error(`GitHub ${path}: ${res.status}`);
    return res.json();
  };
  const user = (await get('/user')) as { id: number; name?: string | null; login: string };
  const emails = (await get('/user/emails')) as Array<{ email: string; primary: boolean; verified: boolean }>;
  const primary = emails.find((e) => e.primary) ?? emails[0];
  return { subject: String(user.id), email: primary?.email ?? null, emailVerified: primary?.verified === true, name: user.name ?? user.login };
}
