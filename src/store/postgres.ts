// PostgreSQL backend (pg). Versioned migrations under an advisory lock, atomic single-use and counter
// operations in one statement each, and driver errors mapped to StoreError codes. The pool recovers by
// itself when the server comes back.
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { StoreError, type Store, type StoreOptions, type UserPatch } from './types.js';
import { checkPrefix, counterKey, takePoolSize, toApiKey, toIdentity, toSession, toToken, toUser, USER_PATCH_COLUMNS, type Row } from './sql-common.js';

function migrations(p: string): string[] {
  return [
    `CREATE TABLE ${p}users (
       id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
       password_hash TEXT, email_verified BOOLEAN NOT NULL, disabled BOOLEAN NOT NULL DEFAULT FALSE,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
     CREATE TABLE ${p}identities (
       issuer TEXT NOT NULL, subject TEXT NOT NULL, provider TEXT NOT NULL,
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, email TEXT, created_at BIGINT NOT NULL,
       PRIMARY KEY (issuer, subject));
     CREATE TABLE ${p}sessions (
       id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, provider TEXT NOT NULL,
       created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ip TEXT, user_agent TEXT);
     CREATE INDEX ${p}sessions_user ON ${p}sessions(user_id);
     CREATE TABLE ${p}tokens (
       hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT REFERENCES ${p}users(id) ON DELETE CASCADE,
       email TEXT, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
     CREATE TABLE ${p}api_keys (
       id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       name TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, last_used_at BIGINT,
       revoked BOOLEAN NOT NULL DEFAULT FALSE);
     CREATE TABLE ${p}counters (counter_key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at BIGINT NOT NULL);`,
  ];
}

/**
 * SQLSTATE class 08 (connection), 57 (operator intervention: shutdown, terminated backend) and 53300 (too
 * many connections) mean the server is gone for now. So does an error with no SQLSTATE at all (socket
 * errors, "Connection terminated unexpectedly", pool and query timeouts) — unless it is a programming
 * error, which must surface as itself rather than as an outage.
 */
function mapError(err: unknown): never {
  if (err instanceof StoreError) throw err;
  const code = String((err as { code?: unknown }).code ?? '');
  if (code === '23505') throw new StoreError('DUPLICATE', 'record already exists', { cause: err });
  const sqlstate = /^[0-9A-Z]{5}$/.test(code);
  const bug = err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError;
  if (sqlstate ? code.startsWith('08') || code.startsWith('57') || code === '53300' : !bug) {
    throw new StoreError('UNAVAILABLE', `PostgreSQL is unavailable: ${(err as Error).message}`, { cause: err });
  }
  throw err;
}

