// The admin API (SPEC §12): JSON under /auth/api/v1 for an administrator's bearer token (an API key, a
// personal token of an admin, or the device-grant token of `gatehouse login`: deviceToken below) or an admin's browser session — whose changes also need the CSRF token
// from GET /csrf in `X-CSRF-Token` and a same-origin request. Every error is {"error": CODE,
// "message": SENTENCE} with a stable CODE (ApiErrorCode); docs/admin-api.md lists the routes.
import { Hono, type MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { csrfToken } from './middleware/csrf.js';
import { normalizeEmail } from '../accounts/email.js';
import { parseScopes } from '../session/api-keys.js';
import { isValidCsrfToken } from '../security/csrf.js';
import { readCookie } from '../session/cookies.js';
import { parseDuration } from '../config/duration.js';
import { storedRule } from '../access/rules.js';
import { GROUP_NAME, isStoreError, ROLE_NAME, type ApiKey, type Store, type User } from '../store/types.js';
import type { ResolvedSession } from '../session/sessions.js';
import type { ResolvedToken } from '../oauth/tokens.js';
import type { Identity } from '../admission/door.js';
import { CLI_CLIENT_ID } from '../oauth/device.js';
import { connectedApps } from '../oauth/connected.js';

/** The scope that lets a scoped admin key use the admin API. */
export const ADMIN_SCOPE = 'gatehouse:admin';

export type ApiErrorCode = 'unauthenticated' | 'forbidden' | 'csrf' | 'not_found' | 'bad_request' | 'rate_limited' | 'unavailable' | 'internal';

const STATUS: Record<ApiErrorCode, 400 | 401 | 403 | 404 | 429 | 500 | 503> = {
  unauthenticated: 401, forbidden: 403, csrf: 403, not_found: 404, bad_request: 400, rate_limited: 429, unavailable: 503, internal: 500,
};

export function apiError(c: AuthContext, error: ApiErrorCode, message: string): Response {
  if (error === 'unauthenticated') c.header('www-authenticate', 'Bearer realm="gatehouse"');
  return c.json({ error, message }, STATUS[error]);
}

/** Who is calling, set by the adminOnly guard for the request (kept beside the context's typed variables). */
interface Caller {
  admin: ResolvedSession;
  viaToken: boolean;
  /** Ends the token this request came with (POST /token/revoke: `gatehouse logout --remote`). */
  revoke?: () => Promise<unknown>;
}
const callers = new WeakMap<Request, Caller>();
const caller = (c: AuthContext): Caller => {
  const who = callers.get(c.req.raw);
  if (!who) throw new Error(`${c.req.path}: admin API route without its guard`);
  return who;
};

/** A user as the API and `gatehouse users list --json` show one. */
export const userRow = (u: User) => ({ id: u.id, email: u.email, name: u.name, role: u.role, groups: u.groups, disabled: u.disabled, emailVerified: u.emailVerified, createdAt: u.createdAt.toISOString() });
/** A key as the API and `gatehouse keys list --json` show one (never its secret or hash). */
export const keyRow = (k: ApiKey) => ({ id: k.id, name: k.name, userId: k.userId, role: k.role, scopes: k.scopes ?? [], revoked: k.revoked, expiresAt: k.expiresAt?.toISOString() ?? null, lastUsedAt: k.lastUsedAt?.toISOString() ?? null });

export function mountAdminApi(app: Hono<AuthEnv>, deps: AuthServices): void {
  const api = new Hono<AuthEnv>();
  api.onError((err, c) => {
    if (isStoreError(err, 'UNAVAILABLE')) return apiError(c, 'unavailable', 'The user database is unreachable; try again in a moment.');
    deps.log(`gatehouse: ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
    return apiError(c, 'internal', 'Gatehouse hit an unexpected error.');
  });
  api.use('*', adminOnly(deps));
  mountRoutes(api, deps);
  api.all('*', (c) => apiError(c, 'not_found', `There is no ${c.req.method} ${c.req.path} in the admin API (see docs/admin-api.md).`));
  app.route(`${deps.prefix}/api/v1`, api);
}

/** Who may use the API: an admin's bearer token, or an admin's session (changes then need CSRF). Who is
 *  asking comes from the door (admission/door.ts), in its one order of credentials. */
function adminOnly(deps: AuthServices): MiddlewareHandler<AuthEnv> {
  return async function adminOnly(c, next) {
    const asked = { method: c.req.method, url: c.req.path, headers: c.get('headers'), peer: c.env?.incoming?.socket.remoteAddress };
    const who = await deps.door.identify(asked);
    const caller = who.kind === 'caller' ? callerOf(c, deps, who) : null;
    if (!caller) {
      if (who.kind === 'nobody') return apiError(c, 'unauthenticated', 'Send an administrator\'s token as `Authorization: Bearer <token>`.');
      audit(c, 'api-key.refused', {});
      const verdict = await deps.limits.check('api-key', c.get('ip'));
      if (!verdict.ok) {
        c.header('retry-after', String(verdict.retryAfterSec));
        return apiError(c, 'rate_limited', 'Too many refused tokens from this address; wait a little.');
      }
      return apiError(c, 'unauthenticated', 'That token is not valid: it is unknown, revoked or expired, or its owner is disabled.');
    }
    const refusal = refusalOf(c, caller);
    if (refusal) return refusal;
    callers.set(c.req.raw, caller);
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
      return who.token && isDeviceToken(c, deps, who.token) ? { admin, viaToken: true, revoke: () => deps.oauthTokens.revokeFamily(who.token!.family) } : null;
  }
}

/** An admin, with a key scoped for it if scoped, and CSRF for a browser session's changes. */
function refusalOf(c: AuthContext, caller: Caller): Response | null {
  const p = caller.admin.principal;
  if (p.role !== 'admin') return apiError(c, 'forbidden', `${p.email} is not an administrator: the admin API needs an admin's token or session.`);
  // A scoped key was made for a narrow job (reports:read, say): it opens the admin API only when one
  // of its scopes says so. Unscoped keys and personal tokens act with their owner's full rights.
  if (p.scopes?.length && !p.scopes.includes(ADMIN_SCOPE)) {
    return apiError(c, 'forbidden', `This key is limited to ${p.scopes.join(' ')}; the admin API needs an unscoped admin token or the scope ${ADMIN_SCOPE}.`);
  }
  if (!caller.viaToken && !['GET', 'HEAD'].includes(c.req.method) && !sessionCsrfOk(c)) {
    return apiError(c, 'csrf', 'A change made with a browser session needs the token from GET /csrf in X-CSRF-Token, from this origin.');
  }
  return null;
}

/**
 * The device grant's token of the built-in CLI, for the whole app (SPEC §12; oauth/device.ts): the
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
  return isValidCsrfToken(c.var.deps.settings.current().secret, cookie, c.req.header('x-csrf-token'), c.get('session')?.sessionId);
}

async function jsonBody(c: AuthContext): Promise<Record<string, unknown> | null> {
  if (!/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return (c.req.header('content-length') ?? '0') === '0' ? {} : null;
  try {
    const body: unknown = await c.req.json();
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const BAD_BODY = 'The body must be a JSON object (Content-Type: application/json).';

/** A user by email (any case) or id. */
const findUser = async (store: Store, ref: string) => (ref.includes('@') ? store.findUserByEmail(normalizeEmail(ref)) : store.findUserById(ref));
const noUser = (c: AuthContext, ref: string) => apiError(c, 'not_found', `There is no user ${ref.slice(0, 320)}.`);
/** Audits a change made through the API, as the calling admin. */
const done = (c: AuthContext, action: string, target: string) =>
  audit(c, 'admin.action', { userId: caller(c).admin.principal.userId, detail: `api ${action} ${target}` });

function mountRoutes(api: Hono<AuthEnv>, deps: AuthServices): void {
  mountCallerInfo(api);
  mountUserListing(api, deps);
  mountUserChanges(api, deps);
  mountUserSessions(api, deps);
  mountGroupListing(api, deps);
  mountKeys(api, deps);
  mountTokenSelfRevoke(api);
  api.get('/access', (c) => c.json({ rules: deps.settings.current().access.map(storedRule), publicPaths: deps.settings.current().publicPaths }));
  mountOAuthClients(api, deps);
}

/** Who is calling, and the CSRF token a session needs for changes. */
function mountCallerInfo(api: Hono<AuthEnv>): void {
  api.get('/me', (c) => {
    const p = caller(c).admin.principal;
    return c.json({ id: p.userId, email: p.email, name: p.name, role: p.role, via: caller(c).viaToken ? 'token' : 'session' });
  });
  api.get('/csrf', (c) => c.json({ csrf: csrfToken(c) }));
}

function mountUserListing(api: Hono<AuthEnv>, { store }: AuthServices): void {
  api.get('/users', async (c) => {
    const limit = Math.max(1, Math.min(500, Number(c.req.query('limit') ?? 100) | 0));
    const offset = Math.max(0, Number(c.req.query('offset') ?? 0) | 0);
    const [users, total] = await Promise.all([store.listUsers({ limit, offset }), store.countUsers()]);
    return c.json({ users: users.map(userRow), total, limit, offset });
  });

  api.get('/users/:user', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    return c.json({ ...userRow(u), sessions: (await store.listUserSessions(u.id)).length });
  });
}

/** Disable or enable, role and groups of one user (never the caller's own account for the first two). */
function mountUserChanges(api: Hono<AuthEnv>, deps: AuthServices): void {
  const { store } = deps;
  api.post('/users/:user/:action{disable|enable}', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    if (u.id === caller(c).admin.principal.userId) return apiError(c, 'bad_request', 'Not on your own account: ask another administrator.');
    const disable = c.req.param('action') === 'disable';
    const updated = await store.updateUser(u.id, { disabled: disable }, new Date(deps.now()));
    if (disable) await deps.sessions.revokeUser(u.id);
    else await deps.lockout.clear(u.email);
    done(c, c.req.param('action'), u.id);
    return c.json(userRow(updated ?? u));
  });

  api.post('/users/:user/role', async (c) => {
    const body = await jsonBody(c);
    if (!body) return apiError(c, 'bad_request', BAD_BODY);
    const role = body.role;
    if (typeof role !== 'string' || !ROLE_NAME.test(role)) return apiError(c, 'bad_request', '"role" must be admin, member, or a name of a-z, 0-9 and "-" starting with a letter.');
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    if (u.id === caller(c).admin.principal.userId) return apiError(c, 'bad_request', 'Not on your own account: ask another administrator.');
    const updated = await store.updateUser(u.id, { role }, new Date(deps.now()));
    await deps.sessions.revokeUser(u.id); // the new role applies from the next sign-in
    done(c, `set-role ${role}`, u.id);
    return c.json(userRow(updated ?? u));
  });

  api.post('/users/:user/groups', async (c) => {
    const body = await jsonBody(c);
    const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) && v.every((g) => typeof g === 'string') ? (v as string[]) : null);
    const add = list(body?.add);
    const remove = list(body?.remove);
    if (!body || !add || !remove) return apiError(c, 'bad_request', '{"add": [...], "remove": [...]}: lists of group names.');
    const bad = [...add, ...remove].find((g) => !GROUP_NAME.test(g));
    if (bad !== undefined) return apiError(c, 'bad_request', `"${bad.slice(0, 70)}" is not a group name (a-z, 0-9, ".", "_", "-"; up to 64).`);
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    const next = [...new Set([...u.groups.filter((g) => !remove.includes(g)), ...add])].sort();
    const updated = await store.updateUser(u.id, { groups: next }, new Date(deps.now()));
    done(c, 'groups', u.id);
    return c.json(userRow(updated ?? u));
  });
}

