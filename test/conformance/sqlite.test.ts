import { join } from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { tempHome } from '../support/gatehouse.js';
import { defineStoreConformance } from './store-suite.js';

const home = tempHome();
after(() => home.cleanup());
// One file shared by every Store the suite opens, as several processes would share it.
const file = join(home.home, 'conformance.sqlite');
// SQLite has no pool (one connection per process), so no poolSize here.
defineStoreConformance('sqlite', async (prefix) => createSqliteStore(file, { prefix }), {
  storedCounterKeys: async (prefix) => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare(`SELECT key FROM ${prefix}counters`).all() as Array<{ key: string }>).map((r) => r.key);
    } finally {
      db.close();
    }
  },
  setSchemaVersion: async (prefix, version) => {
    const db = new Database(file);
    try {
      db.prepare(`UPDATE ${prefix}schema SET version = ?`).run(version);
    } finally {
      db.close();
    }
  },
});
