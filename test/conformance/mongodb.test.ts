// MongoDB: against a real server when TEST_MONGODB_URL is set; otherwise the real `mongodb` driver
// against the wire-protocol DOUBLE in test/support/mongo-double.ts (see its header for what a double
// cannot prove).
import { after } from 'node:test';
import { MongoClient } from 'mongodb';
import { createMongoStore, mongoClientSettings } from '../../src/store/mongodb.js';
import { startMongoDouble } from '../support/mongo-double.js';
import { defineStoreConformance } from './store-suite.js';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { checkFitness } from '../../src/store/fitness.js';
import { withQuery } from './servers.js';

const real = process.env.TEST_MONGODB_URL;
const double = real ? null : await startMongoDouble();
after(() => double?.close());
const url = real ?? double!.url;

/** The maxPoolSize the driver itself parsed from the settings (a MongoClient connects only when used). */
async function poolSize(query: string, configured?: number): Promise<number> {
  const settings = mongoClientSettings(withQuery(url, query), { poolSize: configured });
  const client = new MongoClient(settings.url, settings.options);
  try {
    return client.options.maxPoolSize;
  } finally {
    await client.close();
  }
}

async function storedCounterKeys(prefix: string): Promise<string[]> {
  const client = new MongoClient(url);
  try {
    return (await client.db().collection<{ _id: string }>(`${prefix}counters`).find().toArray()).map((d) => d._id);
  } finally {
    await client.close();
  }
}

defineStoreConformance(
  real ? 'mongodb (real server)' : 'mongodb (wire-protocol double, not a real MongoDB)',
  async (prefix) => createMongoStore(url, { prefix }),
  {
    poolSize,
    storedCounterKeys,
    relay: double
      ? {
          open: async (prefix) => createMongoStore(url, { prefix }),
          cut: () => double.cut(),
          restore: () => double.restore(),
        }
      : undefined,
  },
);

it('passes the auth-enable fitness check through the real driver', async () => {
  const r = await checkFitness(url);
  assert.deepEqual(
    r.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.step}`),
    ['✓ connect', '✓ create table', '✓ write', '✓ read', '✓ clean up'],
  );
  assert.equal(r.ok, true);
});
