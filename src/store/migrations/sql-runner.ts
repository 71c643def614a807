// Applying the schema history on a SQL server (PostgreSQL, MySQL): take a lock so two replicas starting
// together migrate once, in turn; read the stored version; apply what is missing; record it. The
// backend says how to connect, lock and map its errors, and whether its DDL is transactional. SQLite
// migrates in its own few lines (sqlite.ts): its write lock and its transaction are one thing.
import type { Row } from '../sql-common.js';
import { LATEST_VERSION, pendingMigrations, type SqlDialect } from './index.js';

export interface MigrationConnection {
  /** One statement on this connection; `?` placeholders. */
  query(sql: string, values?: unknown[]): Promise<Row[]>;
  /** Waits for the migration lock of this prefix (throws StoreError('MIGRATION') when it cannot). */
  lock(): Promise<void>;
  unlock(): Promise<void>;
  release(): void;
}

export interface SqlMigrationTarget {
  dialect: Exclude<SqlDialect, 'sqlite'>;
  prefix: string;
  connect(): Promise<MigrationConnection>;
  /** The backend's error mapping (connection failures become StoreError('UNAVAILABLE')). */
  mapError(err: unknown): never;
  /** CREATE TABLE IF NOT EXISTS for `<prefix>schema (version)`, in the dialect's words. */
  schemaTable: string;
  /**
   * PostgreSQL: every pending version in one transaction, recorded at the end. MySQL DDL is not
   * transactional, so each version is recorded as soon as it is whole, and a process killed half-way
   * resumes at the version it was in (whose statements are all IF NOT EXISTS).
   */
  transactionalDdl: boolean;
}

export async function migrateSqlServer(t: SqlMigrationTarget): Promise<void> {
  let conn: MigrationConnection;
  try {
    conn = await t.connect();
  } catch (err) {
    t.mapError(err);
  }
  try {
    await conn.lock();
    try {
      await conn.query(t.schemaTable);
      const [row] = await conn.query(`SELECT version FROM ${t.prefix}schema`);
      await applyPending(conn, t, row ? Number(row.version) : null);
    } finally {
      await conn.unlock().catch(() => {});
    }
  } catch (err) {
    t.mapError(err);
  } finally {
    conn.release();
  }
}

/** `current` is null when no version was ever recorded (a fresh prefix). */
async function applyPending(conn: MigrationConnection, t: SqlMigrationTarget, current: number | null): Promise<void> {
  const p = t.prefix;
  const pending = pendingMigrations(current ?? 0);
  let recorded = current !== null;
  const record = async (version: number) => {
    await conn.query(recorded ? `UPDATE ${p}schema SET version = ?` : `INSERT INTO ${p}schema (version) VALUES (?)`, [
      version,
    ]);
    recorded = true;
  };
  if (pending.length === 0) return;
  if (!t.transactionalDdl) {
    for (const m of pending) {
      for (const statement of m[t.dialect](p)) await conn.query(statement);
      await record(m.version);
    }
    return;
  }
  await conn.query('BEGIN');
  try {
    for (const m of pending) for (const statement of m[t.dialect](p)) await conn.query(statement);
    await record(LATEST_VERSION);
    await conn.query('COMMIT');
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
