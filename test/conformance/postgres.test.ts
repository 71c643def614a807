import { after } from 'node:test';
import pg from 'pg';
import { createPostgresStore, postgresPoolConfig } from '../../src/store/postgres.js';
import { dropPostgresTables } from '../support/drop-tables.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { defineStoreConformance } from './store-suite.js';
import { POSTGRES_URL, reachable, relayOptions, viaPort, withQuery } from './servers.js';

const up = await reachable(POSTGRES_URL);
const u = new URL(POSTGRES_URL);
const relay = up ? await startTcpRelay(u.hostname, Number(u.port || 5432)) : null;
after(() => relay?.close());

async function sql(text: string, values: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

const setSchemaVersion = async (prefix: string, version: number) =>
  void (await sql(`UPDATE ${prefix}schema SET version = $1`, [version]));
const storedCounterKeys = async (prefix: string) =>
  (await sql(`SELECT counter_key FROM ${prefix}counters`)).map((r) => String(r.counter_key));

/** What pg.Pool itself was told to use as its maximum (the pool connects lazily: nothing is opened). */
async function poolSize(query: string, configured?: number): Promise<number> {
  const pool = new pg.Pool(postgresPoolConfig(withQuery(POSTGRES_URL, query), { poolSize: configured }));
  try {
    return pool.options.max;
  } finally {
    await pool.end();
  }
}

defineStoreConformance('postgres', async (prefix) => createPostgresStore(POSTGRES_URL, { prefix }), {
  skip: up ? false : `PostgreSQL is not reachable at ${u.host} (set TEST_POSTGRES_URL)`,
  cleanup: (prefix) => dropPostgresTables(POSTGRES_URL, prefix),
  setSchemaVersion,
  storedCounterKeys,
  poolSize,
  relay: relay
    ? relayOptions(relay, async (prefix) => createPostgresStore(viaPort(POSTGRES_URL, relay.port), { prefix }))
    : undefined,
});
