import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createMysqlStore, mysqlPoolConfig } from '../../src/store/mysql.js';
import { isStoreError } from '../../src/store/types.js';
import { dropMysqlTables } from '../support/drop-tables.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { defineStoreConformance } from './store-suite.js';
import { MYSQL_URL, reachable, relayOptions, viaPort, withQuery } from './servers.js';

const up = await reachable(MYSQL_URL);
const skip = up ? false : `MySQL/MariaDB is not reachable at ${new URL(MYSQL_URL).host} (set TEST_MYSQL_URL)`;
const u = new URL(MYSQL_URL);
const relay = up ? await startTcpRelay(u.hostname, Number(u.port || 3306)) : null;
after(() => relay?.close());

async function sql(statement: string, values: unknown[] = []): Promise<unknown> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    return (await conn.query(statement, values))[0];
  } finally {
    await conn.end();
  }
}

/** What the mysql2 pool itself was told to use as its connection limit (it connects lazily). */
async function poolSize(query: string, configured?: number): Promise<number> {
  const pool = mysql.createPool(mysqlPoolConfig(withQuery(MYSQL_URL, query), { poolSize: configured }));
  try {
    return Number(pool.pool.config.connectionLimit);
  } finally {
    await pool.end();
  }
}

defineStoreConformance('mysql (MariaDB)', async (prefix) => createMysqlStore(MYSQL_URL, { prefix }), {
  skip,
  cleanup: (prefix) => dropMysqlTables(MYSQL_URL, prefix),
  setSchemaVersion: async (prefix, version) => void (await sql(`UPDATE ${prefix}schema SET version = ?`, [version])),
  storedCounterKeys: async (prefix) =>
    ((await sql(`SELECT counter_key FROM ${prefix}counters`)) as Array<{ counter_key: string }>).map(
      (r) => r.counter_key,
    ),
  poolSize,
  relay: relay
    ? relayOptions(relay, async (prefix) => createMysqlStore(viaPort(MYSQL_URL, relay.port), { prefix }))
    : undefined,
});

describe('mysql (MariaDB) migrations', { skip }, () => {
  it('finish a step that was cut short (MySQL DDL is not transactional)', async () => {
    const prefix = `gh_t${randomBytes(4).toString('hex')}_`;
    const store = createMysqlStore(MYSQL_URL, { prefix });
    try {
      await store.migrate();
      // What a process killed half-way through step 1 leaves: some tables, no version recorded.
      await sql(`DROP TABLE ${prefix}counters, ${prefix}api_keys`);
      await sql(`DELETE FROM ${prefix}schema`);
      await store.migrate();
      assert.equal((await store.hit('k', 1000, new Date(0))).count, 1);
      const user = await store.createUser(
        { email: 'x@example.com', name: 'x', role: 'member', passwordHash: null, emailVerified: false },
        new Date(0),
      );
      await store.createApiKey({
        id: 'k',
        hash: 'k'.repeat(64),
        userId: user.id,
        name: 'k',
        role: 'member',
        createdAt: new Date(0),
        expiresAt: null,
        lastUsedAt: null,
        revoked: false,
      });
      await store.migrate();
    } finally {
      await store.close();
      await dropMysqlTables(MYSQL_URL, prefix);
    }
  });

  it('refuses a value longer than its column as INVALID, not as a raw driver error', async () => {
    const prefix = `gh_t${randomBytes(4).toString('hex')}_`;
    const store = createMysqlStore(MYSQL_URL, { prefix });
    try {
      await store.migrate();
      await assert.rejects(
        store.createUser(
          {
            email: 'long@example.com',
            name: 'n'.repeat(5000),
            role: 'member',
            passwordHash: null,
            emailVerified: false,
          },
          new Date(0),
        ),
        (e) => isStoreError(e, 'INVALID'),
      );
    } finally {
      await store.close();
      await dropMysqlTables(MYSQL_URL, prefix);
    }
  });
});
