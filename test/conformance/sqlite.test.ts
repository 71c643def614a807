import { join } from 'node:path';
import { after } from 'node:test';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { tempHome } from '../support/gatehouse.js';
import { defineStoreConformance } from './store-suite.js';

const home = tempHome();
after(() => home.cleanup());
// One file shared by every Store the suite opens, as several processes would share it.
defineStoreConformance('sqlite', async (prefix) => createSqliteStore(join(home.home, 'conformance.sqlite'), { prefix }));
