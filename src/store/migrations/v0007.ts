// Version 7 (device_grant): device authorizations of the OAuth device grant (RFC 8628; architecture.md#devices).
// One row per device code, keyed on its SHA-256; the user code is stored as its SHA-256 too (unique, the
// key /auth/device looks it up by). Status pending → approved | denied by one conditional UPDATE; the
// token exchange deletes the decided row (one winner). Written once per dialect side by side.
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const deviceGrant: Migration = {
  version: 7,
  summary: 'device_authorizations',

  sqlite: (p) => [
    `CREATE TABLE ${p}device_authorizations (
       device_hash TEXT PRIMARY KEY, user_hash TEXT NOT NULL UNIQUE,
       client_id TEXT NOT NULL REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE,
       scopes TEXT NOT NULL, resource TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
       interval_s INTEGER NOT NULL, last_poll_at INTEGER, status TEXT NOT NULL,
       user_id TEXT REFERENCES ${p}users(id) ON DELETE CASCADE)`,
    `CREATE INDEX ${p}device_authorizations_expires ON ${p}device_authorizations(expires_at)`,
  ],

  postgres: (p) => [
    `CREATE TABLE ${p}device_authorizations (
       device_hash TEXT PRIMARY KEY, user_hash TEXT NOT NULL UNIQUE,
       client_id TEXT NOT NULL REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE,
       scopes TEXT NOT NULL, resource TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
       interval_s INTEGER NOT NULL, last_poll_at BIGINT, status TEXT NOT NULL,
       user_id TEXT REFERENCES ${p}users(id) ON DELETE CASCADE)`,
    `CREATE INDEX ${p}device_authorizations_expires ON ${p}device_authorizations(expires_at)`,
  ],

  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}device_authorizations (
       device_hash CHAR(64) PRIMARY KEY, user_hash CHAR(64) NOT NULL UNIQUE, client_id VARCHAR(255) NOT NULL,
       scopes TEXT NOT NULL, resource VARCHAR(400) NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
       interval_s INT NOT NULL, last_poll_at BIGINT, status VARCHAR(8) NOT NULL, user_id VARCHAR(64),
       INDEX (expires_at),
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE,
       FOREIGN KEY (client_id) REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
  ],

  mongodb: [
    {
      collection: 'device_authorizations',
      indexes: [
        { key: { userHash: 1 }, unique: true },
        { key: { expiresAt: 1 } },
        { key: { clientId: 1 } },
        { key: { userId: 1 } },
      ],
    },
  ],
};
