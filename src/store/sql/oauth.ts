// The OAuth authorization server's clients, consents and tokens on the SQL backends (architecture.md#oauth).
// Foreign keys cascade a deleted client or user to its consents and tokens.
import { toOAuthClient, toOAuthConsent, toOAuthToken } from '../sql-common.js';
import { isStoreError, type OAuthClientStore, type OAuthTokenStore } from '../types.js';
import { first, one, type SqlBackend } from './backend.js';

const CLIENT_COLUMNS = 'id, kind, name, redirect_uris, created_at, last_used_at, cached_until';
const TOKEN_COLUMNS =
  'hash, kind, family, client_id, user_id, resource, scopes, redirect_uri, code_challenge, ' +
  'created_at, expires_at, used_at';

type ConsentOps = Pick<
  OAuthClientStore,
  'saveOAuthConsent' | 'findOAuthConsent' | 'listOAuthConsents' | 'revokeOAuthGrant'
>;

export function oauthClientOps(backend: SqlBackend): OAuthClientStore {
  return { ...clientRowOps(backend), ...consentOps(backend) };
}

function clientRowOps({ prefix: p, driver: d }: SqlBackend): Omit<OAuthClientStore, keyof ConsentOps> {
  const C = `${p}oauth_clients`;
  return {
    async createOAuthClient(c) {
      await d.affected(`INSERT INTO ${C} (${CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        c.id,
        c.kind,
        c.name,
        JSON.stringify(c.redirectUris),
        c.createdAt.getTime(),
        c.lastUsedAt?.getTime() ?? null,
        c.cachedUntil?.getTime() ?? null,
      ]);
    },
    updateOAuthClient: async (id, c) =>
      (await d.affected(`UPDATE ${C} SET name = ?, redirect_uris = ?, cached_until = ? WHERE id = ?`, [
        c.name,
        JSON.stringify(c.redirectUris),
        c.cachedUntil?.getTime() ?? null,
        id,
      ])) === 1,
    findOAuthClient: (id) => one(d.rows(`SELECT * FROM ${C} WHERE id = ?`, [id]), toOAuthClient),
    listOAuthClients: async () => (await d.rows(`SELECT * FROM ${C} ORDER BY created_at, id`)).map(toOAuthClient),
    async touchOAuthClient(id, at) {
      await d.affected(`UPDATE ${C} SET last_used_at = ? WHERE id = ?`, [at.getTime(), id]);
    },
    deleteOAuthClient: async (id) => (await d.affected(`DELETE FROM ${C} WHERE id = ?`, [id])) === 1,
    deleteUnusedOAuthClients: (before) =>
      d.affected(`DELETE FROM ${C} WHERE kind = ? AND last_used_at IS NULL AND created_at < ?`, [
        'dcr',
        before.getTime(),
      ]),
  };
}

/** A user's consent to a client for one resource, and revoking a whole grant (consents and live tokens). */
function consentOps({ prefix: p, driver: d }: SqlBackend): ConsentOps {
  const K = `${p}oauth_consents`;
  const consentKey = 'user_id = ? AND client_id = ? AND resource = ?';
  return {
    async saveOAuthConsent(c) {
      // Delete-then-insert means the same on every dialect; a concurrent twin's insert wins, which is the same
      // consent.
      await d.affected(`DELETE FROM ${K} WHERE ${consentKey}`, [c.userId, c.clientId, c.resource]);
      await d
        .affected(`INSERT INTO ${K} (user_id, client_id, resource, scopes, created_at) VALUES (?, ?, ?, ?, ?)`, [
          c.userId,
          c.clientId,
          c.resource,
          c.scopes,
          c.createdAt.getTime(),
        ])
        .catch((err: unknown) => {
          if (!isStoreError(err, 'DUPLICATE')) throw err;
        });
    },
    findOAuthConsent: (userId, clientId, resource) =>
      one(d.rows(`SELECT * FROM ${K} WHERE ${consentKey}`, [userId, clientId, resource]), toOAuthConsent),
    listOAuthConsents: async (userId) =>
      (userId
        ? await d.rows(`SELECT * FROM ${K} WHERE user_id = ? ORDER BY created_at, client_id, resource`, [userId])
        : await d.rows(`SELECT * FROM ${K} ORDER BY created_at, user_id, client_id, resource`)
      ).map(toOAuthConsent),
    async revokeOAuthGrant(userId, clientId) {
      await d.affected(`DELETE FROM ${K} WHERE user_id = ? AND client_id = ?`, [userId, clientId]);
      return d.affected(`DELETE FROM ${p}oauth_tokens WHERE user_id = ? AND client_id = ? AND kind <> ?`, [
        userId,
        clientId,
        'code',
      ]);
    },
  };
}

/** Codes, access and refresh tokens: conditional UPDATEs and DELETEs are the referees (contract/oauth.ts says
 *  of what). */
export function oauthTokenOps({ prefix: p, driver: d }: SqlBackend): OAuthTokenStore {
  const T = `${p}oauth_tokens`;
  const liveToken = (hash: string, kind: string, now: Date) =>
    d.rows(`SELECT * FROM ${T} WHERE hash = ? AND kind = ? AND expires_at > ?`, [hash, kind, now.getTime()]);
  return {
    async createOAuthToken(t) {
      await d.affected(`INSERT INTO ${T} (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        t.hash,
        t.kind,
        t.family,
        t.clientId,
        t.userId,
        t.resource,
        t.scopes,
        t.redirectUri,
        t.codeChallenge,
        t.createdAt.getTime(),
        t.expiresAt.getTime(),
        t.usedAt?.getTime() ?? null,
      ]);
    },
    findOAuthToken: (hash, kind, now) => one(liveToken(hash, kind, now), toOAuthToken),
    async useOAuthToken(hash, kind, now) {
      // The UPDATE is the race's referee: only one caller moves used_at from NULL.
      const won = await d.affected(
        `UPDATE ${T} SET used_at = ? WHERE hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?`,
        [now.getTime(), hash, kind, now.getTime()],
      );
      const r = await first(liveToken(hash, kind, now));
      return r ? { token: toOAuthToken(r), first: won === 1 } : null;
    },
    deleteOAuthFamily: (family) => d.affected(`DELETE FROM ${T} WHERE family = ?`, [family]),
    async supersedeOAuthRefresh(spent, keep) {
      const kept = keep.length ? keep : [''];
      const others = `hash NOT IN (${kept.map(() => '?').join(', ')})`;
      const unusedOrAccess = '(kind = ? OR (kind = ? AND used_at IS NULL))';
      await d.affected(`DELETE FROM ${T} WHERE family = ? AND ${unusedOrAccess} AND ${others}`, [
        spent.family,
        'access',
        'refresh',
        ...kept,
      ]);
      const later = await d.rows(`SELECT hash FROM ${T} WHERE family = ? AND kind = ? AND hash <> ? AND used_at >= ?`, [
        spent.family,
        'refresh',
        spent.hash,
        spent.usedAt?.getTime() ?? 0,
      ]);
      return later.length ? 'replayed' : 'superseded';
    },
    listOAuthTokens: async (userId) =>
      (userId
        ? await d.rows(`SELECT * FROM ${T} WHERE user_id = ? AND kind <> ? ORDER BY created_at, hash`, [userId, 'code'])
        : await d.rows(`SELECT * FROM ${T} WHERE kind <> ? ORDER BY created_at, hash`, ['code'])
      ).map(toOAuthToken),
    deleteExpiredOAuthTokens: (now) => d.affected(`DELETE FROM ${T} WHERE expires_at <= ?`, [now.getTime()]),
  };
}