export function createPostgresStore(url: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const u = new URL(url);
  const max = takePoolSize(u, options.poolSize);
  const pool = new pg.Pool({
    connectionString: u.toString(),
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
    keepAlive: true,
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});

  const q = async (text: string, values: unknown[] = []): Promise<Row[]> => {
    try {
      return (await pool.query(text, values)).rows as Row[];
    } catch (err) {
      mapError(err);
    }
  };
  const one = async (text: string, values: unknown[] = []) => (await q(text, values))[0];
  const count = async (text: string, values: unknown[] = []): Promise<number> => {
    try {
      return (await pool.query(text, values)).rowCount ?? 0;
    } catch (err) {
      mapError(err);
    }
  };

  return {
    kind: 'postgres',
    async migrate() {
      const steps = migrations(p);
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        mapError(err);
      }
      // One lock per prefix: two replicas starting together migrate once, in turn.
      const lockKey = [...p].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) | 0, 7);
      try {
        await client.query('SELECT pg_advisory_lock($1)', [lockKey]);
        try {
          await client.query(`CREATE TABLE IF NOT EXISTS ${p}schema (version INTEGER NOT NULL)`);
          const row = (await client.query(`SELECT version FROM ${p}schema`)).rows[0] as { version: number } | undefined;
          const current = row?.version ?? 0;
          if (current > steps.length) throw new StoreError('MIGRATION', `schema version ${current} is newer than this Gatehouse (${steps.length})`);
          if (current < steps.length) {
            await client.query('BEGIN');
            for (let v = current; v < steps.length; v++) await client.query(steps[v]!);
            if (row) await client.query(`UPDATE ${p}schema SET version = $1`, [steps.length]);
            else await client.query(`INSERT INTO ${p}schema (version) VALUES ($1)`, [steps.length]);
            await client.query('COMMIT');
          }
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [lockKey]).catch(() => {});
        }
      } catch (err) {
        mapError(err);
      } finally {
        client.release();
      }
    },
    async ping() {
      await q('SELECT 1');
    },
    async close() {
      await pool.end();
    },

    async createUser(input, now) {
      const t = now.getTime();
      const r = await one(
        `INSERT INTO ${p}users (id, email, name, role, password_hash, email_verified, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $7) RETURNING *`,
        [randomUUID(), input.email, input.name, input.role, input.passwordHash, input.emailVerified, t],
      );
      return toUser(r!);
    },
    findUserById: async (id) => ((r) => (r ? toUser(r) : null))(await one(`SELECT * FROM ${p}users WHERE id = $1`, [id])),
    findUserByEmail: async (email) => ((r) => (r ? toUser(r) : null))(await one(`SELECT * FROM ${p}users WHERE email = $1`, [email])),
    async updateUser(id, patch: UserPatch, now) {
      const sets: string[] = [];
      const values: unknown[] = [];
      for (const [k, c] of Object.entries(USER_PATCH_COLUMNS) as [keyof UserPatch, string][]) {
        if (patch[k] === undefined) continue;
        values.push(patch[k]);
        sets.push(`${c} = $${values.length}`);
      }
      values.push(now.getTime(), id);
      const r = await one(`UPDATE ${p}users SET ${[...sets, `updated_at = $${values.length - 1}`].join(', ')} WHERE id = $${values.length} RETURNING *`, values);
      return r ? toUser(r) : null;
    },
    deleteUser: async (id) => (await count(`DELETE FROM ${p}users WHERE id = $1`, [id])) === 1,
    listUsers: async ({ limit, offset }) => (await q(`SELECT * FROM ${p}users ORDER BY created_at, id LIMIT $1 OFFSET $2`, [limit, offset])).map(toUser),
    countUsers: async () => Number((await one(`SELECT COUNT(*) AS n FROM ${p}users`))!.n),
    async importUser(u) {
      await q(
        `INSERT INTO ${p}users (id, email, name, role, password_hash, email_verified, disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [u.id, u.email, u.name, u.role, u.passwordHash, u.emailVerified, u.disabled, u.createdAt.getTime(), u.updatedAt.getTime()],
      );
    },

    async linkIdentity(i) {
      await q(`INSERT INTO ${p}identities (issuer, subject, provider, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
        i.issuer, i.subject, i.provider, i.userId, i.email, i.createdAt.getTime(),
      ]);
    },
    findIdentity: async (issuer, subject) =>
      ((r) => (r ? toIdentity(r) : null))(await one(`SELECT * FROM ${p}identities WHERE issuer = $1 AND subject = $2`, [issuer, subject])),
    listIdentities: async (userId) =>
      (await q(`SELECT * FROM ${p}identities WHERE user_id = $1 ORDER BY created_at, issuer, subject`, [userId])).map(toIdentity),

    async createSession(s) {
      await q(
        `INSERT INTO ${p}sessions (id, user_id, provider, created_at, last_seen_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [s.id, s.userId, s.provider, s.createdAt.getTime(), s.lastSeenAt.getTime(), s.expiresAt.getTime(), s.ip, s.userAgent],
      );
    },
    findSession: async (id) => ((r) => (r ? toSession(r) : null))(await one(`SELECT * FROM ${p}sessions WHERE id = $1`, [id])),
    async touchSession(id, at) {
      await q(`UPDATE ${p}sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1`, [at.getTime(), id]);
    },
    deleteSession: async (id) => (await count(`DELETE FROM ${p}sessions WHERE id = $1`, [id])) === 1,
    deleteUserSessions: (userId, exceptId) => count(`DELETE FROM ${p}sessions WHERE user_id = $1 AND id <> $2`, [userId, exceptId ?? '']),
    deleteAllSessions: () => count(`DELETE FROM ${p}sessions`),
    listUserSessions: async (userId) => (await q(`SELECT * FROM ${p}sessions WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId])).map(toSession),
    deleteExpiredSessions: (now, idleMs) =>
      count(`DELETE FROM ${p}sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, [now.getTime(), now.getTime() - idleMs]),

    async createToken(t) {
      await q(`INSERT INTO ${p}tokens (hash, kind, user_id, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
        t.hash, t.kind, t.userId, t.email, t.createdAt.getTime(), t.expiresAt.getTime(),
      ]);
    },
    async consumeToken(hash, kind, now) {
      const r = await one(`DELETE FROM ${p}tokens WHERE hash = $1 AND kind = $2 RETURNING *`, [hash, kind]);
      if (!r) return null;
      const t = toToken(r);
      return t.expiresAt.getTime() > now.getTime() ? t : null;
    },
    async findToken(hash, kind, now) {
      const r = await one(`SELECT * FROM ${p}tokens WHERE hash = $1 AND kind = $2 AND expires_at > $3`, [hash, kind, now.getTime()]);
      return r ? toToken(r) : null;
    },
    async deleteTokens(kind, userId) {
      return userId === undefined
        ? count(`DELETE FROM ${p}tokens WHERE kind = $1`, [kind])
        : count(`DELETE FROM ${p}tokens WHERE kind = $1 AND user_id = $2`, [kind, userId]);
    },
    listTokens: async (kind, now) =>
      (await q(`SELECT * FROM ${p}tokens WHERE kind = $1 AND expires_at > $2 ORDER BY created_at, hash`, [kind, now.getTime()])).map(toToken),

    async createApiKey(k) {
      await q(
        `INSERT INTO ${p}api_keys (id, hash, user_id, name, role, created_at, expires_at, last_used_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, FALSE)`,
        [k.id, k.hash, k.userId, k.name, k.role, k.createdAt.getTime(), k.expiresAt?.getTime() ?? null],
      );
    },
    findApiKeyByHash: async (hash) => ((r) => (r ? toApiKey(r) : null))(await one(`SELECT * FROM ${p}api_keys WHERE hash = $1`, [hash])),
    listApiKeys: async (userId) =>
      (userId
        ? await q(`SELECT * FROM ${p}api_keys WHERE user_id = $1 ORDER BY created_at, id`, [userId])
        : await q(`SELECT * FROM ${p}api_keys ORDER BY created_at, id`)
      ).map(toApiKey),
    revokeApiKey: async (id) => (await count(`UPDATE ${p}api_keys SET revoked = TRUE WHERE id = $1 AND NOT revoked`, [id])) === 1,
    async touchApiKey(id, at) {
      await q(`UPDATE ${p}api_keys SET last_used_at = $1 WHERE id = $2`, [at.getTime(), id]);
    },

    async hit(key, windowMs, now) {
      const t = now.getTime();
      const r = (await one(
        `INSERT INTO ${p}counters (counter_key, count, reset_at) VALUES ($1, 1, $2)
         ON CONFLICT (counter_key) DO UPDATE SET
           count = CASE WHEN ${p}counters.reset_at <= $3 THEN 1 ELSE ${p}counters.count + 1 END,
           reset_at = CASE WHEN ${p}counters.reset_at <= $3 THEN EXCLUDED.reset_at ELSE ${p}counters.reset_at END
         RETURNING count, reset_at`,
        [counterKey(key), t + windowMs, t],
      ))!;
      return { count: Number(r.count), resetAt: new Date(Number(r.reset_at)) };
    },
    async peekCounter(key, now) {
      const r = await one(`SELECT count, reset_at FROM ${p}counters WHERE counter_key = $1 AND reset_at > $2`, [counterKey(key), now.getTime()]);
      return r ? { count: Number(r.count), resetAt: new Date(Number(r.reset_at)) } : null;
    },
    async clearCounter(key) {
      await q(`DELETE FROM ${p}counters WHERE counter_key = $1`, [counterKey(key)]);
    },
  };
}
