// The schema history (src/store/migrations/) is one list of versions, each written once per dialect.
// These checks keep the dialects from drifting apart: the same versions everywhere, and each version
// creating the same tables with the same columns on SQLite, PostgreSQL and MySQL (and indexes only on
// collections those tables name, for MongoDB).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { LATEST_VERSION, MIGRATIONS, pendingMigrations, type SqlDialect } from '../../src/store/migrations/index.js';
import { isStoreError } from '../../src/store/types.js';

const SQL: SqlDialect[] = ['sqlite', 'postgres', 'mysql'];
const P = 'px_';

it('numbers the versions 1..N, in order, and N is the version the backends write', () => {
  const versions = MIGRATIONS.map((m) => m.version);
  assert.deepEqual(
    versions,
    versions.map((_, i) => i + 1),
  );
  assert.equal(LATEST_VERSION, versions.length);
});

it('gives every dialect the same list of versions, none of them empty on a SQL dialect', () => {
  const versionsOf = (has: (m: (typeof MIGRATIONS)[number]) => boolean) => MIGRATIONS.filter(has).map((m) => m.version);
  const all = MIGRATIONS.map((m) => m.version);
  for (const d of SQL)
    assert.deepEqual(
      versionsOf((m) => m[d](P).length > 0),
      all,
      d,
    );
  assert.deepEqual(
    versionsOf((m) => Array.isArray(m.mongodb)),
    all,
    'mongodb',
  );
});

/** table → its column names, as a version's CREATE TABLE statements declare them. */
function tablesOf(statements: string[]): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const s of statements) {
    const m = /^\s*CREATE TABLE (?:IF NOT EXISTS )?px_(\w+) \(([\s\S]*)\)[^)]*$/.exec(s);
    if (!m) continue;
    // Split the body on the commas that are not inside parentheses.
    const parts: string[] = [];
    let depth = 0;
    let part = '';
    for (const ch of m[2]!) {
      if (ch === ',' && depth === 0) {
        parts.push(part);
        part = '';
        continue;
      }
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      part += ch;
    }
    parts.push(part);
    // Constraint clauses start with an upper-case keyword; column names are lower-case.
    const columns = parts
      .map((x) => x.trim().split(/\s+/)[0]!)
      .filter((w) => !/^(PRIMARY|FOREIGN|INDEX|UNIQUE|KEY|CONSTRAINT)$/.test(w));
    tables.set(m[1]!, columns.sort());
  }
  return tables;
}

// Shipped in version 1 and kept (see v0001.ts): SQLite's counters key column is `key`.
const SHIPPED_DRIFT: Record<string, string> = { 'sqlite:counters:key': 'counter_key' };

it('creates the same tables with the same columns on every SQL dialect, version by version', () => {
  for (const m of MIGRATIONS) {
    const per = SQL.map((d) => {
      const tables = tablesOf(m[d](P));
      for (const [t, cols] of tables) tables.set(t, cols.map((c) => SHIPPED_DRIFT[`${d}:${t}:${c}`] ?? c).sort());
      return [d, Object.fromEntries(tables)] as const;
    });
    for (const [d, tables] of per.slice(1))
      assert.deepEqual(tables, per[0]![1], `version ${m.version}: ${d} against ${per[0]![0]}`);
    const sqlTables = new Set(Object.keys(per[0]![1]));
    for (const step of m.mongodb)
      assert.ok(
        sqlTables.has(step.collection),
        `version ${m.version}: mongodb indexes "${step.collection}", a table no SQL dialect has`,
      );
  }
  assert.deepEqual(Object.keys(Object.fromEntries(tablesOf(MIGRATIONS[0]!.postgres(P)))).sort(), [
    'api_keys',
    'counters',
    'identities',
    'sessions',
    'tokens',
    'users',
  ]);
});

it('writes every MySQL statement so that it can run again (MySQL DDL is not transactional)', () => {
  const rerunnable = /^\s*(CREATE (TABLE|INDEX) IF NOT EXISTS |ALTER TABLE \S+ ADD COLUMN IF NOT EXISTS )/;
  for (const m of MIGRATIONS)
    for (const s of m.mysql(P)) assert.match(s, rerunnable, `version ${m.version}: ${s.slice(0, 60)}`);
});

it('puts the prefix on every table it creates', () => {
  for (const m of MIGRATIONS) {
    for (const d of SQL)
      for (const s of m[d](P))
        assert.match(s, /^\s*(CREATE (TABLE|INDEX) (IF NOT EXISTS )?|ALTER TABLE )px_/, `${d} v${m.version}`);
  }
});

it('applies what is missing, nothing when up to date, and refuses a newer schema', () => {
  assert.equal(pendingMigrations(0).length, MIGRATIONS.length);
  assert.deepEqual(pendingMigrations(LATEST_VERSION), []);
  assert.throws(
    () => pendingMigrations(LATEST_VERSION + 1),
    (e) => isStoreError(e, 'MIGRATION'),
  );
});
