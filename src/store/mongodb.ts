// MongoDB backend (official driver). Collections are prefixed; uniqueness comes from unique indexes,
// single-use tokens from findOneAndDelete (one winner), counters from one findOneAndUpdate with an
// update pipeline (window rollover included). MongoDB has no foreign keys, so deleteUser cascades by hand.
// Prefix, pool size and counter keys follow rules.ts, and the indexes migrations/, like every backend.
// The verbs are in mongo/, one module per domain, composed here into the store.
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { DRIVER_TIMEOUT_MS } from './deadline.js';
import { pendingMigrations } from './migrations/index.js';
import { collections, unbounded, wrap, type Collections } from './mongo/common.js';
import { keyOps, passkeyOps } from './mongo/credentials.js';
import { deviceOps } from './mongo/devices.js';
import { eventOps } from './mongo/events.js';
import { mfaOps } from './mongo/mfa.js';
import { oauthClientOps, oauthTokenOps } from './mongo/oauth.js';
import { sessionOps, tokenOps } from './mongo/sessions.js';
import { counterOps, signingKeyOps } from './mongo/shared-state.js';
import { identityOps, userOps } from './mongo/users.js';
import { checkPrefix, takePoolSizeFromString } from './rules.js';
import type { Store, StoreOptions } from './types.js';

/**
 * The driver settings for a binding URL. `?pool=` / `?max=` / GATEHOUSE_DB_POOL become maxPoolSize,
 * bounded like every backend's pool (the driver would take 0 as "unbounded"); a bad size throws
 * StoreError('INVALID') before connecting.
 */
export function mongoClientSettings(
  url: string,
  options: StoreOptions = {},
): { url: string; options: MongoClientOptions } {
  const { url: rest, poolSize } = takePoolSizeFromString(url, options.poolSize);
  // A hung server: selection, connecting and waiting for a pooled connection give up with the call's
  // deadline; a socket silent for longer than a migration may take is closed.
  const timeouts = {
    serverSelectionTimeoutMS: DRIVER_TIMEOUT_MS,
    connectTimeoutMS: DRIVER_TIMEOUT_MS,
    waitQueueTimeoutMS: DRIVER_TIMEOUT_MS,
    socketTimeoutMS: 15_000,
  };
  return { url: rest, options: { maxPoolSize: poolSize, ...timeouts } };
}

/** Creates the pending versions' indexes, recording each version as it completes (so a cut-short run resumes). */
async function migrate(db: Db, p: string, { schema }: Collections): Promise<void> {
  const current = (await schema.findOne({ _id: 'schema' }))?.version ?? 0;
  for (const m of pendingMigrations(current)) {
    // createIndexes is idempotent, so two replicas migrating together both succeed.
    for (const step of m.mongodb) await db.collection(`${p}${step.collection}`).createIndexes(step.indexes);
    // $max: a replica that got further never has its version lowered by a slower one.
    await schema
      .updateOne({ _id: 'schema' }, { $max: { version: m.version } }, { upsert: true })
      .catch((err: { code?: number }) => {
        if (err.code !== 11000) throw err; // a concurrent upsert of the same document won
      });
  }
}

export function createMongoStore(url: string, options: StoreOptions = {}): Store {
  const p = checkPrefix(options.prefix ?? 'gatehouse_');
  const settings = mongoClientSettings(url, options);
  const client = new MongoClient(settings.url, settings.options);
  const db: Db = client.db(); // the database named in the URL ("test" when none)
  const c = collections(db, p);
  return {
    kind: 'mongodb',
    migrate: () => unbounded(() => migrate(db, p, c)),
    ping: () => wrap(async () => void (await db.command({ ping: 1 }))),
    close: () => client.close(),
    ...userOps(c),
    ...identityOps(c),
    ...sessionOps(c),
    ...tokenOps(c),
    ...keyOps(c),
    ...passkeyOps(c),
    ...mfaOps(c),
    ...oauthClientOps(c),
    ...oauthTokenOps(c),
    ...deviceOps(c),
    ...eventOps(c),
    ...signingKeyOps(c),
    ...counterOps(c),
  };
}
