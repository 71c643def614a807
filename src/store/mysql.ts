// MySQL / MariaDB backend (mysql2). MySQL has no UPDATE/DELETE … RETURNING, so the shared verbs (sql/)
// read a single-use token, then delete it with "the winner is the one whose DELETE affected the row"; counters
// use INSERT … ON DUPLICATE KEY UPDATE with LAST_INSERT_ID(expr) to read back this statement's own count.
import mysql from 'mysql2/promise';
import { DRIVER_TIMEOUT_MS, withDeadline } from './deadline.js';
import { migrateSqlServer, type MigrationConnection } from './migrations/sql-runner.js';
import { checkPrefix, takePoolSize } from './rules.js';
import type { Row } from './sql-common.js';
import { createSqlStore, type SqlDriver } from './sql-store.js';
import { StoreError, type Store, type StoreOptions } from './types.js';

const GONE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'POOL_CLOSED',
]);

function mapError(err: unknown): never {
  if (err instanceof StoreError) throw err;
  const e = err as { code?: string; errno?: number; fatal?: boolean; message?: string };
  if (e.errno === 1062 || e.code === 'ER_DUP_ENTRY')
    throw new StoreError('DUPLICATE', 'record already exists', { cause: err });
  // Strict mode refuses a value longer than its column where the other backends would store it.
  if (e.errno === 1406 || e.code === 'ER_DATA_TOO_LONG')
    throw new StoreError('INVALID', `value too long: ${e.message}`, { cause: err });
  if (e.fatal || GONE.has(e.code ?? '') || /connection|closed state|Pool is closed/i.test(e.message ?? '')) {
    throw new StoreError('UNAVAILABLE', `MySQL is unavailable: ${e.message}`, { cause: err });
  }
  throw err;
}

/** The mysql2 pool settings for a binding URL; throws StoreError('INVALID') for a bad pool size, before connecting. */
export function mysqlPoolConfig(url: string, options: StoreOptions = {}): mysql.PoolOptions {
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  const connectionLimit = takePoolSize(u, options.poolSize);
  return {
    uri: u.toString(),
    connectionLimit,
    waitForConnections: true,
    queueLimit: 1000,
    connectTimeout: DRIVER_TIMEOUT_MS,
    enableKeepAlive: true,
    supportBigNumbers: true,
    charset: 'utf8mb4',
  };
}

/** The migration runner's view of a mysql2 connection, with one named lock per prefix. */
async function migrationConnection(pool: mysql.Pool, p: string): Promise<MigrationConnection> {
  const conn = await pool.getConnection();
  const lock = `${p}migrate`;
  const query = async (sql: string, values: unknown[] = []) => (await conn.query(sql, values))[0] as Row[];
  return {
    query,
    async lock() {
      // MySQL DDL is not transactional, so the lock is what keeps a half-applied version from being run
      // twice at once. GET_LOCK answers 0 on a timeout, NULL on an error: either way another process
      // may be migrating right now.
      const [got] = await query('SELECT GET_LOCK(?, 60) AS ok', [lock]);
      if (Number(got?.ok) !== 1)
        throw new StoreError('MIGRATION', `could not take the migration lock "${lock}" within 60 s`);
    },
    unlock: async () => void (await query('SELECT RELEASE_LOCK(?)', [lock])),
    release: () => conn.release(),
  };
}

/**
 * `work` on a pooled connection. A query that timed out is still running on its connection as far as
 * mysql2 knows (it only gives up waiting), and a fatal error leaves the connection unusable: either way
 * the connection is destroyed rather than handed to the next caller, which would wait behind it.
 */
