// Version 2: groups on users (architecture.md#access). Stored as one sorted, comma-separated column: group names
// ([a-z0-9][a-z0-9._-]{0,63}) never contain a comma, a user has a handful, and they are read with
// the user on every session check, so a join table would cost a query where a column costs nothing.
// `group_names`, not `groups`: GROUPS is a reserved word in MySQL 8.
import type { Migration } from './index.js';

export const v0002: Migration = {
  version: 2,
  summary: 'users.group_names',
  sqlite: (p) => [`ALTER TABLE ${p}users ADD COLUMN group_names TEXT NOT NULL DEFAULT ''`],
  postgres: (p) => [`ALTER TABLE ${p}users ADD COLUMN IF NOT EXISTS group_names TEXT NOT NULL DEFAULT ''`],
  mysql: (p) => [`ALTER TABLE ${p}users ADD COLUMN IF NOT EXISTS group_names VARCHAR(4096) NOT NULL DEFAULT ''`],
  mongodb: [], // documents without the field read as no groups
};
