// What a SQL dialect hands the shared verbs (sql-store.ts): a driver and what the dialect does differently.
import type { Row } from '../sql-common.js';
import type { CounterState, StoreKind } from '../types.js';

export interface SqlDriver {
  /** The rows of a SELECT, or of a statement with RETURNING. `?` placeholders, values in order. */
  rows(sql: string, values?: unknown[]): Promise<Row[]>;
  /** How many rows an INSERT, UPDATE or DELETE changed. */
  affected(sql: string, values?: unknown[]): Promise<number>;
}

export interface SqlBackend {
  kind: Exclude<StoreKind, 'mongodb'>;
  prefix: string; // already checked by checkPrefix
  driver: SqlDriver;
  /** UPDATE … RETURNING and DELETE … RETURNING work (SQLite, PostgreSQL; not MySQL). */
  returning: boolean;
  /** The key column of the counters table: `key` on SQLite (as shipped), `counter_key` elsewhere. */
  counterColumn: string;
  /** A column bound tighter than the contract (MySQL VARCHAR(512)) cuts the user agent to fit. */
  userAgentMax?: number;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Runs `work` on one connection in one transaction: committed when it resolves, rolled back when it
   *  throws, and never half applied if the process or the connection dies on the way. */
  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T>;
  /** One atomic fixed-window hit; `key` has already been through counterKey(). */
  hit(key: string, windowMs: number, now: Date): Promise<CounterState>;
}

export const first = async (rows: Promise<Row[]>): Promise<Row | undefined> => (await rows)[0];

/** The first row through `map`, or null when there is none. */
export const one = async <T>(rows: Promise<Row[]>, map: (r: Row) => T): Promise<T | null> => {
  const r = await first(rows);
  return r ? map(r) : null;
};
