// The `auth enable` fitness check against the real PostgreSQL and MariaDB: it passes where Gatehouse can
// keep its users, and names the cause when it cannot. Users, roles and databases made here are dropped
// afterwards; the shared servers are never stopped.
//
// PostgreSQL here trusts every connection from 127.0.0.1 (pg_hba.conf: `host all all 127.0.0.1/32
// trust`), so it accepts any password and cannot show a wrong one. That case runs against a few-line
// stand-in that speaks just enough of the PostgreSQL wire protocol to refuse the password with SQLSTATE
// 28P01 the way a real server does; MariaDB shows it for real.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { checkFitness, type FitnessResult } from '../../src/store/fitness.js';
import { MYSQL_URL, POSTGRES_URL, reachable } from '../conformance/servers.js';

const ALL_STEPS = ['✓ connect', '✓ create table', '✓ write', '✓ read', '✓ clean up'];
const stepsOf = (r: FitnessResult) => r.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.step}`);
const failed = (r: FitnessResult) => r.steps.find((s) => !s.ok)!;
const tag = () => randomBytes(4).toString('hex');

function withUser(url: string, user: string, password: string, db?: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  if (db !== undefined) u.pathname = `/${db}`;
  return u.toString();
}

function assertNoSecret(r: FitnessResult, secret: string) {
  assert.ok(!JSON.stringify(r).includes(secret), `the password leaked into ${JSON.stringify(r)}`);
}

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port on which nothing listens: bound, then released. */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => {});
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Answers a PostgreSQL startup with a password request, then refuses any password with 28P01. */
function pgRefusingPasswords(socket: Socket) {
  let stage: 'startup' | 'password' = 'startup';
  socket.on('data', () => {
    if (stage === 'startup') {
      stage = 'password';
      socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
      return;
    }
    const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "gh"'].map((f) =>
      Buffer.from(`${f}\0`),
    );
    const body = Buffer.concat([...fields, Buffer.from([0])]);
    const head = Buffer.alloc(5);
    head.write('E', 0);
    head.writeInt32BE(body.length + 4, 1);
    socket.end(Buffer.concat([head, body]));
  });
  socket.on('error', () => {});
}

describe('fitness check: anywhere', () => {
  let silent: { server: Server; port: number };
  const held: Socket[] = [];
  before(async () => {
    // Accepts connections and never answers: a firewall that drops packets, as far as a client can tell.
    silent = await listen((s) => void held.push(s.on('error', () => {})));
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.server.close(() => r()));
  });

  for (const scheme of ['postgres', 'mysql'] as const) {
    it(`${scheme}: an unreachable port fails at connect and asks whether the server runs there`, async () => {
      const port = await closedPort();
      const r = await checkFitness(`${scheme}://gh:pw-unreachable@127.0.0.1:${port}/test`);
      assert.deepEqual(stepsOf(r), ['✗ connect']);
      assert.equal(r.ok, false);
      assert.equal(failed(r).hint, `is the server running and reachable at 127.0.0.1:${port}?`);
      assertNoSecret(r, 'pw-unreachable');
    });

    it(`${scheme}: a server that never answers times out at connect with the same hint`, async () => {
      const r = await checkFitness(`${scheme}://gh:pw-silent@127.0.0.1:${silent.port}/test`, { timeoutMs: 300 });
      assert.deepEqual(stepsOf(r), ['✗ connect']);
      assert.equal(failed(r).hint, `is the server running and reachable at 127.0.0.1:${silent.port}?`);
      assertNoSecret(r, 'pw-silent');
    });
  }

  it('a host name that does not resolve says so', async () => {
    const r = await checkFitness('postgres://gh@gatehouse-no-such-host.invalid/test', { timeoutMs: 2000 });
    assert.deepEqual(stepsOf(r), ['✗ connect']);
    assert.equal(failed(r).hint, 'the host name "gatehouse-no-such-host.invalid" does not resolve');
  });

  it('postgres: a refused password says so, and the password appears nowhere (protocol stand-in, see header)', async () => {
    const fake = await listen(pgRefusingPasswords);
    try {
      const secret = 'S3cret-p@ss/word';
      const r = await checkFitness(
        withUser(`postgres://127.0.0.1:${fake.port}/test`, 'gh', encodeURIComponent(secret)),
      );
      assert.deepEqual(stepsOf(r), ['✗ connect']);
      assert.equal(failed(r).hint, 'wrong user name or password?');
      assert.match(failed(r).detail ?? '', /password authentication failed/);
      assertNoSecret(r, secret);
      assertNoSecret(r, encodeURIComponent(secret));
    } finally {
      await new Promise<void>((r) => fake.server.close(() => r()));
    }
  });

  it('refuses what is not a database URL, with a hint', async () => {
    const r = await checkFitness('not a url');
    assert.equal(r.ok, false);
    assert.deepEqual(stepsOf(r), ['✗ connect']);
    assert.ok(failed(r).hint);
  });
});