function mountUserSessions(api: Hono<AuthEnv>, deps: AuthServices): void {
  const { store } = deps;
  api.get('/users/:user/sessions', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    const sessions = await store.listUserSessions(u.id);
    // The stored id is a hash of the cookie, but still not something to hand out: listed by position.
    return c.json({ sessions: sessions.map((s) => ({ provider: s.provider, createdAt: s.createdAt.toISOString(), lastSeenAt: s.lastSeenAt.toISOString(), ip: s.ip, userAgent: s.userAgent, pairedFrom: s.pairedFrom ?? null })) });
  });

  api.post('/users/:user/sessions/revoke', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    const admin = caller(c).admin;
    await deps.sessions.revokeUser(u.id, u.id === admin.principal.userId ? admin.sessionId : undefined);
    done(c, 'end-sessions', u.id);
    return c.json({ ok: true });
  });
}

function mountGroupListing(api: Hono<AuthEnv>, { store }: AuthServices): void {
  api.get('/groups', async (c) => {
    const members = new Map<string, string[]>();
    for (let offset = 0; ; offset += 500) {
      const page = await store.listUsers({ limit: 500, offset });
      for (const u of page) for (const g of u.groups) members.set(g, [...(members.get(g) ?? []), u.email]);
      if (page.length < 500) break;
    }
    return c.json({ groups: [...members].sort(([a], [b]) => a.localeCompare(b)).map(([name, emails]) => ({ name, members: emails })) });
  });
}

