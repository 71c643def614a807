// Version 1: the initial schema. One change, written once per dialect side by side, so a reader (and
// test/store/migrations.test.ts) sees that every backend gets the same tables, columns and indexes.
// Never edit a version that has shipped: append a new vNNNN.ts and list it in index.ts.
//
// The SQL of SQLite and PostgreSQL runs inside one transaction per migrate(). MySQL DDL is not
// transactional, so a step cut short leaves some of its tables behind and the version is recorded only
// after the whole step: every MySQL statement is therefore safe to run again (IF NOT EXISTS).
import type { Migration } from './index.js';

const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

export const v0001: Migration = {
  version: 1,
  summary: 'users, identities, sessions, tokens, api_keys, counters',

  sqlite: (p) => [
    `CREATE TABLE ${p}users (
       id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
       password_hash TEXT, email_verified INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
       created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
    `CREATE TABLE ${p}identities (
       issuer TEXT NOT NULL, subject TEXT NOT NULL, provider TEXT NOT NULL,
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, email TEXT,
       created_at INTEGER NOT NULL, PRIMARY KEY (issuer, subject))`,
    `CREATE TABLE ${p}sessions (
       id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       provider TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
       expires_at INTEGER NOT NULL, ip TEXT, user_agent TEXT)`,
    `CREATE INDEX ${p}sessions_user ON ${p}sessions(user_id)`,
    `CREATE TABLE ${p}tokens (
       hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT REFERENCES ${p}users(id) ON DELETE CASCADE,
       email TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
    `CREATE TABLE ${p}api_keys (
       id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       name TEXT NOT NULL, role TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
       last_used_at INTEGER, revoked INTEGER NOT NULL DEFAULT 0)`,
    // Shipped with the column named `key` (the server dialects say counter_key, as KEY is reserved in
    // MySQL); renaming it would take a version 2 and cost every SQLite install its easy downgrade.
    `CREATE TABLE ${p}counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL)`,
  ],

  postgres: (p) => [
    `CREATE TABLE ${p}users (
       id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
       password_hash TEXT, email_verified BOOLEAN NOT NULL, disabled BOOLEAN NOT NULL DEFAULT FALSE,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
    `CREATE TABLE ${p}identities (
       issuer TEXT NOT NULL, subject TEXT NOT NULL, provider TEXT NOT NULL,
       user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, email TEXT, created_at BIGINT NOT NULL,
       PRIMARY KEY (issuer, subject))`,
    `CREATE TABLE ${p}sessions (
       id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE, provider TEXT NOT NULL,
       created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ip TEXT, user_agent TEXT)`,
    `CREATE INDEX ${p}sessions_user ON ${p}sessions(user_id)`,
    `CREATE TABLE ${p}tokens (
       hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT REFERENCES ${p}users(id) ON DELETE CASCADE,
       email TEXT, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)`,
    `CREATE TABLE ${p}api_keys (
       id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES ${p}users(id) ON DELETE CASCADE,
       name TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, last_used_at BIGINT,
       revoked BOOLEAN NOT NULL DEFAULT FALSE)`,
    `CREATE TABLE ${p}counters (counter_key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at BIGINT NOT NULL)`,
  ],

  mysql: (p) => [
    `CREATE TABLE IF NOT EXISTS ${p}users (
       id VARCHAR(64) PRIMARY KEY, email VARCHAR(320) NOT NULL UNIQUE, name VARCHAR(400) NOT NULL,
       role VARCHAR(16) NOT NULL,
       password_hash VARCHAR(512), email_verified BOOLEAN NOT NULL, disabled BOOLEAN NOT NULL DEFAULT FALSE,
       created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}identities (
       issuer VARCHAR(500) NOT NULL, subject VARCHAR(255) NOT NULL, provider VARCHAR(64) NOT NULL,
       user_id VARCHAR(64) NOT NULL, email VARCHAR(320), created_at BIGINT NOT NULL, PRIMARY KEY (issuer, subject),
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}sessions (
       id CHAR(64) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, provider VARCHAR(64) NOT NULL, created_at BIGINT NOT NULL,
       last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ip VARCHAR(64), user_agent VARCHAR(512),
       INDEX (user_id), FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}tokens (
       hash CHAR(64) PRIMARY KEY, kind VARCHAR(32) NOT NULL, user_id VARCHAR(64), email VARCHAR(320),
       created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${p}api_keys (
       id VARCHAR(32) PRIMARY KEY, hash CHAR(64) NOT NULL UNIQUE, user_id VARCHAR(64) NOT NULL,
       name VARCHAR(200) NOT NULL,
       role VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, last_used_at BIGINT,
       revoked BOOLEAN NOT NULL DEFAULT FALSE,
       FOREIGN KEY (user_id) REFERENCES ${p}users(id) ON DELETE CASCADE) ${MYSQL_TABLE}`,
    // VARCHAR(255) holds any key: counterKey() stores a long one as its SHA-256.
    `CREATE TABLE IF NOT EXISTS ${p}counters (
       counter_key VARCHAR(255) PRIMARY KEY, count INT NOT NULL, reset_at BIGINT NOT NULL) ${MYSQL_TABLE}`,
  ],

  // MongoDB has no tables: its schema is its indexes (uniqueness included). Collections appear on first
  // write; createIndexes is idempotent, so two processes migrating together both succeed.
  mongodb: [
    { collection: 'users', indexes: [{ key: { email: 1 }, unique: true }, { key: { createdAt: 1, _id: 1 } }] },
    { collection: 'identities', indexes: [{ key: { issuer: 1, subject: 1 }, unique: true }, { key: { userId: 1 } }] },
    { collection: 'sessions', indexes: [{ key: { userId: 1 } }, { key: { expiresAt: 1 } }] },
    { collection: 'tokens', indexes: [{ key: { userId: 1 } }] },
    { collection: 'api_keys', indexes: [{ key: { hash: 1 }, unique: true }, { key: { userId: 1 } }] },
  ],
};
