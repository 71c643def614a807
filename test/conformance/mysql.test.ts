import { after } from 'node:test';
import mysql from 'mysql2/promise';
import { createMysqlStore } from '../../src/store/mysql.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { defineStoreConformance } from './store-suite.js';
import { MYSQL_URL, reachable, viaPort } from './servers.js';

const up = await reachable(MYSQL_URL);
const u = new URL(MYSQL_URL);
const relay = up ? await startTcpRelay(u.hostname, Number(u.port || 3306)) : null;
after(() => relay?.close());

async function dropPrefix(prefix: string) {
  const conn = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const [rows] = await conn.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?`, [`${prefix}%`]);
    await conn.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const r of rows as Array<{ t: string }>) await conn.query(`DROP TABLE IF EXISTS \`${r.t}\``);
  } finally {
    await conn.end();
  }
}

defineStoreConformance('mysql (MariaDB)', async (prefix) => createMysqlStore(MYSQL_URL, { prefix }), {
  skip: up ? false : `MySQL/MariaDB is not reachable at ${u.host} (set TEST_MYSQL_URL)`,
  cleanup: dropPrefix,
  relay: relay
    ? { open: async (prefix) => createMysqlStore(viaPort(MYSQL_URL, relay.port), { prefix }), cut: () => relay.cut(), restore: () => relay.restore() }
    : undefined,
});
