// API keys and passkeys on the SQL backends.
import { normalScopes } from '../rules.js';
import { toApiKey, toPasskey } from '../sql-common.js';
import type { ApiKeyStore, PasskeyStore } from '../types.js';
import { one, type SqlBackend } from './backend.js';

export function apiKeyOps({ prefix: p, driver: d }: SqlBackend): ApiKeyStore {
  const T = `${p}api_keys`;
  const columns = 'id, hash, user_id, name, role, created_at, expires_at, last_used_at, revoked, scopes';
  return {
    async createApiKey(k) {
      await d.affected(`INSERT INTO ${T} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`, [
        k.id,
        k.hash,
        k.userId,
        k.name,
        k.role,
        k.createdAt.getTime(),
        k.expiresAt?.getTime() ?? null,
        false,
        normalScopes(k.scopes ?? []).join(' '),
      ]);
    },
    findApiKeyByHash: (hash) => one(d.rows(`SELECT * FROM ${T} WHERE hash = ?`, [hash]), toApiKey),
    listApiKeys: async (userId) =>
      (userId
        ? await d.rows(`SELECT * FROM ${T} WHERE user_id = ? ORDER BY created_at, id`, [userId])
        : await d.rows(`SELECT * FROM ${T} ORDER BY created_at, id`)
      ).map(toApiKey),
    revokeApiKey: async (id) =>
      (await d.affected(`UPDATE ${T} SET revoked = ? WHERE id = ? AND revoked = ?`, [true, id, false])) === 1,
    async touchApiKey(id, at) {
      await d.affected(`UPDATE ${T} SET last_used_at = ? WHERE id = ?`, [at.getTime(), id]);
    },
  };
}

export function passkeyOps({ prefix: p, driver: d }: SqlBackend): PasskeyStore {
  const T = `${p}passkeys`;
  const columns = 'id, user_id, public_key, counter, transports, name, created_at, last_used_at';
  return {
    async createPasskey(k) {
      await d.affected(`INSERT INTO ${T} (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
        k.id,
        k.userId,
        k.publicKey,
        k.counter,
        k.transports.join(','),
        k.name,
        k.createdAt.getTime(),
        k.lastUsedAt?.getTime() ?? null,
      ]);
    },
    findPasskey: (id) => one(d.rows(`SELECT * FROM ${T} WHERE id = ?`, [id]), toPasskey),
    listPasskeys: async (userId) =>
      (await d.rows(`SELECT * FROM ${T} WHERE user_id = ? ORDER BY created_at, id`, [userId])).map(toPasskey),
    renamePasskey: async (userId, id, name) =>
      (await d.affected(`UPDATE ${T} SET name = ? WHERE id = ? AND user_id = ?`, [name, id, userId])) === 1,
    deletePasskey: async (userId, id) =>
      (await d.affected(`DELETE FROM ${T} WHERE id = ? AND user_id = ?`, [id, userId])) === 1,
    // The counter test is in the WHERE clause: of two uses with the same counter, one wins.
    usePasskey: async (id, counter, at) =>
      (await d.affected(
        `UPDATE ${T} SET counter = ?, last_used_at = ? WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0))`,
        [counter, at.getTime(), id, counter, counter],
      )) === 1,
  };
}
