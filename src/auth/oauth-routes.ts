// Gatehouse as the OAuth 2.1 authorization server for its MCP resources (docs/architecture.md#oauth): the
// discovery documents, token, revocation and registration; the authorization endpoint with its consent page
// is oauth-authorize-routes.ts. Each protocol rule lives in its own module (authorize.ts, token.ts, clients.ts,
// metadata.ts, pkce.ts); this file only turns HTTP into calls to them. Nothing here answers while no MCP
// resource is set, except the device grant (device-routes.ts) and the token and revocation endpoints it needs.
import { doneNotice, doneRedirect } from './admin-done.js';
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireAdmin, requireSession, signedIn } from './middleware/session.js';
import { connectedApps } from '../oauth/connected.js';
import { stamp } from './views.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { parseRegistration, registerClient, registrationResponse } from '../oauth/clients.js';
import { NO_STORE, OAuthError, oauthErrorResponse } from '../oauth/errors.js';
import {
  authorizationServerMetadata,
  authorizationServerPaths,
  protectedResourceMetadata,
  resourceOfMetadataPath,
} from '../oauth/metadata.js';
import { revokeRequest, tokenRequest, tokenResponse, type TokenContext, type TokenParams } from '../oauth/token.js';
import type { OAuthTokenService } from '../oauth/tokens.js';
import { mountDeviceGrant } from './device-routes.js';
import { mountAuthorization } from './oauth-authorize-routes.js';
import { metadataContext, openCors, resourcesOf, whenConfigured } from './oauth-http.js';

const OAUTH_DONE = { 'revoke-oauth': (who: string) => `Revoked the OAuth client “${who}” for everyone.` };

export function mountOAuth(app: Hono<AuthEnv>, deps: AuthServices): void {
  const tokens = deps.oauthTokens;
  mountDeviceGrant(app, deps);
  mountDiscovery(app, deps.prefix);
  mountAuthorization(app, deps, tokens);
  mountTokenEndpoints(app, deps.prefix, tokens);
  mountConnectedAppRevoke(app, deps.prefix, tokens);
  mountAdminConsole(app, deps, tokens);
  mountRegistration(app, deps);
}

/** The metadata documents of the protected resources and of the authorization server. */
function mountDiscovery(app: Hono<AuthEnv>, P: string): void {
  app.on(['GET', 'OPTIONS'], '/.well-known/oauth-protected-resource/*', whenConfigured(), openCors(), (c) => {
    const r = resourceOfMetadataPath(c.req.path, resourcesOf(c));
    if (!r) return c.json({ error: 'not_found' }, 404);
    c.header('cache-control', 'public, max-age=300');
    return c.json(protectedResourceMetadata(metadataContext(c), r));
  });
  for (const path of authorizationServerPaths(P)) {
    app.on(['GET', 'OPTIONS'], path, whenConfigured(), openCors(), (c) => {
      c.header('cache-control', 'public, max-age=300');
      return c.json(authorizationServerMetadata(metadataContext(c), path.includes('openid-configuration')));
    });
  }
}

/** Token and revocation also serve the device grant's whole-app tokens (RFC 8628 §3.4), resource or
 *  not: no whenConfigured. */
function mountTokenEndpoints(app: Hono<AuthEnv>, P: string, tokens: OAuthTokenService): void {
  app.on(['POST', 'OPTIONS'], `${P}/oauth/token`, openCors(), async (c) => {
    const form = await formOf(c);
    const params = Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === 'string')) as TokenParams;
    try {
      const issued = await tokenRequest(params, tokenContext(c, tokens));
      return c.json(tokenResponse(issued), 200, NO_STORE);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      // RFC 6749 §5.2: a client that authenticated in the Authorization header is told so with a 401.
      if (err.code !== 'invalid_client' || !c.req.header('authorization')) return oauthErrorResponse(err);
      const res = oauthErrorResponse(new OAuthError(err.code, err.description, 401));
      res.headers.set('www-authenticate', 'Basic realm="gatehouse"');
      return res;
    }
  });

  app.on(['POST', 'OPTIONS'], `${P}/oauth/revoke`, openCors(), async (c) => {
    const form = await formOf(c);
    try {
      const revoked = await revokeRequest(
        { token: stringOr(form.token), client_id: stringOr(form.client_id) },
        tokenContext(c, tokens),
      );
      if (revoked)
        audit(c, 'oauth.revoked', { userId: revoked.userId, detail: `${revoked.clientId} (revocation endpoint)` });
      return c.body(null, 200, NO_STORE);
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(err);
      throw err;
    }
  });
}

