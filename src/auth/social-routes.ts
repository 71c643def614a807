// Social login: /auth/oauth/:provider/start and /callback. Authorization code flow with PKCE, state and
// nonce (openid-client does the protocol checks; we check the ID token's signature ourselves, see
// id-token.ts). The in-flight transaction lives in a short-lived encrypted cookie, so any replica can
// finish what another started. Accounts are keyed on (issuer, subject); an IdP account is linked to an
// existing email account only when the IdP says the email is verified AND the local account has
// confirmed it too (architecture.md#accounts; accounts.ts).
import { createHmac } from 'node:crypto';
import type { Hono } from 'hono';
import type * as Oidc from 'openid-client';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { errorPage } from './pages.js';
import { finishSignIn } from './finish-sign-in.js';
import { seal, unseal } from '../config/secrets.js';
import { clearCookie, readCookie } from '../session/cookies.js';
import { safeReturnTo } from '../security/redirect.js';
import { configurationFor, loadOidc, PRESETS, type ProviderEntry } from '../oidc/providers.js';
import { createIdTokenVerifier, IdTokenRejected } from '../oidc/id-token.js';
import { accountFor, type Identity } from './social-accounts.js';
import { githubProfile, oidcProfile } from '../oidc/profile.js';
import { csrf } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { formExpiredPage } from './pages.js';
import { linkToAccount } from './account-identities.js';

const TRANSACTION_TTL_MS = 10 * 60_000;

interface Transaction {
  p: string; // provider name
  s: string; // state
  n: string; // nonce
  v: string; // PKCE verifier
  r: string; // return_to
  e: number; // expires at (ms)
  l?: string; // link mode: the signed-in user the identity joins (auth/account-identities.ts)
}

/** What start and callback share: discovery results (cached per provider), the transaction cookie, ID token checks. */
interface Flow {
  deps: AuthServices;
  cookieName: string;
  find(name: string): ProviderEntry | undefined;
  configOf(p: ProviderEntry): Promise<Oidc.Configuration>;
  /** The key sealing the transaction cookie, derived from the current secret. */
  key(): Buffer;
  callbackUrl(p: ProviderEntry): string;
  /** openid-client leaves the signature of a token-endpoint ID token unchecked; we do not (id-token.ts). */
  verifyIdToken(p: ProviderEntry, config: Oidc.Configuration, idToken: string | undefined): Promise<void>;
}

export function mountSocialLogin(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const flow = createFlow(deps);
  app.get(`${P}/oauth/:provider/start`, startHandler(flow));
  const callback = callbackHandler(flow);
  app.get(`${P}/oauth/:provider/callback`, callback);
  app.post(`${P}/oauth/:provider/callback`, callback);
  // Link mode (docs/architecture.md#devices): a POST with CSRF from the account page, so no other site
  // can start it; the transaction names the user, and the callback joins the identity instead of signing in.
  app.post(
    `${P}/account/identities/link`,
    requireSession({ redirect: 303 }),
    csrf({ refuse: formExpiredPage }),
    async (c) => {
      const p = flow.find(String((await c.req.parseBody()).provider ?? ''));
      return p ? beginFlow(c, flow, p, `${P}/account`, signedIn(c).principal.userId) : unknownProvider(c);
    },
  );
}

function createFlow(deps: AuthServices): Flow {
  const configs = new Map<string, { key: string; config: Promise<Oidc.Configuration> }>();
  const idTokens = createIdTokenVerifier();
  return {
    deps,
    cookieName: deps.cookies.secure ? '__Host-gatehouse_oauth' : 'gatehouse_oauth',
    find: (name) => deps.providers().find((p) => p.name === name),
    configOf(p) {
      const key = `${p.kind} ${p.issuer} ${p.clientId} ${p.clientSecret}`;
      const cached = configs.get(p.name);
      if (cached && cached.key === key) return cached.config;
      const config = configurationFor(p);
      config.catch(() => configs.delete(p.name)); // retry discovery next time
      configs.set(p.name, { key, config });
      return config;
    },
    key: () => createHmac('sha256', deps.settings.current().secret).update('gatehouse oauth transaction').digest(),
    callbackUrl: (p) => `${deps.linkOrigin()}${deps.prefix}/oauth/${p.name}/callback`,
    async verifyIdToken(p, config, idToken) {
      if (!idToken) throw new IdTokenRejected('no ID token in the token response');
      const meta = config.serverMetadata();
      await idTokens.verify(
        idToken,
        { provider: p.name, issuer: meta.issuer, audience: p.clientId, jwksUri: meta.jwks_uri },
        deps.now(),
      );
    },
  };
}

const unknownProvider = (c: AuthContext) =>
  errorPage(c, 404, 'Unknown sign-in provider', 'This app does not offer that way to sign in.');
const fail = (c: AuthContext, message: string, status = 400) =>
  errorPage(c, status, 'Sign-in did not complete', message);

function transactionCookie(flow: Flow, value: string, p: ProviderEntry, maxAgeSec: number): string {
  const { secure } = flow.deps.cookies;
  // Apple returns with a cross-site POST, which a SameSite=Lax cookie would not accompany.
  const sameSite = PRESETS[p.kind].formPost && secure ? 'None' : 'Lax';
  return (
    `${flow.cookieName}=${value}; Path=/; HttpOnly; SameSite=${sameSite}; ` +
    `Max-Age=${maxAgeSec}${secure ? '; Secure' : ''}`
  );
}

