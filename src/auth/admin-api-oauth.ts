// The admin API's OAuth clients (docs/admin-api.md): each with the users it acts for, and revoking one.
import type { Hono } from 'hono';
import type { AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { connectedApps } from '../oauth/connected.js';
import { apiError, done } from './admin-api-shared.js';

/** OAuth clients (docs/architecture.md#oauth): every client with whom it acts for, and revoking one for everyone. */
export function mountOAuthClients(api: Hono<AuthEnv>, deps: AuthServices): void {
  api.get('/oauth/clients', async (c) => {
    const [clients, apps] = await Promise.all([deps.store.listOAuthClients(), connectedApps(deps.store)]);
    const emails = new Map(
      (await Promise.all([...new Set(apps.map((a) => a.userId))].map((id) => deps.store.findUserById(id)))).flatMap(
        (u) => (u ? [[u.id, u.email] as const] : []),
      ),
    );
    return c.json({
      clients: clients.map((client) => ({
        id: client.id,
        kind: client.kind,
        name: client.name,
        redirectUris: client.redirectUris,
        createdAt: client.createdAt.toISOString(),
        lastUsedAt: client.lastUsedAt?.toISOString() ?? null,
        grants: apps
          .filter((a) => a.clientId === client.id)
          .map((a) => ({
            user: emails.get(a.userId) ?? a.userId,
            resource: a.resource,
            scopes: a.scopes,
            tokens: a.tokens,
            lastUsedAt: a.lastUsedAt?.toISOString() ?? null,
          })),
      })),
    });
  });

  // Like the console's Revoke: the client's tokens and consents go with it, here at once, elsewhere within 2 s.
  api.post('/oauth/clients/:id/revoke', async (c) => {
    const id = c.req.param('id');
    if (!(await deps.oauthTokens.revokeClient(id)))
      return apiError(c, 'not_found', `There is no OAuth client ${id.slice(0, 200)}.`);
    done(c, 'revoke-oauth-client', id);
    audit(c, 'oauth.revoked', { detail: `client ${id.slice(0, 200)} (admin API)` });
    return c.json({ ok: true });
  });
}
