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
defineStoreConformance('sqlite', async (prefix) => createSqliteStore(file, { prefix }), {
  setSchemaVersion: async (prefix, version) => {
    const db = new Database(file);
    try {
      db.prepare(`UPDATE ${prefix}schema SET version = ?`).run(version);
    } finally {
      db.close();
    }
  },
});
