// The schema history of every backend, one entry per version, oldest first. Entry N is schema version
// N on SQLite, PostgreSQL, MySQL and MongoDB alike: a version is one change written once per dialect
// (see v0001.ts), so the backends cannot drift apart version by version. test/store/migrations.test.ts
// checks that the versions run 1..N and that every dialect's version creates the same tables and columns.
//
// How each backend applies them — under which lock, in which transaction — stays in the backend, since
// that is where the dialects really differ; what to apply, and the refusal of a newer schema, is here.
import type { IndexDescription } from 'mongodb';
import { StoreError } from '../types.js';
import { v0001 } from './v0001.js';
import { v0002 } from './v0002.js';
import { passkeys } from './v0003.js';
import { mfa } from './v0004.js';
import { devices } from './v0005.js';
import { oauth } from './v0006.js';
import { deviceGrant } from './v0007.js';
import { events } from './v0008.js';
import { signingKeys } from './v0009.js';

export type SqlDialect = 'sqlite' | 'postgres' | 'mysql';

/** Indexes to create on one collection; `collection` is unprefixed. */
export interface MongoIndexStep {
  collection: string;
  indexes: IndexDescription[];
}

export interface Migration {
  version: number;
  summary: string;
  /** The statements of this version for each SQL dialect, for the table prefix `p`; run in order. */
  sqlite(p: string): string[];
  postgres(p: string): string[];
  mysql(p: string): string[];
  mongodb: MongoIndexStep[];
}

export const MIGRATIONS: readonly Migration[] = [
  v0001,
  v0002,
  passkeys,
  mfa,
  devices,
  oauth,
  deviceGrant,
  events,
  signingKeys,
];

/** The schema version this Gatehouse writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The migrations to apply on top of schema version `current`, oldest first (none when up to date).
 * A schema newer than this Gatehouse is refused: an older binary must not write to it.
 */
export function pendingMigrations(current: number): readonly Migration[] {
  if (current > LATEST_VERSION) {
    throw new StoreError('MIGRATION', `schema version ${current} is newer than this Gatehouse (${LATEST_VERSION})`);
  }
  return MIGRATIONS.filter((m) => m.version > current);
}
