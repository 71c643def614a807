// Version 4 (second factor, architecture.md#mfa): a user's authenticator app (TOTP) and recovery codes, and how
// each session was made (`amr`). One change, written once per dialect side by side.
//
// - totp: one row per user. `secret` is sealed with the master key (config/secrets.ts), never plain;
//   `last_step` is the last accepted 30-second time-step, so a code is accepted once (RFC 6238 §5.2).
// - recovery_codes: only SHA-256 of (user id, code); a code is used up by deleting its row.
// - sessions.amr: comma-separated RFC 8176 values; NULL on sessions made before this version, which
//   read as derived from their provider (session/sessions.ts).
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const mfa: Migration = {
  version: 4,
  summary: 'totp, recovery_codes, sessions.amr',

  sqlite: (p) => [
    `CREATE TABLE ${p}totp (
       user_id TEXT PRIMARY KEY REFERENCES ${p}users(id) ON DELETE CASCADE, secret TEXT NOT NULL,
       confirmed INTEGER NOT NULL DEFAULT 0, last_step INTEGER, created_at INTEGER NOT NULL)`,
    `CREATE TABLE ${p}recovery_codes (
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, hash TEXT NOT NULL,
       created_at INTEGER NOT NULL, PRIMARY KEY (user_id, hash))`,
    `ALTER TABLE ${p}sessions ADD COLUMN amr TEXT`,
  ],

  postgres: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}totp (
       user_id TEXT PRIMARY KEY REFERENCES ${p}users(id) ON DELETE CASCADE, secret TEXT NOT NULL,
       confirmed BOOLEAN NOT NULL DEFAULT FALSE, last_step BIGINT, created_at BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${p}recovery_codes (
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, hash TEXT NOT NULL,
       created_at BIGINT NOT NULL, PRIMARY KEY (user_id, hash))`,
    `ALTER TABLE ${p}sessions ADD COLUMN IF NOT EXISTS amr TEXT`,
  ],

  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}totp (
       user_id VARCHAR(64) PRIMARY KEY, secret VARCHAR(512) NOT NULL, confirmed BOOLEAN NOT NULL DEFAULT FALSE,
       last_step BIGINT, created_at BIGINT NOT NULL,
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}recovery_codes (
       user_id VARCHAR(64) NOT NULL, hash CHAR(64) NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (user_id, hash),
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    `ALTER TABLE ${p}sessions ADD COLUMN IF NOT EXISTS amr VARCHAR(64)`,
  ],

  // totp documents are keyed by user id (_id); recovery codes by (userId, hash). Session documents
  // without `amr` read as derived from their provider.
  mongodb: [{ collection: 'recovery_codes', indexes: [{ key: { userId: 1, hash: 1 }, unique: true }] }],
};
