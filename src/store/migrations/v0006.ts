// Version 6 (oauth): Gatehouse as the OAuth 2.1 authorization server for MCP resources (architecture.md#oauth).
// Clients (registered or cached Client ID Metadata Documents), consents, and one table for codes,
// access and refresh tokens — each row keyed on the SHA-256 of its secret, never the secret. A token's
// `family` is the grant it came from: replaying a rotated refresh token ends the whole family.
// Written once per dialect side by side; MySQL statements are re-runnable (IF NOT EXISTS).
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const oauth: Migration = {
  version: 6,
  summary: 'oauth_clients, oauth_consents, oauth_tokens',

  sqlite: (p) => [
    `CREATE TABLE ${p}oauth_clients (
       id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, redirect_uris TEXT NOT NULL,
       created_at INTEGER NOT NULL, last_used_at INTEGER, cached_until INTEGER)`,
    `CREATE TABLE ${p}oauth_consents (
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       client_id TEXT NOT NULL REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE,
       resource TEXT NOT NULL, scopes TEXT NOT NULL, created_at INTEGER NOT NULL,
       PRIMARY KEY (user_id, client_id, resource))`,
    `CREATE TABLE ${p}oauth_tokens (
       hash TEXT PRIMARY KEY, kind TEXT NOT NULL, family TEXT NOT NULL,
       client_id TEXT NOT NULL REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE,
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       resource TEXT NOT NULL, scopes TEXT NOT NULL, redirect_uri TEXT, code_challenge TEXT,
       created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER)`,
    `CREATE INDEX ${p}oauth_tokens_family ON ${p}oauth_tokens(family)`,
    `CREATE INDEX ${p}oauth_tokens_user ON ${p}oauth_tokens(user_id, client_id)`,
  ],

  postgres: (p) => [
    `CREATE TABLE ${p}oauth_clients (
       id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, redirect_uris TEXT NOT NULL,
       created_at BIGINT NOT NULL, last_used_at BIGINT, cached_until BIGINT)`,
    `CREATE TABLE ${p}oauth_consents (
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       client_id TEXT NOT NULL REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE,
       resource TEXT NOT NULL, scopes TEXT NOT NULL, created_at BIGINT NOT NULL,
       PRIMARY KEY (user_id, client_id, resource))`,
    `CREATE TABLE ${p}oauth_tokens (
       hash TEXT PRIMARY KEY, kind TEXT NOT NULL, family TEXT NOT NULL,
       client_id TEXT NOT NULL REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE,
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       resource TEXT NOT NULL, scopes TEXT NOT NULL, redirect_uri TEXT, code_challenge TEXT,
       created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT)`,
    `CREATE INDEX ${p}oauth_tokens_family ON ${p}oauth_tokens(family)`,
    `CREATE INDEX ${p}oauth_tokens_user ON ${p}oauth_tokens(user_id, client_id)`,
  ],

  // Key lengths: InnoDB keys hold 3072 bytes, 4 per utf8mb4 character: (64 + 255 + 400) × 4 fits.
  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}oauth_clients (
       id VARCHAR(255) PRIMARY KEY, kind VARCHAR(8) NOT NULL, name VARCHAR(200) NOT NULL, redirect_uris TEXT NOT NULL,
       created_at BIGINT NOT NULL, last_used_at BIGINT, cached_until BIGINT) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}oauth_consents (
       user_id VARCHAR(64) NOT NULL, client_id VARCHAR(255) NOT NULL, resource VARCHAR(400) NOT NULL,
       scopes TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (user_id, client_id, resource),
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE,
       FOREIGN KEY (client_id) REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}oauth_tokens (
       hash CHAR(64) PRIMARY KEY, kind VARCHAR(8) NOT NULL, family VARCHAR(64) NOT NULL,
       client_id VARCHAR(255) NOT NULL,
       user_id VARCHAR(64) NOT NULL, resource VARCHAR(400) NOT NULL, scopes TEXT NOT NULL, redirect_uri TEXT,
       code_challenge VARCHAR(128), created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT,
       INDEX (family), INDEX (user_id, client_id),
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE,
       FOREIGN KEY (client_id) REFERENCES ${p}oauth_clients(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
  ],

  mongodb: [
    { collection: 'oauth_clients', indexes: [{ key: { kind: 1, lastUsedAt: 1, createdAt: 1 } }] },
    {
      collection: 'oauth_consents',
      indexes: [{ key: { userId: 1, clientId: 1, resource: 1 }, unique: true }, { key: { clientId: 1 } }],
    },
    {
      collection: 'oauth_tokens',
      indexes: [
        { key: { family: 1 } },
        { key: { userId: 1, clientId: 1 } },
        { key: { clientId: 1 } },
        { key: { expiresAt: 1 } },
      ],
    },
  ],
};