async function onConnection<T>(
  pool: mysql.Pool,
  work: (conn: mysql.PoolConnection) => Promise<[T, unknown]>,
): Promise<T> {
  const conn = await pool.getConnection();
  try {
    const [result] = await work(conn);
    conn.release();
    return result;
  } catch (err) {
    const e = err as { code?: string; fatal?: boolean };
    if (e.fatal || e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') conn.destroy();
    else conn.release();
    throw err;
  }
}

/** `work` in one transaction on one pooled connection; a connection that failed is destroyed, not reused. */
async function inTransaction<T>(pool: mysql.Pool, work: (tx: SqlDriver) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  const run = async (sql: string, values: unknown[] = []) =>
    (await conn.query({ sql, values, timeout: DRIVER_TIMEOUT_MS }))[0];
  try {
    await conn.beginTransaction();
    const result = await work({
      rows: async (sql, values) => (await run(sql, values)) as Row[],
      affected: async (sql, values) => ((await run(sql, values)) as mysql.ResultSetHeader).affectedRows,
    });
    await conn.commit();
    conn.release();
    return result;
  } catch (err) {
    // Without COMMIT the server rolls back when the connection ends, which destroy() makes sure of.
    conn.destroy();
    throw err;
  }
}

export function createMysqlStore(url: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const pool = mysql.createPool(mysqlPoolConfig(url, options));
  // A connection dying while idle must not crash the process; the pool replaces it on next use.
  pool.on('connection', (conn) => conn.on('error', () => {}));
  const exec = pooledQuery(pool);
  return createSqlStore({
    kind: 'mysql',
    prefix: p,
    driver: {
      rows: async (sql, values) => (await exec(sql, values)) as Row[],
      affected: async (sql, values) => ((await exec(sql, values)) as mysql.ResultSetHeader).affectedRows,
    },
    returning: false,
    counterColumn: 'counter_key',
    userAgentMax: 512,
    migrate: () =>
      migrateSqlServer({
        dialect: 'mysql',
        prefix: p,
        connect: () => migrationConnection(pool, p),
        mapError,
        transactionalDdl: false,
        schemaTable:
          `CREATE TABLE IF NOT EXISTS ${p}schema (version INT NOT NULL) ` +
          'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
      }),
    ping: async () => void (await exec('SELECT 1')),
    close: () => pool.end(),
    transaction: async (work) => {
      try {
        return await withDeadline(inTransaction(pool, work), 'MySQL');
      } catch (err) {
        mapError(err);
      }
    },
    hit: (key, windowMs, now) => hitCounter(p, exec, key, windowMs, now),
  });
}

type Query = (sql: string, values?: unknown[]) => Promise<unknown>;

/** One statement on any pooled connection, its errors mapped to store errors. */
function pooledQuery(pool: mysql.Pool): Query {
  return async (sql, values = []) => {
    try {
      // The pool's queue has no timeout of its own: the deadline covers waiting for a connection too.
      return await withDeadline(
        onConnection(pool, (conn) => conn.query({ sql, values, timeout: DRIVER_TIMEOUT_MS })),
        'MySQL',
      );
    } catch (err) {
      mapError(err);
    }
  };
}

/** Counts a hit on `key` in one upsert; LAST_INSERT_ID carries the new count back without a second read. */
async function hitCounter(p: string, exec: Query, key: string, windowMs: number, now: Date) {
  const t = now.getTime();
  // Assignments run left to right: `count` is computed from the old reset_at before it changes.
  const res = (await exec(
    `INSERT INTO ${p}counters (counter_key, count, reset_at) VALUES (?, 1, ?)
     ON DUPLICATE KEY UPDATE
       count = LAST_INSERT_ID(IF(reset_at <= ?, 1, count + 1)),
       reset_at = IF(reset_at <= ?, VALUES(reset_at), reset_at)`,
    [key, t + windowMs, t, t],
  )) as mysql.ResultSetHeader;
  const count = res.insertId === 0 ? 1 : Number(res.insertId);
  if (count === 1) return { count, resetAt: new Date(t + windowMs) };
  const [r] = (await exec(`SELECT reset_at FROM ${p}counters WHERE counter_key = ?`, [key])) as Row[];
  return { count, resetAt: new Date(Number(r?.reset_at ?? t + windowMs)) };
}
