// Embedded store: SQLite through better-sqlite3, in GATEHOUSE_HOME. Synchronous calls wrapped in the
// async contract; every statement is prepared once. WAL mode lets several processes share the file.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { checkPrefix, toApiKey, toIdentity, toSession, toToken, toUser, USER_PATCH_COLUMNS, type Row } from './sql-common.js';
import {
  StoreError,
  type ApiKey,
  type CounterState,
  type Identity,
  type NewUser,
  type OneTimeToken,
  type Session,
  type Store,
  type StoreOptions,
  type User,
  type UserPatch,
} from './types.js';

// Versioned migrations: index + 1 is the schema version. Never edit one that has shipped; append.
function migrations(p: string): string[] {
  return [
    `CREATE TABLE ${p}users (
       id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
       password_hash TEXT, email_verified INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
       created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
     CREATE TABLE ${p}identities (
       issuer TEXT NOT NULL, subject TEXT NOT NULL, provider TEXT NOT NULL,
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, email TEXT,
       created_at INTEGER NOT NULL, PRIMARY KEY (issuer, subject));
     CREATE TABLE ${p}sessions (
       id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       provider TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL, ip TEXT, user_agent TEXT);
     CREATE INDEX ${p}sessions_user ON ${p}sessions(user_id);
     CREATE TABLE ${p}tokens (
       hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT REFERENCES ${p}users(id) ON DELETE CASCADE,
       email TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
     CREATE TABLE ${p}api_keys (
       id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       name TEXT NOT NULL, role TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
       last_used_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE ${p}counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);`,
  ];
}

const num = (v: unknown): number => Number(v);
const date = (v: unknown): Date => new Date(num(v));

