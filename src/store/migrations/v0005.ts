// Version 5: devices and personal tokens (architecture.md#devices). Columns added to existing tables,
// nothing new:
// - api_keys.scopes: the key's scopes, space-separated (scope names never contain a space), checked by
//   `scope:S` access rules and forwarded as X-Forwarded-Scopes. Read with the key on every check, so a
//   column beats a join table, as for users.group_names.
// - sessions.paired_from: for a session made with a pairing code, the device that asked for the code
//   ("Firefox on macOS", or the CLI), shown on the account page. NULL for every other session.
// - tokens.note: what a single-use token carries besides its user (a pairing code: paired_from).
import type { Migration } from './index.js';

export const devices: Migration = {
  version: 5,
  summary: 'api_keys.scopes, sessions.paired_from, tokens.note',
  sqlite: (p) => [
    `ALTER TABLE ${p}api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT ''`,
    `ALTER TABLE ${p}sessions ADD COLUMN paired_from TEXT`,
    `ALTER TABLE ${p}tokens ADD COLUMN note TEXT`,
  ],
  postgres: (p) => [
    `ALTER TABLE ${p}api_keys ADD COLUMN IF NOT EXISTS scopes TEXT NOT NULL DEFAULT ''`,
    `ALTER TABLE ${p}sessions ADD COLUMN IF NOT EXISTS paired_from TEXT`,
    `ALTER TABLE ${p}tokens ADD COLUMN IF NOT EXISTS note TEXT`,
  ],
  mysql: (p) => [
    `ALTER TABLE ${p}api_keys ADD COLUMN IF NOT EXISTS scopes VARCHAR(2048) NOT NULL DEFAULT ''`,
    `ALTER TABLE ${p}sessions ADD COLUMN IF NOT EXISTS paired_from VARCHAR(200)`,
    `ALTER TABLE ${p}tokens ADD COLUMN IF NOT EXISTS note VARCHAR(200)`,
  ],
  mongodb: [], // documents without the fields read as none
};
