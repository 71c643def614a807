// "Connected apps" (architecture.md#oauth): the OAuth clients a user allowed, per resource, for the account page,
// the admin's CLI and revocation. Built from the consents and the live tokens, so an app shows up
// while it can still act for the user.
import type { Store } from '../store/types.js';

export interface ConnectedApp {
  clientId: string;
  clientName: string;
  userId: string;
  resource: string;
  scopes: string[];
  /** When it last got a token (a code exchange or a refresh); null when it never did. */
  lastUsedAt: Date | null;
  /** Live tokens it holds for the user. */
  tokens: number;
}

/** The user's connected apps (or everyone's), one row per (user, client, resource), oldest consent first. */
export async function connectedApps(store: Store, userId?: string): Promise<ConnectedApp[]> {
  const [consents, tokens, clients] = await Promise.all([
    store.listOAuthConsents(userId),
    store.listOAuthTokens(userId),
    store.listOAuthClients(),
  ]);
  const names = new Map(clients.map((c) => [c.id, c.name]));
  const rows = new Map<string, ConnectedApp>();
  const key = (u: string, c: string, r: string) => JSON.stringify([u, c, r]);
  for (const c of consents) {
    rows.set(key(c.userId, c.clientId, c.resource), {
      clientId: c.clientId,
      clientName: names.get(c.clientId) ?? c.clientId,
      userId: c.userId,
      resource: c.resource,
      scopes: c.scopes.split(' ').filter(Boolean),
      lastUsedAt: null,
      tokens: 0,
    });
  }
  for (const t of tokens) {
    const k = key(t.userId, t.clientId, t.resource);
    const row = rows.get(k) ?? {
      clientId: t.clientId,
      clientName: names.get(t.clientId) ?? t.clientId,
      userId: t.userId,
      resource: t.resource,
      scopes: t.scopes.split(' ').filter(Boolean),
      lastUsedAt: null,
      tokens: 0,
    };
    row.tokens++;
    if (!row.lastUsedAt || t.createdAt > row.lastUsedAt) row.lastUsedAt = t.createdAt;
    rows.set(k, row);
  }
  return [...rows.values()];
}
