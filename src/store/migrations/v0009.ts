// Version 9 (signing_keys, replicas): the assertion signing keys live in the store, so replicas that share
// only the database sign with the same keys (architecture.md#access). A key's private JWK is sealed with the
// master key; `generation` (1, 2, …) is the primary key, so of two replicas making the first key, or two
// rotations at once, exactly one wins. `replicas` holds each running server's heartbeat and the public URL it
// serves as, so a replica can warn about another with a different one. Written once per dialect side by side.
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const signingKeys: Migration = {
  version: 9,
  summary: 'signing_keys, replicas',

  sqlite: (p) => [
    `CREATE TABLE ${p}signing_keys (
       generation INTEGER PRIMARY KEY, kid TEXT NOT NULL UNIQUE, sealed TEXT NOT NULL,
       created_at INTEGER NOT NULL, signs_from INTEGER NOT NULL)`,
    `CREATE TABLE ${p}replicas (id TEXT PRIMARY KEY, public_url TEXT NOT NULL, seen_at INTEGER NOT NULL)`,
    `CREATE INDEX ${p}replicas_seen ON ${p}replicas(seen_at)`,
  ],

  postgres: (p) => [
    `CREATE TABLE ${p}signing_keys (
       generation INTEGER PRIMARY KEY, kid TEXT NOT NULL UNIQUE, sealed TEXT NOT NULL,
       created_at BIGINT NOT NULL, signs_from BIGINT NOT NULL)`,
    `CREATE TABLE ${p}replicas (id TEXT PRIMARY KEY, public_url TEXT NOT NULL, seen_at BIGINT NOT NULL)`,
    `CREATE INDEX ${p}replicas_seen ON ${p}replicas(seen_at)`,
  ],

  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}signing_keys (
       generation INT PRIMARY KEY, kid VARCHAR(64) NOT NULL UNIQUE, sealed TEXT NOT NULL,
       created_at BIGINT NOT NULL, signs_from BIGINT NOT NULL) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}replicas (
       id VARCHAR(64) PRIMARY KEY, public_url VARCHAR(2048) NOT NULL, seen_at BIGINT NOT NULL,
       INDEX (seen_at)) ${MYSQL_TABLE}`,
  ],

  mongodb: [
    { collection: 'signing_keys', indexes: [{ key: { kid: 1 }, unique: true }] },
    { collection: 'replicas', indexes: [{ key: { seenAt: 1 } }] },
  ],
};
