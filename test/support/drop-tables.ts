// Tests that point Gatehouse at the shared PostgreSQL / MariaDB use a table prefix of their own and
// drop exactly those tables afterwards (never anything else on the shared servers).
import mysql from 'mysql2/promise';

export async function dropPostgresTables(url: string, prefix: string): Promise<void> {
  const pg = new (await import('pg')).default.Client(url);
  await pg.connect();
  try {
    const { rows } = await pg.query(
      `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`,
      [`${prefix}%`],
    );
    for (const r of rows as Array<{ tablename: string }>)
      await pg.query(`DROP TABLE IF EXISTS "${r.tablename}" CASCADE`);
  } finally {
    await pg.end();
  }
}

export async function dropMysqlTables(url: string, prefix: string): Promise<void> {
  const my = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await my.query(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?`,
      [`${prefix}%`],
    );
    await my.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const r of rows as Array<{ t: string }>) await my.query(`DROP TABLE IF EXISTS \`${r.t}\``);
  } finally {
    await my.end();
  }
}
