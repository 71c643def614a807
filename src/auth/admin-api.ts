// The admin API (docs/architecture.md#devices): JSON under /auth/api/v1 for an administrator's bearer
// token (an API key, a personal token of an admin, or the device-grant token of `gatehouse login`:
// isDeviceToken below) or an admin's browser session — whose changes also need the CSRF token from
// GET /csrf in `X-CSRF-Token` and a same-origin request. Every error is {"error": CODE, "message":
// SENTENCE} with a stable CODE (ApiErrorCode in admin-api-shared.ts); docs/admin-api.md lists the routes.
// This module is the guard and the table of routes; the routes live by resource in admin-api-*.ts.
import { Hono, type MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { csrfToken } from './middleware/csrf.js';
import { apiError, caller, rememberCaller, type Caller } from './admin-api-shared.js';
import { mountGroupListing, mountUserChanges, mountUserListing, mountUserSessions } from './admin-api-users.js';
import { mountKeys, mountTokenSelfRevoke } from './admin-api-keys.js';
import { mountOAuthClients } from './admin-api-oauth.js';
import { isValidCsrfToken } from '../security/csrf.js';
import { readCookie } from '../session/cookies.js';
import { storedRule } from '../access/rules.js';
import { isStoreError } from '../store/types.js';
import type { ResolvedToken } from '../oauth/tokens.js';
import type { Identity } from '../admission/door.js';
import { CLI_CLIENT_ID } from '../oauth/device.js';

/** The scope that lets a scoped admin key use the admin API. */
export const ADMIN_SCOPE = 'gatehouse:admin';

export function mountAdminApi(app: Hono<AuthEnv>, deps: AuthServices): void {
  const api = new Hono<AuthEnv>();
  api.onError((err, c) => {
    if (isStoreError(err, 'UNAVAILABLE'))
      return apiError(c, 'unavailable', 'The user database is unreachable; try again in a moment.');
    deps.log(`gatehouse: ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
    return apiError(c, 'internal', 'Gatehouse hit an unexpected error.');
  });
  api.use('*', adminOnly(deps));
  mountRoutes(api, deps);
  api.all('*', (c) =>
    apiError(c, 'not_found', `There is no ${c.req.method} ${c.req.path} in the admin API (see docs/admin-api.md).`),
  );
  app.route(`${deps.prefix}/api/v1`, api);
}

/** Who may use the API: an admin's bearer token, or an admin's session (changes then need CSRF). Who is
 *  asking comes from the door (admission/door.ts), in its one order of credentials. */
function adminOnly(deps: AuthServices): MiddlewareHandler<AuthEnv> {
  return async function adminOnly(c, next) {
    const asked = {
      method: c.req.method,
      url: c.req.path,
      headers: c.get('headers'),
      peer: c.env?.incoming?.socket.remoteAddress,
    };
    const who = await deps.door.identify(asked);
    const caller = who.kind === 'caller' ? callerOf(c, deps, who) : null;
    if (!caller) {
      if (who.kind === 'nobody')
        return apiError(c, 'unauthenticated', "Send an administrator's token as `Authorization: Bearer <token>`.");
      audit(c, 'api-key.refused', {});
      const verdict = await deps.limits.check('api-key', c.get('ip'));
      if (!verdict.ok) {
        c.header('retry-after', String(verdict.retryAfterSec));
        return apiError(c, 'rate_limited', 'Too many refused tokens from this address; wait a little.');
      }
      return apiError(
        c,
        'unauthenticated',
        'That token is not valid: it is unknown, revoked or expired, or its owner is disabled.',
      );
    }
    const refusal = refusalOf(c, caller);
    if (refusal) return refusal;
    rememberCaller(c, caller);
    await next();
    return undefined;
  };
}

/** The caller as the API sees them; null for an OAuth token other than the CLI's whole-app one. */
function callerOf(c: AuthContext, deps: AuthServices, who: Extract<Identity, { kind: 'caller' }>): Caller | null {
  const admin = who.session;
  switch (who.credential) {
    case 'cookie':
      return { admin, viaToken: false };
    case 'api-key':
      return { admin, viaToken: true, revoke: () => deps.apiKeys.revoke(admin.sessionId.slice('key:'.length)) };
    case 'oauth':
      if (!who.token || !isDeviceToken(c, deps, who.token)) return null;
      return { admin, viaToken: true, revoke: () => deps.oauthTokens.revokeFamily(who.token!.family) };
  }
}

/** An admin, with a key scoped for it if scoped, and CSRF for a browser session's changes. */
function refusalOf(c: AuthContext, caller: Caller): Response | null {
  const p = caller.admin.principal;
  if (p.role !== 'admin')
    return apiError(
      c,
      'forbidden',
      `${p.email} is not an administrator: the admin API needs an admin's token or session.`,
    );
  // A scoped key was made for a narrow job (reports:read, say): it opens the admin API only when one
  // of its scopes says so. Unscoped keys and personal tokens act with their owner's full rights.
  if (p.scopes?.length && !p.scopes.includes(ADMIN_SCOPE)) {
    return apiError(
      c,
      'forbidden',
      `This key is limited to ${p.scopes.join(' ')}; the admin API needs an unscoped ` +
        `admin token or the scope ${ADMIN_SCOPE}.`,
    );
  }
  if (!caller.viaToken && !['GET', 'HEAD'].includes(c.req.method) && !sessionCsrfOk(c)) {
    return apiError(
      c,
      'csrf',
      'A change made with a browser session needs the token from GET /csrf in X-CSRF-Token, from this origin.',
    );
  }
  return null;
}

/**
 * The device grant's token of the built-in CLI, for the whole app (oauth/device.ts): the
 * one OAuth token the admin API takes — `gatehouse login --remote URL` without --token. Tokens of
 * other clients, or bound to an MCP resource, were approved for less and stay out.
 */
function isDeviceToken(c: AuthContext, deps: AuthServices, t: ResolvedToken): boolean {
  const origin = deps.publicOrigin ?? c.get('ourOrigin');
  return t.clientId === CLI_CLIENT_ID && t.resource === origin;
}

function sessionCsrfOk(c: AuthContext): boolean {
  if (c.get('origin') === 'cross-site') return false;
  const cookie = readCookie(c.get('headers').cookie, c.var.deps.cookies.csrf);
  return isValidCsrfToken(
    c.var.deps.settings.current().secret,
    cookie,
    c.req.header('x-csrf-token'),
    c.get('session')?.sessionId,
  );
}

/** Who is calling, and the CSRF token a session needs for changes. */
function mountCallerInfo(api: Hono<AuthEnv>): void {
  api.get('/me', (c) => {
    const p = caller(c).admin.principal;
    const via = caller(c).viaToken ? 'token' : 'session';
    return c.json({ id: p.userId, email: p.email, name: p.name, role: p.role, via });
  });
  api.get('/csrf', (c) => c.json({ csrf: csrfToken(c) }));
}

function mountRoutes(api: Hono<AuthEnv>, deps: AuthServices): void {
  mountCallerInfo(api);
  mountUserListing(api, deps);
  mountUserChanges(api, deps);
  mountUserSessions(api, deps);
  mountGroupListing(api, deps);
  mountKeys(api, deps);
  mountTokenSelfRevoke(api);
  api.get('/access', (c) =>
    c.json({ rules: deps.settings.current().access.map(storedRule), publicPaths: deps.settings.current().publicPaths }),
  );
  mountOAuthClients(api, deps);
}