const pgUp = await reachable(POSTGRES_URL);
describe(
  'fitness check: PostgreSQL',
  { skip: pgUp ? false : `PostgreSQL is not reachable at ${new URL(POSTGRES_URL).host} (set TEST_POSTGRES_URL)` },
  () => {
    let admin: pg.Client;
    const role = `gh_fit_${tag()}`;
    before(async () => {
      admin = new pg.Client(POSTGRES_URL);
      await admin.connect();
    });
    after(async () => {
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await admin.end();
    });

    const scratchTables = async () =>
      (await admin.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'gatehouse\\_fitness\\_%'`)).rows.map(
        (r) => String(r.tablename),
      );

    it('passes every step and leaves no scratch table behind', async () => {
      const before = new Set(await scratchTables());
      const r = await checkFitness(POSTGRES_URL);
      assert.deepEqual(stepsOf(r), ALL_STEPS);
      assert.equal(r.ok, true);
      assert.deepEqual(
        (await scratchTables()).filter((t) => !before.has(t)),
        [],
      );
    });

    it('a missing database fails at connect and names it', async () => {
      const u = new URL(POSTGRES_URL);
      u.pathname = `/gh_missing_${tag()}`;
      const r = await checkFitness(u.toString());
      assert.deepEqual(stepsOf(r), ['✗ connect']);
      assert.equal(failed(r).hint, `the database "${u.pathname.slice(1)}" does not exist: create it first`);
    });

    it('a user without CREATE on the schema connects, then fails at create table with a hint', async () => {
      // PostgreSQL 15 no longer lets every role create in `public`; a fresh login role has only USAGE.
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      const r = await checkFitness(withUser(POSTGRES_URL, role, 'pw-nocreate'));
      assert.deepEqual(stepsOf(r), ['✓ connect', '✗ create table']);
      assert.equal(failed(r).hint, 'the user has no CREATE permission: grant it, or bind a user that has it');
      assertNoSecret(r, 'pw-nocreate');
    });
  },
);

const myUp = await reachable(MYSQL_URL);
describe(
  'fitness check: MariaDB',
  { skip: myUp ? false : `MySQL/MariaDB is not reachable at ${new URL(MYSQL_URL).host} (set TEST_MYSQL_URL)` },
  () => {
    let admin: mysql.Connection;
    const user = `gh_fit_${tag()}`;
    const db = `gh_fit_${tag()}`;
    // The server sees 127.0.0.1 as either host name, depending on its name resolution.
    const hosts = ['127.0.0.1', 'localhost'];
    const accounts = hosts.map((h) => `'${user}'@'${h}'`).join(', ');
    const password = 'Right-pw!42';
    before(async () => {
      admin = await mysql.createConnection({ uri: MYSQL_URL });
      await admin.query(`CREATE DATABASE ${db}`);
      for (const h of hosts) await admin.query(`CREATE USER '${user}'@'${h}' IDENTIFIED BY ?`, [password]);
    });
    after(async () => {
      await admin.query(`DROP USER IF EXISTS ${accounts}`).catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${db}`).catch(() => {});
      await admin.end();
    });
    const grant = async (privileges: string) => {
      await admin.query(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${accounts}`);
      await admin.query(`GRANT ${privileges} ON ${db}.* TO ${accounts}`);
    };
    const tablesIn = async (schema: string) =>
      (
        (
          await admin.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?`, [schema])
        )[0] as Array<{ t: string }>
      ).map((r) => r.t);

    it('passes every step and leaves no scratch table behind', async () => {
      await grant('ALL PRIVILEGES');
      const r = await checkFitness(withUser(MYSQL_URL, user, password, db));
      assert.deepEqual(stepsOf(r), ALL_STEPS, JSON.stringify(r));
      assert.equal(r.ok, true);
      assert.deepEqual(await tablesIn(db), []);
    });

    it('also passes for the configured test URL', async () => {
      const r = await checkFitness(MYSQL_URL);
      assert.deepEqual(stepsOf(r), ALL_STEPS, JSON.stringify(r));
    });

    it('a wrong password fails at connect, says so, and never shows the password', async () => {
      const r = await checkFitness(withUser(MYSQL_URL, user, 'Wrong-pw!13', db));
      assert.deepEqual(stepsOf(r), ['✗ connect']);
      assert.equal(failed(r).hint, 'wrong user name or password?');
      assertNoSecret(r, 'Wrong-pw!13');
    });

    it('a missing database fails at connect and names it', async () => {
      const missing = `gh_missing_${tag()}`;
      const r = await checkFitness(withUser(MYSQL_URL, 'root', '', missing));
      assert.deepEqual(stepsOf(r), ['✗ connect']);
      assert.equal(failed(r).hint, `the database "${missing}" does not exist: create it first`);
    });

    it('a user without CREATE connects, then fails at create table with a hint', async () => {
      await grant('SELECT, INSERT');
      const r = await checkFitness(withUser(MYSQL_URL, user, password, db));
      assert.deepEqual(stepsOf(r), ['✓ connect', '✗ create table']);
      assert.equal(failed(r).hint, 'the user has no CREATE permission: grant it, or bind a user that has it');
      assertNoSecret(r, password);
    });

    it('a user without DROP passes the data steps and fails at clean up, naming DROP', async () => {
      await grant('SELECT, INSERT, CREATE');
      const r = await checkFitness(withUser(MYSQL_URL, user, password, db));
      assert.deepEqual(stepsOf(r), ['✓ connect', '✓ create table', '✓ write', '✓ read', '✗ clean up']);
      assert.equal(r.ok, false);
      assert.equal(failed(r).hint, 'the user has no DROP permission: grant it, or bind a user that has it');
      // The scratch table it could not drop lives in this test's own database, dropped in after().
      assert.equal((await tablesIn(db)).filter((t) => t.startsWith('gatehouse_fitness_')).length, 1);
    });
  },
);
