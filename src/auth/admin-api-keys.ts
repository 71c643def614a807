// The admin API's keys and tokens (docs/admin-api.md): API keys listed, made and revoked, and the
// calling token revoking itself.
import type { Hono } from 'hono';
import type { AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { parseScopes } from '../session/api-keys.js';
import { parseDuration } from '../config/duration.js';
import { ROLE_NAME } from '../store/types.js';
import { CLI_CLIENT_ID } from '../oauth/device.js';
import { apiBody, apiError, BAD_BODY, caller, done, findUser, keyRow, noUser } from './admin-api-shared.js';

/** API keys: list (of everyone, or of one user), create with role, expiry and scopes, revoke. */
export function mountKeys(api: Hono<AuthEnv>, deps: AuthServices): void {
  const { store } = deps;
  api.get('/keys', async (c) => {
    const ref = c.req.query('user');
    const u = ref ? await findUser(store, ref) : null;
    if (ref && !u) return noUser(c, ref);
    return c.json({ keys: (await store.listApiKeys(u?.id)).map(keyRow) });
  });

  api.post('/keys', async (c) => {
    const body = await apiBody(c);
    if (!body) return apiError(c, 'bad_request', BAD_BODY);
    const { user: ref, name, role = 'member', expires, scopes = '' } = body as Record<string, unknown>;
    if (typeof ref !== 'string' || typeof name !== 'string' || !name.trim() || name.length > 100)
      return apiError(c, 'bad_request', '"user" (an email or id) and "name" (up to 100 characters) are required.');
    if (typeof role !== 'string' || !ROLE_NAME.test(role))
      return apiError(c, 'bad_request', '"role" must be a role name such as member or admin.');
    const ttl =
      expires === undefined || expires === null ? null : typeof expires === 'string' ? parseDuration(expires) : null;
    if (expires !== undefined && expires !== null && ttl === null)
      return apiError(c, 'bad_request', '"expires" must be a duration such as 30d or 12h.');
    const parsed = parseScopes(Array.isArray(scopes) ? scopes.join(' ') : String(scopes));
    if (typeof parsed === 'string') return apiError(c, 'bad_request', `"scopes": ${parsed}`);
    const u = await findUser(store, ref);
    if (!u) return noUser(c, ref);
    const { key, token } = await deps.apiKeys.issue(
      u,
      name.trim(),
      role,
      ttl === null ? null : new Date(deps.now() + ttl),
      parsed,
    );
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
export function mountTokenSelfRevoke(api: Hono<AuthEnv>): void {
  api.post('/token/revoke', async (c) => {
    const admin = caller(c).admin;
    if (!caller(c).viaToken)
      return apiError(c, 'bad_request', 'Only a token can revoke itself; this request used a session.');
    await caller(c).revoke?.();
    if (admin.sessionId.startsWith('oauth:'))
      audit(c, 'oauth.revoked', { userId: admin.principal.userId, detail: `${CLI_CLIENT_ID} (gatehouse logout)` });
    return c.json({ ok: true });
  });
}
