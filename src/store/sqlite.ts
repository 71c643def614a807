// Embedded store: SQLite through better-sqlite3, in GATEHOUSE_HOME. Synchronous calls wrapped in the
// async contract; every statement is prepared once, on first use. WAL mode lets several processes share
// the file. The queries themselves are sql/'s, shared with the server dialects.
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { LATEST_VERSION, pendingMigrations } from './migrations/index.js';
import { checkPrefix } from './rules.js';
import { toCounter, type Row } from './sql-common.js';
import { createSqlStore, type SqlBackend, type SqlDriver } from './sql-store.js';
import { StoreError, type Store, type StoreOptions } from './types.js';

function mapError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreError('DUPLICATE', 'record already exists', { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR') {
    return new StoreError('UNAVAILABLE', 'embedded store is unavailable', { cause: err });
  }
  return err;
}

function openDatabase(file: string): Database.Database {
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
  return db;
}

/**
 * better-sqlite3 behind the async driver interface: prepared once per SQL text, errors as rejections.
 * One connection serves the whole process, so while a transaction is open (between its awaits other
 * requests run) every other statement waits for it: nothing outside the transaction is written into it,
 * or rolled back with it.
 */
function sqliteDriver(db: Database.Database): SqlDriver & { forget(): void; transaction: SqlBackend['transaction'] } {
  const direct = directDriver(db);
  let open: Promise<void> | null = null; // the transaction in progress, settled (never rejects)
  const transaction = <T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> => {
    if (open) return open.then(() => transaction(work));
    const done = (async () => {
      await attempt(() => db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await work(direct);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw mapError(err);
      }
    })();
    open = done
      .then(
        () => {},
        () => {},
      )
      .finally(() => (open = null));
    return done;
  };
  // A waiter checks again when it wakes: another transaction may have begun first.
  const rows: SqlDriver['rows'] = (sql, values) =>
    open ? open.then(() => rows(sql, values)) : direct.rows(sql, values);
  const affected: SqlDriver['affected'] = (sql, values) =>
    open ? open.then(() => affected(sql, values)) : direct.affected(sql, values);
  return {
    rows,
    affected,
    transaction,
    forget: direct.forget,
  };
}

/** Statements straight on the connection, each SQL text prepared once. */
function directDriver(db: Database.Database): SqlDriver & { forget(): void } {
  const prepared = new Map<string, Database.Statement>();
  const statement = (sql: string) => {
    let s = prepared.get(sql);
    if (!s) prepared.set(sql, (s = db.prepare(sql)));
    return s;
  };
  return {
    rows: (sql, values = []) =>
      attempt(() => {
        const s = statement(sql);
        if (s.reader) return s.all(...bind(values)) as Row[];
        s.run(...bind(values));
        return [];
      }),
    affected: (sql, values = []) => attempt(() => statement(sql).run(...bind(values)).changes),
    // A statement prepared before a migration may describe the old schema.
    forget: () => prepared.clear(),
  };
}

/** better-sqlite3 is synchronous: its result or its error (as a store error) becomes a settled promise. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(mapError(err));
  }
}

// SQLite has no boolean type: the schema stores 0 / 1, and better-sqlite3 refuses to bind a boolean.
function bind(values: unknown[]): unknown[] {
  return values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
}

export function createSqliteStore(file: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const db = openDatabase(file);
  const driver = sqliteDriver(db);
  return createSqlStore({
    kind: 'sqlite',
    prefix: p,
    driver,
    transaction: driver.transaction,
    returning: true,
    counterColumn: 'key',
    async migrate() {
      db.exec(`CREATE TABLE IF NOT EXISTS ${p}schema (version INTEGER NOT NULL)`);
      // IMMEDIATE takes the write lock first, so two processes starting together migrate once.
      const apply = db.transaction(() => {
        const row = db.prepare(`SELECT version FROM ${p}schema`).get() as { version: number } | undefined;
        for (const m of pendingMigrations(row?.version ?? 0)) for (const statement of m.sqlite(p)) db.exec(statement);
        if (row) db.prepare(`UPDATE ${p}schema SET version = ?`).run(LATEST_VERSION);
        else db.prepare(`INSERT INTO ${p}schema (version) VALUES (?)`).run(LATEST_VERSION);
      });
      apply.immediate();
      driver.forget();
    },
    ping: async () => void (await driver.rows('SELECT 1')),
    async close() {
      db.close();
    },
    // One statement: start a new window when the old one ended, else count up.
    hit: async (key, windowMs, now) => {
      const t = now.getTime();
      const [r] = await driver.rows(
        `INSERT INTO ${p}counters (key, count, reset_at) VALUES (?, 1, ?)
         ON CONFLICT(key) DO UPDATE SET
           count = CASE WHEN reset_at <= ? THEN 1 ELSE count + 1 END,
           reset_at = CASE WHEN reset_at <= ? THEN excluded.reset_at ELSE reset_at END
         RETURNING count, reset_at`,
        [key, t + windowMs, t, t],
      );
      return toCounter(r!);
    },
  });
}
