import { after } from 'node:test';
import pg from 'pg';
import { createPostgresStore } from '../../src/store/postgres.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { defineStoreConformance } from './store-suite.js';
import { POSTGRES_URL, reachable, viaPort } from './servers.js';

const up = await reachable(POSTGRES_URL);
const u = new URL(POSTGRES_URL);
const relay = up ? await startTcpRelay(u.hostname, Number(u.port || 5432)) : null;
after(() => relay?.close());

async function dropPrefix(prefix: string) {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`, [`${prefix}%`]);
    for (const r of rows) await client.query(`DROP TABLE IF EXISTS "${r.tablename}" CASCADE`);
  } finally {
    await client.end();
  }
}

defineStoreConformance('postgres', async (prefix) => createPostgresStore(POSTGRES_URL, { prefix }), {
  skip: up ? false : `PostgreSQL is not reachable at ${u.host} (set TEST_POSTGRES_URL)`,
  cleanup: dropPrefix,
  relay: relay
    ? { open: async (prefix) => createPostgresStore(viaPort(POSTGRES_URL, relay.port), { prefix }), cut: () => relay.cut(), restore: () => relay.restore() }
    : undefined,
});
