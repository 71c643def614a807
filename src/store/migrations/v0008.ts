// Version 8 (events): recent security events, the audit log's copy in the store so that every replica's
// console sees the same list. Bounded: the session sweep prunes by age and count (services.ts). No
// foreign key on user_id: an event outlives the account it names. Written once per dialect side by side.
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const events: Migration = {
  version: 8,
  summary: 'events',

  sqlite: (p) => [
    `CREATE TABLE ${p}events (
       id TEXT PRIMARY KEY, at INTEGER NOT NULL, event TEXT NOT NULL, user_id TEXT, email TEXT, ip TEXT, detail TEXT)`,
    `CREATE INDEX ${p}events_at ON ${p}events(at)`,
    `CREATE INDEX ${p}events_user ON ${p}events(user_id, at)`,
    `CREATE INDEX ${p}events_email ON ${p}events(email, at)`,
  ],

  postgres: (p) => [
    `CREATE TABLE ${p}events (
       id TEXT PRIMARY KEY, at BIGINT NOT NULL, event TEXT NOT NULL, user_id TEXT, email TEXT, ip TEXT, detail TEXT)`,
    `CREATE INDEX ${p}events_at ON ${p}events(at)`,
    `CREATE INDEX ${p}events_user ON ${p}events(user_id, at)`,
    `CREATE INDEX ${p}events_email ON ${p}events(email, at)`,
  ],

  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}events (
       id VARCHAR(36) PRIMARY KEY, at BIGINT NOT NULL, event VARCHAR(64) NOT NULL, user_id VARCHAR(64),
       email VARCHAR(320), ip VARCHAR(64), detail TEXT,
       INDEX (at), INDEX (user_id, at), INDEX (email, at)) ${MYSQL_TABLE}`,
  ],

  mongodb: [
    {
      collection: 'events',
      indexes: [{ key: { at: -1 } }, { key: { userId: 1, at: -1 } }, { key: { email: 1, at: -1 } }],
    },
  ],
};