function startHandler(flow: Flow) {
  return async function startSocialLogin(c: AuthContext): Promise<Response> {
    const p = flow.find(c.req.param('provider') ?? '');
    if (!p) return unknownProvider(c);
    return beginFlow(c, flow, p, safeReturnTo(c.req.query('return_to')));
  };
}

/** The redirect to the provider, with the transaction sealed in a cookie; `linkTo` for link mode. */
async function beginFlow(
  c: AuthContext,
  flow: Flow,
  p: ProviderEntry,
  returnTo: string,
  linkTo?: string,
): Promise<Response> {
  const oidc = await loadOidc();
  let config: Oidc.Configuration;
  try {
    config = await flow.configOf(p);
  } catch (err) {
    flow.deps.log(`gatehouse: provider ${p.name}: discovery failed: ${(err as Error).message}`);
    return fail(c, `We could not reach ${p.name} right now. Please try again in a moment.`, 502);
  }
  const tx: Transaction = {
    p: p.name,
    s: oidc.randomState(),
    n: oidc.randomNonce(),
    v: oidc.randomPKCECodeVerifier(),
    r: returnTo,
    e: flow.deps.now() + TRANSACTION_TTL_MS,
    ...(linkTo ? { l: linkTo } : {}),
  };
  const params: Record<string, string> = {
    redirect_uri: flow.callbackUrl(p),
    scope: p.scopes ?? PRESETS[p.kind].scopes,
    state: tx.s,
    code_challenge: await oidc.calculatePKCECodeChallenge(tx.v),
    code_challenge_method: 'S256',
  };
  if (!PRESETS[p.kind].oauthOnly) params.nonce = tx.n;
  if (PRESETS[p.kind].formPost) params.response_mode = 'form_post';
  c.header('set-cookie', transactionCookie(flow, seal(JSON.stringify(tx), flow.key()), p, TRANSACTION_TTL_MS / 1000), {
    append: true,
  });
  return c.redirect(oidc.buildAuthorizationUrl(config, params).href, 302);
}

function callbackHandler(flow: Flow) {
  return async function finishSocialLogin(c: AuthContext): Promise<Response> {
    const p = flow.find(c.req.param('provider') ?? '');
    if (!p) return unknownProvider(c);
    c.header('set-cookie', clearCookie(flow.cookieName, flow.deps.cookies.secure), { append: true });
    const tx = readTransaction(c, flow);
    if (!tx || tx.p !== p.name || tx.e < flow.deps.now())
      return fail(c, 'Your sign-in attempt expired or came from another browser. Please start again.');

    // Parameters come in the query, or in the body for form_post; the URL is rebuilt on the public
    // origin, never from Host.
    const current = new URL(`${flow.callbackUrl(p)}`);
    const incoming = c.req.method === 'POST' ? await c.req.parseBody() : c.req.query();
    for (const [k, v] of Object.entries(incoming)) if (typeof v === 'string') current.searchParams.set(k, v);
    if (current.searchParams.has('error')) {
      return fail(
        c,
        current.searchParams.get('error') === 'access_denied'
          ? 'Sign-in was cancelled.'
          : `${p.name} refused the sign-in.`,
      );
    }
    const identity = await identify(c, flow, p, tx, current, incoming);
    if (!identity) return fail(c, `We could not confirm your ${p.name} sign-in. Please start again.`);
    if (tx.l) return linkToAccount(c, tx.l, identity);
    const user = await accountFor(c, identity);
    if (!('id' in user)) return fail(c, user.problem, user.status);
    const hasFactor = await flow.deps.mfa.hasFactor(user.id);
    // With a factor set the second step (auth/second-step.ts) finishes, and audits, the sign-in.
    if (!hasFactor) audit(c, 'provider.login', { userId: user.id, email: user.email, detail: p.name });
    return finishSignIn(c, user, p.name, tx.r, hasFactor);
  };
}

function readTransaction(c: AuthContext, flow: Flow): Transaction | null {
  const raw = readCookie(c.req.header('cookie'), flow.cookieName);
  try {
    return raw ? (JSON.parse(unseal(raw, flow.key())) as Transaction) : null;
  } catch {
    return null;
  }
}

/** The code exchanged for tokens and the profile read; null (logged, and audited for a bad ID token) when
 *  any check fails. */
async function identify(
  c: AuthContext,
  flow: Flow,
  p: ProviderEntry,
  tx: Transaction,
  current: URL,
  incoming: Record<string, unknown>,
): Promise<Identity | null> {
  try {
    const oidc = await loadOidc();
    const config = await flow.configOf(p);
    const issuer = config.serverMetadata().issuer;
    const oauthOnly = PRESETS[p.kind].oauthOnly;
    const tokens = await oidc.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: tx.v,
      expectedState: tx.s,
      ...(oauthOnly ? {} : { expectedNonce: tx.n, idTokenExpected: true }),
    });
    // GitHub is OAuth 2.0 only: no ID token, the profile comes from its API over TLS.
    if (!oauthOnly) await flow.verifyIdToken(p, config, tokens.id_token);
    const profile = oauthOnly
      ? await githubProfile(config, tokens.access_token)
      : await oidcProfile(config, tokens, incoming);
    return { p, issuer, profile, at: new Date(flow.deps.now()) };
  } catch (err) {
    flow.deps.log(`gatehouse: provider ${p.name}: callback refused: ${(err as Error).message}`);
    if (err instanceof IdTokenRejected) {
      audit(c, 'provider.token-refused', { detail: `${p.name}: ${err.message}`.slice(0, 300) });
    }
    return null;
  }
}
