// MySQL / MariaDB backend (mysql2). MySQL has no DELETE … RETURNING, so single-use tokens are read,
// then deleted with "the winner is the one whose DELETE affected the row"; counters use
// INSERT … ON DUPLICATE KEY UPDATE with LAST_INSERT_ID(expr) to read back this statement's own count.
import mysql from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import { StoreError, type Store, type StoreOptions, type UserPatch } from './types.js';
import { checkPrefix, counterKey, takePoolSize, toApiKey, toIdentity, toSession, toToken, toUser, USER_PATCH_COLUMNS, type Row } from './sql-common.js';

const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

// MySQL DDL is not transactional: a step cut short leaves some of its tables behind, and the version
// is only recorded after the whole step. Every statement is therefore safe to run again (IF NOT EXISTS).
function migrations(p: string): string[][] {
  return [
    [
      `CREATE TABLE IF NOT EXISTS ${p}users (
         id VARCHAR(64) PRIMARY KEY, email VARCHAR(320) NOT NULL UNIQUE, name VARCHAR(400) NOT NULL, role VARCHAR(16) NOT NULL,
         password_hash VARCHAR(512), email_verified BOOLEAN NOT NULL, disabled BOOLEAN NOT NULL DEFAULT FALSE,
         created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS ${p}identities (
         issuer VARCHAR(500) NOT NULL, subject VARCHAR(255) NOT NULL, provider VARCHAR(64) NOT NULL,
         user_id VARCHAR(64) NOT NULL, email VARCHAR(320), created_at BIGINT NOT NULL, PRIMARY KEY (issuer, subject),
         FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS ${p}sessions (
         id CHAR(64) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, provider VARCHAR(64) NOT NULL, created_at BIGINT NOT NULL,
         last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ip VARCHAR(64), user_agent VARCHAR(512),
         INDEX (user_id), FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS ${p}tokens (
         hash CHAR(64) PRIMARY KEY, kind VARCHAR(32) NOT NULL, user_id VARCHAR(64), email VARCHAR(320),
         created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
         FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS ${p}api_keys (
         id VARCHAR(32) PRIMARY KEY, hash CHAR(64) NOT NULL UNIQUE, user_id VARCHAR(64) NOT NULL, name VARCHAR(200) NOT NULL,
         role VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, last_used_at BIGINT,
         revoked BOOLEAN NOT NULL DEFAULT FALSE, FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS ${p}counters (counter_key VARCHAR(255) PRIMARY KEY, count INT NOT NULL, reset_at BIGINT NOT NULL) ${TABLE}`,
    ],
  ];
}

const GONE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED', 'POOL_CLOSED',
]);

function mapError(err: unknown): never {
  if (err instanceof StoreError) throw err;
  const e = err as { code?: string; errno?: number; fatal?: boolean; message?: string };
  if (e.errno === 1062 || e.code === 'ER_DUP_ENTRY') throw new StoreError('DUPLICATE', 'record already exists', { cause: err });
  // Strict mode refuses a value longer than its column where the other backends would store it.
  if (e.errno === 1406 || e.code === 'ER_DATA_TOO_LONG') throw new StoreError('INVALID', `value too long: ${e.message}`, { cause: err });
  if (e.fatal || GONE.has(e.code ?? '') || /connection|closed state|Pool is closed/i.test(e.message ?? '')) {
    throw new StoreError('UNAVAILABLE', `MySQL is unavailable: ${e.message}`, { cause: err });
  }
  throw err;
}