function mapError(err: unknown): never {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw new StoreError('DUPLICATE', 'record already exists', { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR') {
    throw new StoreError('UNAVAILABLE', 'embedded store is unavailable', { cause: err });
  }
  throw err;
}

export function createSqliteStore(file: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  let db: Database.Database;
  try {
    // The database holds password hashes: create it private (0600) before SQLite opens it; the -wal and
    // -shm files SQLite makes copy these permissions.
    if (file !== ':memory:') closeSync(openSync(file, 'a', 0o600));
    db = new Database(file);
  } catch (err) {
    throw new StoreError('UNAVAILABLE', `cannot open embedded store at ${file}`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');

  // Statements are prepared after migrate(), when the tables exist.
  let q: ReturnType<typeof prepare> | undefined;
  const s = () => {
    if (!q) q = prepare();
    return q;
  };
  function prepare() {
    return {
      insertUser: db.prepare(
        `INSERT INTO ${p}users (id, email, name, role, password_hash, email_verified, disabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
      ),
      importUser: db.prepare(
        `INSERT INTO ${p}users (id, email, name, role, password_hash, email_verified, disabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      userById: db.prepare(`SELECT * FROM ${p}users WHERE id = ?`),
      userByEmail: db.prepare(`SELECT * FROM ${p}users WHERE email = ?`),
      deleteUser: db.prepare(`DELETE FROM ${p}users WHERE id = ?`),
      listUsers: db.prepare(`SELECT * FROM ${p}users ORDER BY created_at, id LIMIT ? OFFSET ?`),
      countUsers: db.prepare(`SELECT COUNT(*) AS n FROM ${p}users`),
      insertIdentity: db.prepare(
        `INSERT INTO ${p}identities (issuer, subject, provider, user_id, email, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      identity: db.prepare(`SELECT * FROM ${p}identities WHERE issuer = ? AND subject = ?`),
      identitiesOfUser: db.prepare(`SELECT * FROM ${p}identities WHERE user_id = ? ORDER BY created_at, issuer, subject`),
      insertSession: db.prepare(
        `INSERT INTO ${p}sessions (id, user_id, provider, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      session: db.prepare(`SELECT * FROM ${p}sessions WHERE id = ?`),
      touchSession: db.prepare(`UPDATE ${p}sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`),
      deleteSession: db.prepare(`DELETE FROM ${p}sessions WHERE id = ?`),
      deleteUserSessions: db.prepare(`DELETE FROM ${p}sessions WHERE user_id = ? AND id <> ?`),
      deleteAllSessions: db.prepare(`DELETE FROM ${p}sessions`),
      userSessions: db.prepare(`SELECT * FROM ${p}sessions WHERE user_id = ? ORDER BY created_at DESC, id`),
      deleteExpired: db.prepare(`DELETE FROM ${p}sessions WHERE expires_at <= ? OR last_seen_at <= ?`),
      insertToken: db.prepare(
        `INSERT INTO ${p}tokens (hash, kind, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      consumeToken: db.prepare(`DELETE FROM ${p}tokens WHERE hash = ? AND kind = ? RETURNING *`),
      findToken: db.prepare(`SELECT * FROM ${p}tokens WHERE hash = ? AND kind = ? AND expires_at > ?`),
      liveTokens: db.prepare(`SELECT * FROM ${p}tokens WHERE kind = ? AND expires_at > ? ORDER BY created_at, hash`),
      deleteTokensOfKind: db.prepare(`DELETE FROM ${p}tokens WHERE kind = ?`),
      deleteUserTokensOfKind: db.prepare(`DELETE FROM ${p}tokens WHERE kind = ? AND user_id = ?`),
      insertKey: db.prepare(
        `INSERT INTO ${p}api_keys (id, hash, user_id, name, role, created_at, expires_at, last_used_at, revoked)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0)`,
      ),
      keyByHash: db.prepare(`SELECT * FROM ${p}api_keys WHERE hash = ?`),
      keysAll: db.prepare(`SELECT * FROM ${p}api_keys ORDER BY created_at, id`),
      keysOfUser: db.prepare(`SELECT * FROM ${p}api_keys WHERE user_id = ? ORDER BY created_at, id`),
      revokeKey: db.prepare(`UPDATE ${p}api_keys SET revoked = 1 WHERE id = ? AND revoked = 0`),
      touchKey: db.prepare(`UPDATE ${p}api_keys SET last_used_at = ? WHERE id = ?`),
      // One statement: start a new window when the old one ended, else count up.
      hit: db.prepare(
        `INSERT INTO ${p}counters (key, count, reset_at) VALUES (?, 1, ?)
         ON CONFLICT(key) DO UPDATE SET
           count = CASE WHEN reset_at <= ? THEN 1 ELSE count + 1 END,
           reset_at = CASE WHEN reset_at <= ? THEN excluded.reset_at ELSE reset_at END
         RETURNING count, reset_at`,
      ),
      peek: db.prepare(`SELECT count, reset_at FROM ${p}counters WHERE key = ? AND reset_at > ?`),
      clearCounter: db.prepare(`DELETE FROM ${p}counters WHERE key = ?`),
      ping: db.prepare(`SELECT 1`),
    };
  }

  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      try {
        mapError(err);
      } catch (mapped) {
        return Promise.reject(mapped);
      }
    }
  };

  const store: Store = {
    kind: 'sqlite',
    async migrate() {
      const steps = migrations(p);
      db.exec(`CREATE TABLE IF NOT EXISTS ${p}schema (version INTEGER NOT NULL)`);
      // IMMEDIATE takes the write lock first, so two processes starting together migrate once.
      const apply = db.transaction(() => {
        const row = db.prepare(`SELECT version FROM ${p}schema`).get() as { version: number } | undefined;
        const current = row?.version ?? 0;
        if (current > steps.length) {
          throw new StoreError('MIGRATION', `schema version ${current} is newer than this Gatehouse (${steps.length})`);
        }
        for (let v = current; v < steps.length; v++) db.exec(steps[v]!);
        if (row) db.prepare(`UPDATE ${p}schema SET version = ?`).run(steps.length);
        else db.prepare(`INSERT INTO ${p}schema (version) VALUES (?)`).run(steps.length);
      });
      apply.immediate();
      q = prepare();
    },
    ping: () => run(() => void s().ping.get()),
    async close() {
      db.close();
    },

    createUser: (input: NewUser, now: Date) =>
      run(() => {
        const id = randomUUID();
        const t = now.getTime();
        s().insertUser.run(id, input.email, input.name, input.role, input.passwordHash, input.emailVerified ? 1 : 0, t, t);
        return toUser(s().userById.get(id) as Row);
      }),
    findUserById: (id) => run(() => ((r) => (r ? toUser(r as Row) : null))(s().userById.get(id))),
    findUserByEmail: (email) => run(() => ((r) => (r ? toUser(r as Row) : null))(s().userByEmail.get(email))),
    updateUser: (id: string, patch: UserPatch, now: Date) =>
      run(() => {
        const sets: string[] = [];
        const values: unknown[] = [];
        for (const [k, c] of Object.entries(USER_PATCH_COLUMNS) as [keyof UserPatch, string][]) {
          const v = patch[k];
          if (v === undefined) continue;
          sets.push(`${c} = ?`);
          values.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
        }
        sets.push('updated_at = ?');
        values.push(now.getTime());
        db.prepare(`UPDATE ${p}users SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
        const r = s().userById.get(id);
        return r ? toUser(r as Row) : null;
      }),
    deleteUser: (id) => run(() => s().deleteUser.run(id).changes === 1),
    listUsers: ({ limit, offset }) => run(() => (s().listUsers.all(limit, offset) as Row[]).map(toUser)),
    countUsers: () => run(() => num((s().countUsers.get() as Row).n)),
    importUser: (u: User) =>
      run(() => {
        const b = (v: boolean) => (v ? 1 : 0);
        s().importUser.run(u.id, u.email, u.name, u.role, u.passwordHash, b(u.emailVerified), b(u.disabled), u.createdAt.getTime(), u.updatedAt.getTime());
      }),

    linkIdentity: (i: Identity) =>
      run(() => void s().insertIdentity.run(i.issuer, i.subject, i.provider, i.userId, i.email, i.createdAt.getTime())),
    findIdentity: (issuer, subject) => run(() => ((r) => (r ? toIdentity(r as Row) : null))(s().identity.get(issuer, subject))),
    listIdentities: (userId) => run(() => (s().identitiesOfUser.all(userId) as Row[]).map(toIdentity)),

    createSession: (x: Session) =>
      run(
        () =>
          void s().insertSession.run(
            x.id, x.userId, x.provider, x.createdAt.getTime(), x.lastSeenAt.getTime(), x.expiresAt.getTime(), x.ip, x.userAgent,
          ),
      ),
    findSession: (id) => run(() => ((r) => (r ? toSession(r as Row) : null))(s().session.get(id))),
    touchSession: (id, at) => run(() => void s().touchSession.run(at.getTime(), id, at.getTime())),
    deleteSession: (id) => run(() => s().deleteSession.run(id).changes === 1),
    deleteUserSessions: (userId, exceptId) => run(() => s().deleteUserSessions.run(userId, exceptId ?? '').changes),
    deleteAllSessions: () => run(() => s().deleteAllSessions.run().changes),
    listUserSessions: (userId) => run(() => (s().userSessions.all(userId) as Row[]).map(toSession)),
    deleteExpiredSessions: (now, idleMs) =>
      run(() => s().deleteExpired.run(now.getTime(), now.getTime() - idleMs).changes),

    createToken: (t: OneTimeToken) =>
      run(() => void s().insertToken.run(t.hash, t.kind, t.userId, t.email, t.createdAt.getTime(), t.expiresAt.getTime())),
    consumeToken: (hash, kind, now) =>
      run(() => {
        const r = s().consumeToken.get(hash, kind) as Row | undefined;
        if (!r) return null;
        const t = toToken(r);
        return t.expiresAt.getTime() > now.getTime() ? t : null;
      }),
    findToken: (hash, kind, now) =>
      run(() => {
        const r = s().findToken.get(hash, kind, now.getTime()) as Row | undefined;
        return r ? toToken(r) : null;
      }),
    deleteTokens: (kind, userId) =>
      run(() => (userId === undefined ? s().deleteTokensOfKind.run(kind) : s().deleteUserTokensOfKind.run(kind, userId)).changes),

    listTokens: (kind, now) => run(() => (s().liveTokens.all(kind, now.getTime()) as Row[]).map(toToken)),

    createApiKey: (k: ApiKey) =>
      run(
        () =>
          void s().insertKey.run(k.id, k.hash, k.userId, k.name, k.role, k.createdAt.getTime(), k.expiresAt ? k.expiresAt.getTime() : null),
      ),
    findApiKeyByHash: (hash) => run(() => ((r) => (r ? toApiKey(r as Row) : null))(s().keyByHash.get(hash))),
    listApiKeys: (userId) =>
      run(() => ((userId ? s().keysOfUser.all(userId) : s().keysAll.all()) as Row[]).map(toApiKey)),
    revokeApiKey: (id) => run(() => s().revokeKey.run(id).changes === 1),
    touchApiKey: (id, at) => run(() => void s().touchKey.run(at.getTime(), id)),

    hit: (key, windowMs, now) =>
      run((): CounterState => {
        const t = now.getTime();
        const r = s().hit.get(key, t + windowMs, t, t) as Row;
        return { count: num(r.count), resetAt: date(r.reset_at) };
      }),
    peekCounter: (key, now) =>
      run(() => {
        const r = s().peek.get(key, now.getTime()) as Row | undefined;
        return r ? { count: num(r.count), resetAt: date(r.reset_at) } : null;
      }),
    clearCounter: (key) => run(() => void s().clearCounter.run(key)),
  };
  return store;
}