/** API keys: list (of everyone, or of one user), create with role, expiry and scopes, revoke. */
function mountKeys(api: Hono<AuthEnv>, deps: AuthServices): void {
  const { store } = deps;
  api.get('/keys', async (c) => {
    const ref = c.req.query('user');
    const u = ref ? await findUser(store, ref) : null;
    if (ref && !u) return noUser(c, ref);
    return c.json({ keys: (await store.listApiKeys(u?.id)).map(keyRow) });
  });

  api.post('/keys', async (c) => {
    const body = await jsonBody(c);
    if (!body) return apiError(c, 'bad_request', BAD_BODY);
    const { user: ref, name, role = 'member', expires, scopes = '' } = body as Record<string, unknown>;
    if (typeof ref !== 'string' || typeof name !== 'string' || !name.trim() || name.length > 100) return apiError(c, 'bad_request', '"user" (an email or id) and "name" (up to 100 characters) are required.');
    if (typeof role !== 'string' || !ROLE_NAME.test(role)) return apiError(c, 'bad_request', '"role" must be a role name such as member or admin.');
    const ttl = expires === undefined || expires === null ? null : typeof expires === 'string' ? parseDuration(expires) : null;
    if (expires !== undefined && expires !== null && ttl === null) return apiError(c, 'bad_request', '"expires" must be a duration such as 30d or 12h.');
    const parsed = parseScopes(Array.isArray(scopes) ? scopes.join(' ') : String(scopes));
    if (typeof parsed === 'string') return apiError(c, 'bad_request', `"scopes": ${parsed}`);
    const u = await findUser(store, ref);
    if (!u) return noUser(c, ref);
    const { key, token } = await deps.apiKeys.issue(u, name.trim(), role, ttl === null ? null : new Date(deps.now() + ttl), parsed);
    done(c, 'create-key', key.id);
    return c.json({ key: keyRow(key), token }, 201);
  });

  api.post('/keys/:id/revoke', async (c) => {
    const id = c.req.param('id');
    if (!(await deps.apiKeys.revoke(id))) return apiError(c, 'not_found', `There is no active key ${id.slice(0, 64)}.`);
    done(c, 'revoke-key', id);
    return c.json({ ok: true });
  });
}

