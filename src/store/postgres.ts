// PostgreSQL backend (pg). Versioned migrations (migrations/) under an advisory lock, atomic single-use and counter
// operations in one statement each, and driver errors mapped to StoreError codes. The pool recovers by
// itself when the server comes back. The queries are sql/'s, shared with the other dialects.
import pg from 'pg';
import { DRIVER_TIMEOUT_MS, withDeadline } from './deadline.js';
import { migrateSqlServer, type MigrationConnection } from './migrations/sql-runner.js';
import { checkPrefix, takePoolSize } from './rules.js';
import { toCounter, type Row } from './sql-common.js';
import { createSqlStore, type SqlDriver } from './sql-store.js';
import { StoreError, type Store, type StoreOptions } from './types.js';

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

/** The pg pool settings for a binding URL; throws StoreError('INVALID') for a bad pool size, before connecting. */
export function postgresPoolConfig(url: string, options: StoreOptions = {}): pg.PoolConfig {
  const u = new URL(url);
  const max = takePoolSize(u, options.poolSize);
  // connectionTimeoutMillis bounds the wait for a pool slot as well as connecting; a query that times out
  // has its client destroyed by the pool (architecture.md#store), so a hung server's sockets do not linger.
  return {
    connectionString: u.toString(),
    max,
    connectionTimeoutMillis: DRIVER_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    query_timeout: DRIVER_TIMEOUT_MS,
    keepAlive: true,
  };
}

/** Migrations wait for another replica's advisory lock and run DDL: they get longer than a visitor's call. */
const MIGRATION_QUERY_MS = 120_000;

/** The shared SQL is written with `?`; pg numbers its placeholders. No statement has a literal `?`. */
const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** The migration runner's view of a pg connection; the advisory lock is one per prefix. */
async function migrationConnection(pool: pg.Pool, p: string): Promise<MigrationConnection> {
  const client = await pool.connect();
  const lockKey = [...p].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) | 0, 7);
  // pg reads query_timeout from a query's own config too; its types do not list it.
  const long = (text: string, values?: unknown[]) =>
    client.query<Row>({ text, values, query_timeout: MIGRATION_QUERY_MS } as pg.QueryConfig);
  return {
    query: async (sql, values) => (await long(numbered(sql), values)).rows,
    lock: async () => void (await long('SELECT pg_advisory_lock($1)', [lockKey])),
    unlock: async () => void (await client.query('SELECT pg_advisory_unlock($1)', [lockKey])),
    release: () => client.release(),
  };
}

/** `work` in one transaction on one pooled client; a client that failed is destroyed, not reused. */
async function inTransaction<T>(pool: pg.Pool, work: (tx: SqlDriver) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const run = (sql: string, values?: unknown[]) => client.query<Row>(numbered(sql), values);
  // A checked-out client has no listener of the pool's: its connection dying must fail the query, not
  // crash the process.
  const ignore = () => {};
  client.on('error', ignore);
  try {
    await client.query('BEGIN');
    const result = await work({
      rows: async (sql, values) => (await run(sql, values)).rows,
      affected: async (sql, values) => (await run(sql, values)).rowCount ?? 0,
    });
    await client.query('COMMIT');
    client.off('error', ignore);
    client.release();
    return result;
  } catch (err) {
    // Without COMMIT the server rolls back when the connection ends; ROLLBACK says so sooner.
    await client.query('ROLLBACK').catch(() => {});
    client.release(true);
    throw err;
  }
}

export function createPostgresStore(url: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const pool = new pg.Pool(postgresPoolConfig(url, options));
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const query = async (text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> => {
    try {
      return await withDeadline(pool.query<Row>(text, values), 'PostgreSQL');
    } catch (err) {
      mapError(err);
    }
  };
  return createSqlStore({
    kind: 'postgres',
    prefix: p,
    driver: {
      rows: async (sql, values) => (await query(numbered(sql), values)).rows,
      affected: async (sql, values) => (await query(numbered(sql), values)).rowCount ?? 0,
    },
    returning: true,
    counterColumn: 'counter_key',
    migrate: () =>
      migrateSqlServer({
        dialect: 'postgres',
        prefix: p,
        connect: () => migrationConnection(pool, p),
        mapError,
        transactionalDdl: true,
        schemaTable: `CREATE TABLE IF NOT EXISTS ${p}schema (version INTEGER NOT NULL)`,
      }),
    ping: async () => void (await query('SELECT 1')),
    close: () => pool.end(),
    transaction: async (work) => {
      try {
        return await withDeadline(inTransaction(pool, work), 'PostgreSQL');
      } catch (err) {
        mapError(err);
      }
    },
    async hit(key, windowMs, now) {
      const t = now.getTime();
      const { rows } = await query(
        `INSERT INTO ${p}counters (counter_key, count, reset_at) VALUES ($1, 1, $2)
         ON CONFLICT (counter_key) DO UPDATE SET
           count = CASE WHEN ${p}counters.reset_at <= $3 THEN 1 ELSE ${p}counters.count + 1 END,
           reset_at = CASE WHEN ${p}counters.reset_at <= $3 THEN EXCLUDED.reset_at ELSE ${p}counters.reset_at END
         RETURNING count, reset_at`,
        [key, t + windowMs, t],
      );
      return toCounter(rows[0]!);
    },
  });
}
