// Version 3 (passkeys): WebAuthn credentials, one row per credential (architecture.md#passkeys). The
// credential id is the primary key: it is what an authenticator hands back at sign-in, before anyone
// knows the user. It is base64url (ASCII) of up to 1023 bytes, so MySQL keeps it in an ascii column:
// 1400 bytes fit an InnoDB index where 1400 utf8mb4 characters would not. Transports are few short
// words, stored comma-separated like users.group_names.
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const passkeys: Migration = {
  version: 3,
  summary: 'passkeys',

  sqlite: (p) => [
    `CREATE TABLE ${p}passkeys (
       id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       public_key TEXT NOT NULL, counter INTEGER NOT NULL, transports TEXT NOT NULL, name TEXT NOT NULL,
       created_at INTEGER NOT NULL, last_used_at INTEGER)`,
    `CREATE INDEX ${p}passkeys_user ON ${p}passkeys(user_id)`,
  ],

  postgres: (p) => [
    `CREATE TABLE ${p}passkeys (
       id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       public_key TEXT NOT NULL, counter BIGINT NOT NULL, transports TEXT NOT NULL, name TEXT NOT NULL,
       created_at BIGINT NOT NULL, last_used_at BIGINT)`,
    `CREATE INDEX ${p}passkeys_user ON ${p}passkeys(user_id)`,
  ],

  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}passkeys (
       id VARCHAR(1400) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY, user_id VARCHAR(64) NOT NULL,
       public_key TEXT NOT NULL, counter BIGINT NOT NULL, transports VARCHAR(200) NOT NULL, name VARCHAR(400) NOT NULL,
       created_at BIGINT NOT NULL, last_used_at BIGINT,
       INDEX (user_id), FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
  ],

  mongodb: [{ collection: 'passkeys', indexes: [{ key: { userId: 1, createdAt: 1 } }] }],
};