/** The presented token revokes itself (`gatehouse logout --remote`). */
function mountTokenSelfRevoke(api: Hono<AuthEnv>): void {
  api.post('/token/revoke', async (c) => {
    const admin = caller(c).admin;
    if (!caller(c).viaToken) return apiError(c, 'bad_request', 'Only a token can revoke itself; this request used a session.');
    await caller(c).revoke?.();
    if (admin.sessionId.startsWith('oauth:')) audit(c, 'oauth.revoked', { userId: admin.principal.userId, detail: `${CLI_CLIENT_ID} (gatehouse logout)` });
    return c.json({ ok: true });
  });
}

/** OAuth clients (SPEC §11, §12): every client with whom it acts for, and revoking one for everyone. */
function mountOAuthClients(api: Hono<AuthEnv>, deps: AuthServices): void {
  api.get('/oauth/clients', async (c) => {
    const [clients, apps] = await Promise.all([deps.store.listOAuthClients(), connectedApps(deps.store)]);
    const emails = new Map((await Promise.all([...new Set(apps.map((a) => a.userId))].map((id) => deps.store.findUserById(id)))).flatMap((u) => (u ? [[u.id, u.email] as const] : [])));
    return c.json({
      clients: clients.map((client) => ({
        id: client.id, kind: client.kind, name: client.name, redirectUris: client.redirectUris,
        createdAt: client.createdAt.toISOString(), lastUsedAt: client.lastUsedAt?.toISOString() ?? null,
        grants: apps.filter((a) => a.clientId === client.id).map((a) => ({ user: emails.get(a.userId) ?? a.userId, resource: a.resource, scopes: a.scopes, tokens: a.tokens, lastUsedAt: a.lastUsedAt?.toISOString() ?? null })),
      })),
    });
  });

  // Like the console's Revoke: the client's tokens and consents go with it, here at once, elsewhere within 2 s.
  api.post('/oauth/clients/:id/revoke', async (c) => {
    const id = c.req.param('id');
    if (!(await deps.oauthTokens.revokeClient(id))) return apiError(c, 'not_found', `There is no OAuth client ${id.slice(0, 200)}.`);
    done(c, 'revoke-oauth-client', id);
    audit(c, 'oauth.revoked', { detail: `client ${id.slice(0, 200)} (admin API)` });
    return c.json({ ok: true });
  });
}
