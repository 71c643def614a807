// Sessions and single-use tokens on the SQL backends.
import { toSession, toToken, type Row } from '../sql-common.js';
import type { SessionStore, TokenStore } from '../types.js';
import { first, one, type SqlBackend } from './backend.js';

const SESSION_COLUMNS = 'id, user_id, provider, created_at, last_seen_at, expires_at, ip, user_agent, amr, paired_from';

export function sessionOps({ prefix: p, driver: d, userAgentMax }: SqlBackend): SessionStore {
  const T = `${p}sessions`;
  return {
    async createSession(s) {
      const userAgent = userAgentMax === undefined ? s.userAgent : (s.userAgent?.slice(0, userAgentMax) ?? null);
      await d.affected(`INSERT INTO ${T} (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        s.id,
        s.userId,
        s.provider,
        s.createdAt.getTime(),
        s.lastSeenAt.getTime(),
        s.expiresAt.getTime(),
        s.ip,
        userAgent,
        s.amr?.length ? s.amr.join(',') : null,
        s.pairedFrom?.slice(0, 200) ?? null,
      ]);
    },
    findSession: (id) => one(d.rows(`SELECT * FROM ${T} WHERE id = ?`, [id]), toSession),
    async touchSession(id, at) {
      // Never moves backwards: a slow request must not undo a later one's touch.
      await d.affected(`UPDATE ${T} SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, [
        at.getTime(),
        id,
        at.getTime(),
      ]);
    },
    deleteSession: async (id) => (await d.affected(`DELETE FROM ${T} WHERE id = ?`, [id])) === 1,
    deleteUserSessions: (userId, exceptId) =>
      d.affected(`DELETE FROM ${T} WHERE user_id = ? AND id <> ?`, [userId, exceptId ?? '']),
    deleteAllSessions: () => d.affected(`DELETE FROM ${T}`),
    listUserSessions: async (userId) =>
      (await d.rows(`SELECT * FROM ${T} WHERE user_id = ? ORDER BY created_at DESC, id`, [userId])).map(toSession),
    deleteExpiredSessions: (now, idleMs) =>
      d.affected(`DELETE FROM ${T} WHERE expires_at <= ? OR last_seen_at <= ?`, [
        now.getTime(),
        now.getTime() - idleMs,
      ]),
  };
}

export function tokenOps({ prefix: p, driver: d, returning }: SqlBackend): TokenStore {
  const where = `FROM ${p}tokens WHERE hash = ? AND kind = ?`;
  // Deletes and returns the row in one step. Without RETURNING (MySQL) the row is read first, and of
  // all callers who read it only the one whose DELETE removed it wins.
  const take = async (hash: string, kind: string): Promise<Row | undefined> => {
    if (returning) return first(d.rows(`DELETE ${where} RETURNING *`, [hash, kind]));
    const r = await first(d.rows(`SELECT * ${where}`, [hash, kind]));
    return r && (await d.affected(`DELETE ${where}`, [hash, kind])) === 1 ? r : undefined;
  };
  return {
    async createToken(t) {
      const columns = 'hash, kind, user_id, email, created_at, expires_at, note';
      await d.affected(`INSERT INTO ${p}tokens (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        t.hash,
        t.kind,
        t.userId,
        t.email,
        t.createdAt.getTime(),
        t.expiresAt.getTime(),
        t.note?.slice(0, 200) ?? null,
      ]);
    },
    async consumeToken(hash, kind, now) {
      const r = await take(hash, kind);
      if (!r) return null;
      const t = toToken(r);
      return t.expiresAt.getTime() > now.getTime() ? t : null; // an expired token is removed all the same
    },
    findToken: (hash, kind, now) =>
      one(d.rows(`SELECT * ${where} AND expires_at > ?`, [hash, kind, now.getTime()]), toToken),
    deleteTokens: (kind, userId) =>
      userId === undefined
        ? d.affected(`DELETE FROM ${p}tokens WHERE kind = ?`, [kind])
        : d.affected(`DELETE FROM ${p}tokens WHERE kind = ? AND user_id = ?`, [kind, userId]),
    listTokens: async (kind, now) =>
      (
        await d.rows(`SELECT * FROM ${p}tokens WHERE kind = ? AND expires_at > ? ORDER BY created_at, hash`, [
          kind,
          now.getTime(),
        ])
      ).map(toToken),
  };
}
