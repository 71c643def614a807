// The OAuth authorization endpoint (docs/architecture.md#oauth): GET checks the request and shows the
// consent page unless consent was given, POST takes the user's decision. The request rules are
// oauth/authorize.ts's; this file only turns HTTP into calls to them.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { originOf, resourcesOf, whenConfigured } from './oauth-http.js';
import { PAGE_CSP } from '../security/headers.js';
import {
  answerRedirect,
  AUTHORIZE_PARAMS,
  checkAuthorization,
  consentCovers,
  errorRedirect,
  formActionFor,
  redirectHost,
  type AuthorizeParams,
  type AuthorizeRequest,
} from '../oauth/authorize.js';
import { verifiedByDeployment } from '../oauth/clients.js';
import { OAuthError } from '../oauth/errors.js';
import { issuerOf } from '../oauth/metadata.js';
import type { OAuthTokenService } from '../oauth/tokens.js';
import { CimdError, isCimdClientId, resolveClient } from '../oauth/cimd.js';
import type { OAuthClient } from '../store/types.js';

/** The authorization endpoint: GET checks the request and asks for consent (unless given), POST takes the
 *  decision. */
export function mountAuthorization(app: Hono<AuthEnv>, deps: AuthServices, tokens: OAuthTokenService): void {
  const P = deps.prefix;
  app.get(`${P}/oauth/authorize`, whenConfigured(), async (c) => {
    const query = new URL(c.req.url).searchParams;
    const checked = await check(
      c,
      paramsOf((k) => query.getAll(k)),
    );
    if ('page' in checked) return errorPage(c, 400, 'This sign-in link does not work', checked.page);
    if ('redirect' in checked) return c.redirect(checked.redirect, 302);
    const s = c.get('session');
    if (!s) {
      const self = new URL(c.req.url);
      return c.redirect(`${P}/sign-in?return_to=${encodeURIComponent(self.pathname + self.search)}`, 302);
    }
    const req = checked.ok;
    const consent = await deps.store.findOAuthConsent(s.principal.userId, req.client.id, req.resourceUrl);
    if (consent && consentCovers(consent.scopes, req.scopes)) return c.redirect(await approve(c, tokens, req), 302);
    return consentPage(c, req, query);
  });

  app.post(
    `${P}/oauth/authorize`,
    whenConfigured(),
    requireSession({ redirect: 303 }),
    csrf({ refuse: formExpiredPage }),
    (c) => decide(c, tokens),
  );
}

/** The consent form's answer: allow (remembered, then a code) or deny (access_denied to the client). */
async function decide(c: AuthContext, tokens: OAuthTokenService): Promise<Response> {
  const { store, now, prefix } = c.var.deps;
  const form = await formOf(c);
  const checked = await check(
    c,
    paramsOf((k) => (typeof form[k] === 'string' ? [form[k] as string] : [])),
  );
  if ('page' in checked) return errorPage(c, 400, 'This sign-in link does not work', checked.page);
  if ('redirect' in checked) return c.redirect(checked.redirect, 303);
  const req = checked.ok;
  const s = signedIn(c);
  if (field(form.decision) !== 'allow') {
    audit(c, 'oauth.denied', { userId: s.principal.userId, detail: `${req.client.id} ${req.resourceUrl}` });
    return c.redirect(
      errorRedirect(
        req.redirectUri,
        new OAuthError('access_denied', 'the user did not allow access'),
        req.state,
        issuerOf(originOf(c), prefix),
      ),
      303,
    );
  }
  await store.saveOAuthConsent({
    userId: s.principal.userId,
    clientId: req.client.id,
    resource: req.resourceUrl,
    scopes: req.scopes.join(' '),
    createdAt: new Date(now()),
  });
  audit(c, 'oauth.consent', {
    userId: s.principal.userId,
    detail: `${req.client.id} ${req.resourceUrl} [${req.scopes.join(' ')}]`,
  });
  return c.redirect(await approve(c, tokens, req), 303);
}

function paramsOf(values: (k: string) => string[]): { params: AuthorizeParams; repeated: string[] } {
  const params: AuthorizeParams = {};
  const repeated: string[] = [];
  for (const k of AUTHORIZE_PARAMS) {
    const v = values(k);
    if (v.length > 1) repeated.push(k);
    if (v.length && v[0] !== '') params[k] = v[0];
  }
  return { params, repeated };
}

function check(c: AuthContext, { params, repeated }: { params: AuthorizeParams; repeated: string[] }) {
  const { prefix } = c.var.deps;
  return checkAuthorization(params, repeated, {
    origin: originOf(c),
    prefix,
    resources: resourcesOf(c),
    findClient: (id) => findClient(c, id),
  });
}

/** A registered client, or a Client ID Metadata Document fetched behind the SSRF fences (counted like
 *  registrations). */
async function findClient(c: AuthContext, id: string): Promise<OAuthClient | string | null> {
  const { store, now, oauthCimd } = c.var.deps;
  if (isCimdClientId(id)) {
    const cached = await store.findOAuthClient(id);
    const fresh = cached?.cachedUntil && cached.cachedUntil.getTime() > now();
    if (!fresh && (await limited(c, 'oauth-register')))
      return 'Too many new applications from your network. Please wait a little and try again.';
  }
  try {
    return await resolveClient(store, id, new Date(now()), oauthCimd ?? { allowLoopback: false });
  } catch (err) {
    if (!(err instanceof CimdError)) throw err;
    return `The application's metadata document at ${new URL(id).host} cannot be used: ${err.message}.`;
  }
}

/** Issues the code and builds the answer's redirect (code, state, iss). */
async function approve(c: AuthContext, tokens: OAuthTokenService, req: AuthorizeRequest): Promise<string> {
  const { store, now, prefix } = c.var.deps;
  const s = signedIn(c);
  const code = await tokens.issueCode(
    { clientId: req.client.id, userId: s.principal.userId, resource: req.resourceUrl, scopes: req.scopes },
    req.redirectUri,
    req.codeChallenge,
  );
  await store.touchOAuthClient(req.client.id, new Date(now()));
  return answerRedirect(req.redirectUri, { code, state: req.state, iss: issuerOf(originOf(c), prefix) });
}

function consentPage(c: AuthContext, req: AuthorizeRequest, query: URLSearchParams): Response {
  // Browsers apply form-action to the redirect that follows the POST: allow the client's address too.
  c.header(
    'content-security-policy',
    PAGE_CSP.replace("form-action 'self'", `form-action ${formActionFor(req.redirectUri)}`),
  );
  const params = AUTHORIZE_PARAMS.flatMap((name) => (query.get(name) ? [{ name, value: query.get(name)! }] : []));
  return page(c, 'oauth-consent', `Allow ${req.client.name}?`, {
    csrf: csrfToken(c),
    user: signedIn(c).principal,
    clientName: req.client.name,
    unverified: !verifiedByDeployment(req.client),
    clientHost: req.client.kind === 'cimd' ? new URL(req.client.id).host : null,
    redirectHost: redirectHost(req.redirectUri),
    resourceName: req.resource.name,
    resourceUrl: req.resourceUrl,
    scopes: req.scopes,
    params,
  });
}