export function createMysqlStore(url: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const connectionLimit = takePoolSize(u, options.poolSize);
  const pool = mysql.createPool({
    uri: u.toString(),
    connectionLimit,
    waitForConnections: true,
    queueLimit: 1000,
    connectTimeout: 5000,
    enableKeepAlive: true,
    supportBigNumbers: true,
    charset: 'utf8mb4',
  });
  // A connection dying while idle must not crash the process; the pool replaces it on next use.
  pool.on('connection', (conn) => conn.on('error', () => {}));

  const exec = async (sql: string, values: unknown[] = []) => {
    try {
      const [result] = await pool.query({ sql, values, timeout: 15_000 });
      return result;
    } catch (err) {
      mapError(err);
    }
  };
  const rows = async (sql: string, values: unknown[] = []) => (await exec(sql, values)) as Row[];
  const one = async (sql: string, values: unknown[] = []) => (await rows(sql, values))[0];
  const affected = async (sql: string, values: unknown[] = []) => (await exec(sql, values)) as mysql.ResultSetHeader;

  const store: Store = {
    kind: 'mysql',
    async migrate() {
      const steps = migrations(p);
      let conn: mysql.PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (err) {
        mapError(err);
      }
      const lock = `${p}migrate`;
      try {
        // One named lock: two replicas starting together migrate once, in turn. (MySQL DDL is not
        // transactional, so the lock is what keeps a half-applied step from being run twice.)
        const [got] = await conn.query('SELECT GET_LOCK(?, 60) AS ok', [lock]);
        // 0 is a timeout, NULL an error: either way another process may be migrating right now.
        if (Number((got as Row[])[0]?.ok) !== 1) throw new StoreError('MIGRATION', `could not take the migration lock "${lock}" within 60 s`);
        try {
          await conn.query(`CREATE TABLE IF NOT EXISTS ${p}schema (version INT NOT NULL) ${TABLE}`);
          const [found] = await conn.query(`SELECT version FROM ${p}schema`);
          const row = (found as Row[])[0];
          const current = row ? Number(row.version) : 0;
          if (current > steps.length) throw new StoreError('MIGRATION', `schema version ${current} is newer than this Gatehouse (${steps.length})`);
          for (let v = current; v < steps.length; v++) {
            for (const statement of steps[v]!) await conn.query(statement);
            if (v === 0 && !row) await conn.query(`INSERT INTO ${p}schema (version) VALUES (?)`, [v + 1]);
            else await conn.query(`UPDATE ${p}schema SET version = ?`, [v + 1]);
          }
        } finally {
          await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {});
        }
      } catch (err) {
        mapError(err);
      } finally {
        conn.release();
      }
    },
    async ping() {
      await exec('SELECT 1');
    },
    async close() {
      await pool.end();
    },

    async createUser(input, now) {
      const id = randomUUID();
      const t = now.getTime();
      await exec(
        `INSERT INTO ${p}users (id, email, name, role, password_hash, email_verified, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, FALSE, ?, ?)`,
        [id, input.email, input.name, input.role, input.passwordHash, input.emailVerified, t, t],
      );
      return { id, ...input, disabled: false, createdAt: new Date(t), updatedAt: new Date(t) };
    },
    findUserById: async (id) => ((r) => (r ? toUser(r) : null))(await one(`SELECT * FROM ${p}users WHERE id = ?`, [id])),
    findUserByEmail: async (email) => ((r) => (r ? toUser(r) : null))(await one(`SELECT * FROM ${p}users WHERE email = ?`, [email])),
    async updateUser(id, patch: UserPatch, now) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [k, c] of Object.entries(USER_PATCH_COLUMNS) as [keyof UserPatch, string][]) {
        if (patch[k] === undefined) continue;
        sets.push(`${c} = ?`);
        values.push(patch[k]);
      }
      sets.push('updated_at = ?');
      values.push(now.getTime(), id);
      await exec(`UPDATE ${p}users SET ${sets.join(', ')} WHERE id = ?`, values);
      return store.findUserById(id);
    },
    deleteUser: async (id) => (await affected(`DELETE FROM ${p}users WHERE id = ?`, [id])).affectedRows === 1,
    listUsers: async ({ limit, offset }) => (await rows(`SELECT * FROM ${p}users ORDER BY created_at, id LIMIT ? OFFSET ?`, [limit, offset])).map(toUser),
    countUsers: async () => Number((await one(`SELECT COUNT(*) AS n FROM ${p}users`))!.n),
    async importUser(u) {
      await exec(
        `INSERT INTO ${p}users (id, email, name, role, password_hash, email_verified, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [u.id, u.email, u.name, u.role, u.passwordHash, u.emailVerified, u.disabled, u.createdAt.getTime(), u.updatedAt.getTime()],
      );
    },

    async linkIdentity(i) {
      await exec(`INSERT INTO ${p}identities (issuer, subject, provider, user_id, email, created_at) VALUES (?, ?, ?, ?, ?, ?)`, [
        i.issuer, i.subject, i.provider, i.userId, i.email, i.createdAt.getTime(),
      ]);
    },
    findIdentity: async (issuer, subject) =>
      ((r) => (r ? toIdentity(r) : null))(await one(`SELECT * FROM ${p}identities WHERE issuer = ? AND subject = ?`, [issuer, subject])),
    listIdentities: async (userId) =>
      (await rows(`SELECT * FROM ${p}identities WHERE user_id = ? ORDER BY created_at, issuer, subject`, [userId])).map(toIdentity),

    async createSession(s) {
      await exec(
        `INSERT INTO ${p}sessions (id, user_id, provider, created_at, last_seen_at, expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [s.id, s.userId, s.provider, s.createdAt.getTime(), s.lastSeenAt.getTime(), s.expiresAt.getTime(), s.ip, s.userAgent?.slice(0, 512) ?? null],
      );
    },
    findSession: async (id) => ((r) => (r ? toSession(r) : null))(await one(`SELECT * FROM ${p}sessions WHERE id = ?`, [id])),
    async touchSession(id, at) {
      await exec(`UPDATE ${p}sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, [at.getTime(), id, at.getTime()]);
    },
    deleteSession: async (id) => (await affected(`DELETE FROM ${p}sessions WHERE id = ?`, [id])).affectedRows === 1,
    deleteUserSessions: async (userId, exceptId) => (await affected(`DELETE FROM ${p}sessions WHERE user_id = ? AND id <> ?`, [userId, exceptId ?? ''])).affectedRows,
    deleteAllSessions: async () => (await affected(`DELETE FROM ${p}sessions`)).affectedRows,
    listUserSessions: async (userId) => (await rows(`SELECT * FROM ${p}sessions WHERE user_id = ? ORDER BY created_at DESC, id`, [userId])).map(toSession),
    deleteExpiredSessions: async (now, idleMs) =>
      (await affected(`DELETE FROM ${p}sessions WHERE expires_at <= ? OR last_seen_at <= ?`, [now.getTime(), now.getTime() - idleMs])).affectedRows,

    async createToken(t) {
      await exec(`INSERT INTO ${p}tokens (hash, kind, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`, [
        t.hash, t.kind, t.userId, t.email, t.createdAt.getTime(), t.expiresAt.getTime(),
      ]);
    },
    async consumeToken(hash, kind, now) {
      const r = await one(`SELECT * FROM ${p}tokens WHERE hash = ? AND kind = ?`, [hash, kind]);
      if (!r) return null;
      // Of all callers who read the row, only the one whose DELETE removed it wins.
      const del = await affected(`DELETE FROM ${p}tokens WHERE hash = ? AND kind = ?`, [hash, kind]);
      if (del.affectedRows !== 1) return null;
      const t = toToken(r);
      return t.expiresAt.getTime() > now.getTime() ? t : null;
    },
    async findToken(hash, kind, now) {
      const r = await one(`SELECT * FROM ${p}tokens WHERE hash = ? AND kind = ? AND expires_at > ?`, [hash, kind, now.getTime()]);
      return r ? toToken(r) : null;
    },
    async deleteTokens(kind, userId) {
      const r = userId === undefined
        ? await affected(`DELETE FROM ${p}tokens WHERE kind = ?`, [kind])
        : await affected(`DELETE FROM ${p}tokens WHERE kind = ? AND user_id = ?`, [kind, userId]);
      return r.affectedRows;
    },
    listTokens: async (kind, now) =>
      (await rows(`SELECT * FROM ${p}tokens WHERE kind = ? AND expires_at > ? ORDER BY created_at, hash`, [kind, now.getTime()])).map(toToken),

    async createApiKey(k) {
      await exec(
        `INSERT INTO ${p}api_keys (id, hash, user_id, name, role, created_at, expires_at, last_used_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, FALSE)`,
        [k.id, k.hash, k.userId, k.name, k.role, k.createdAt.getTime(), k.expiresAt?.getTime() ?? null],
      );
    },
    findApiKeyByHash: async (hash) => ((r) => (r ? toApiKey(r) : null))(await one(`SELECT * FROM ${p}api_keys WHERE hash = ?`, [hash])),
    listApiKeys: async (userId) =>
      (userId
        ? await rows(`SELECT * FROM ${p}api_keys WHERE user_id = ? ORDER BY created_at, id`, [userId])
        : await rows(`SELECT * FROM ${p}api_keys ORDER BY created_at, id`)
      ).map(toApiKey),
    revokeApiKey: async (id) => (await affected(`UPDATE ${p}api_keys SET revoked = TRUE WHERE id = ? AND revoked = FALSE`, [id])).affectedRows === 1,
    async touchApiKey(id, at) {
      await exec(`UPDATE ${p}api_keys SET last_used_at = ? WHERE id = ?`, [at.getTime(), id]);
    },

    async hit(key, windowMs, now) {
      const t = now.getTime();
      // Assignments run left to right: `count` is computed from the old reset_at before it changes.
      const res = await affected(
        `INSERT INTO ${p}counters (counter_key, count, reset_at) VALUES (?, 1, ?)
         ON DUPLICATE KEY UPDATE
           count = LAST_INSERT_ID(IF(reset_at <= ?, 1, count + 1)),
           reset_at = IF(reset_at <= ?, VALUES(reset_at), reset_at)`,
        [counterKey(key), t + windowMs, t, t],
      );
      const count = res.insertId === 0 ? 1 : Number(res.insertId);
      if (count === 1) return { count, resetAt: new Date(t + windowMs) };
      const r = await one(`SELECT reset_at FROM ${p}counters WHERE counter_key = ?`, [counterKey(key)]);
      return { count, resetAt: new Date(Number(r?.reset_at ?? t + windowMs)) };
    },
    async peekCounter(key, now) {
      const r = await one(`SELECT count, reset_at FROM ${p}counters WHERE counter_key = ? AND reset_at > ?`, [counterKey(key), now.getTime()]);
      return r ? { count: Number(r.count), resetAt: new Date(Number(r.reset_at)) } : null;
    },
    async clearCounter(key) {
      await exec(`DELETE FROM ${p}counters WHERE counter_key = ?`, [counterKey(key)]);
    },
  };
  return store;
}