/** "Connected apps" on the account page: the user ends a client's access (every token, and the consent). */
function mountConnectedAppRevoke(app: Hono<AuthEnv>, P: string, tokens: OAuthTokenService): void {
  app.post(
    `${P}/account/connected/revoke`,
    requireSession({ redirect: 303 }),
    csrf({ refuse: formExpiredPage }),
    async (c) => {
      const s = signedIn(c);
      const clientId = field((await formOf(c)).client_id);
      if (clientId) {
        const ended = await tokens.revokeGrant(s.principal.userId, clientId);
        audit(c, 'oauth.revoked', {
          userId: s.principal.userId,
          detail: `${clientId.slice(0, 300)} by the user (${ended} tokens)`,
        });
      }
      return c.redirect(`${P}/account`, 303);
    },
  );
}

/** The admin's view: every client and whom it acts for; Revoke removes a client for everyone. */
function mountAdminConsole(app: Hono<AuthEnv>, deps: AuthServices, tokens: OAuthTokenService): void {
  const P = deps.prefix;
  const adminOnly = requireAdmin({ prefix: P });
  // Revoke is asked first on the console's confirm page (auth/admin.ts, action revoke-oauth), which posts here.
  app.get(`${P}/admin/oauth`, adminOnly, (c) => adminPage(c, doneNotice(c, signedIn(c).sessionId, OAUTH_DONE)));
  app.post(`${P}/admin/oauth/revoke`, adminOnly, csrf({ refuse: formExpiredPage }), async (c) => {
    const clientId = field((await formOf(c)).client_id);
    const client = clientId ? await deps.store.findOAuthClient(clientId) : null;
    if (!client || !(await tokens.revokeClient(client.id)))
      return errorPage(c, 404, 'No such client', 'That OAuth client does not exist or is already revoked.');
    audit(c, 'oauth.revoked', {
      userId: signedIn(c).principal.userId,
      detail: `${client.id.slice(0, 300)} for everyone, by an admin`,
    });
    return doneRedirect(c, signedIn(c).sessionId, `${P}/admin/oauth`, 'revoke-oauth', client.name);
  });
}

/** Dynamic client registration (unless GATEHOUSE_OAUTH_DCR=off), rate-limited per network. */
function mountRegistration(app: Hono<AuthEnv>, deps: AuthServices): void {
  app.on(['POST', 'OPTIONS'], `${deps.prefix}/oauth/register`, whenConfigured(), openCors(), async (c) => {
    if (deps.oauthDcr === false)
      return oauthErrorResponse(
        new OAuthError('access_denied', 'client registration is switched off here (GATEHOUSE_OAUTH_DCR=off)', 403),
      );
    const tooMany = await limited(c, 'oauth-register');
    if (tooMany)
      return c.json({ error: 'rate_limited' }, 429, { 'retry-after': tooMany.headers.get('retry-after') ?? '60' });
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return oauthErrorResponse(new OAuthError('invalid_client_metadata', 'the body must be JSON'));
    }
    try {
      const client = await registerClient(deps.store, parseRegistration(body), new Date(deps.now()));
      audit(c, 'oauth.client-registered', { detail: `${client.id} "${client.name}"` });
      return c.json(registrationResponse(client), 201, NO_STORE);
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(err);
      throw err;
    }
  });
}

async function adminPage(c: AuthContext, notice: string | null): Promise<Response> {
  const { store } = c.var.deps;
  const [clients, apps] = await Promise.all([store.listOAuthClients(), connectedApps(store)]);
  const emails = new Map<string, string>();
  for (const id of new Set(apps.map((a) => a.userId))) emails.set(id, (await store.findUserById(id))?.email ?? id);
  return page(c, 'admin-oauth', 'Connected apps', {
    csrf: csrfToken(c),
    notice,
    clients: clients.map((cl) => ({
      id: cl.id,
      name: cl.name,
      kind: cl.kind,
      lastUsedAt: cl.lastUsedAt ? stamp(cl.lastUsedAt) : null,
      grants: apps
        .filter((a) => a.clientId === cl.id)
        .map((a) => ({ email: emails.get(a.userId)!, resource: a.resource, scopes: a.scopes })),
    })),
  });
}

function tokenContext(c: AuthContext, tokens: OAuthTokenService): TokenContext {
  const { store, now } = c.var.deps;
  return {
    store,
    tokens,
    now: () => new Date(now()),
    onReuse: (t) =>
      audit(c, t.kind === 'code' ? 'oauth.code-reused' : 'oauth.refresh-reused', {
        userId: t.userId,
        detail: `${t.clientId}: a used ${t.kind === 'code' ? 'code' : 'refresh token'} came back; its grant is revoked`,
      }),
    onIssue: (grant, t) =>
      audit(c, 'oauth.token-issued', { userId: t.userId, detail: `${t.clientId} ${grant} ${t.resource}` }),
  };
}

const stringOr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
