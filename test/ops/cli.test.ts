// The real CLI as a subprocess: bindings, auth enable with the fitness check against the real
// PostgreSQL and MariaDB (and against failures), status, disable/enable keeping users, rotate-secret,
// and the file modes of what it writes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { runCli, tempHome } from '../support/gatehouse.js';
import { MYSQL_URL, POSTGRES_URL, reachable } from '../conformance/servers.js';
import { openStore } from '../../src/store/open.js';
import { dropMysqlTables, dropPostgresTables } from '../support/drop-tables.js';

const pgUp = await reachable(POSTGRES_URL);
const myUp = await reachable(MYSQL_URL);
let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

// Tables of this run's own on the shared servers: another checkout's schema under the default prefix
// must not decide what this one finds.
const PREFIX = `gh_cli${process.pid}_`;

before(() => {
  home = tempHome();
  env = { GATEHOUSE_HOME: home.home, GATEHOUSE_SERVER: 'ci', GATEHOUSE_PROFILE: 'p1' };
});
after(async () => {
  home.cleanup();
  if (pgUp) await dropPostgresTables(POSTGRES_URL, PREFIX);
  if (myUp) await dropMysqlTables(MYSQL_URL, PREFIX);
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('gatehouse CLI', () => {
  it('enables auth on the embedded store, writes private files, and reports status as text and JSON', async () => {
    const r = await runCli(['auth', 'enable'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /auth: ENABLED on server "ci" \(profile "p1"\)/);
    assert.match(r.stdout, /✓ email \+ password sign-in, sessions/);
    assert.match(r.stdout, /– password reset: bind smtp/);
    assert.match(r.stdout, /setup: create the admin account at http:\/\/127\.0\.0\.1:4180\/auth\/sign-up\?setup=/);
    assert.equal(mode(home.home), 0o700);
    assert.equal(mode(join(home.home, 'ci.p1.json')), 0o600);
    assert.equal(mode(join(home.home, 'master.key')), 0o600);
    assert.equal(mode(join(home.home, 'ci.p1.sqlite')), 0o600);

    const text = await runCli(['auth', 'status'], env);
    assert.match(
      text.stdout,
      /auth: ENABLED on server "ci" \(profile "p1"\)\n {2}database: {4}the embedded store \(.*ci\.p1\.sqlite\)\n {2}AUTH_SECRET: <set>\n {2}providers: {3}none/,
    );
    const json = JSON.parse((await runCli(['auth', 'status', '--json'], env)).stdout);
    const database = `the embedded store (${join(home.home, 'ci.p1.sqlite')})`;
    assert.deepEqual(json, {
      server: 'ci',
      profile: 'p1',
      enabled: true,
      mode: 'on',
      db: 'embedded',
      database,
      authSecret: '<set>',
      providers: [],
    });
    const other = JSON.parse((await runCli(['auth', 'status', '--json', '--profile', 'p2'], env)).stdout);
    assert.equal(other.enabled, false, 'another profile is an independent setup');
  });

  it('keeps every user through disable and enable, and rotate-secret ends every session', async () => {
    const file = `sqlite:${join(home.home, 'ci.p1.sqlite')}`;
    const store = await openStore(file);
    await store.migrate();
    const u = await store.createUser(
      { email: 'kept@example.com', name: 'K', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    await store.createSession({
      id: 's'.repeat(64),
      userId: u.id,
      provider: 'password',
      createdAt: new Date(),
      lastSeenAt: new Date(),
      expiresAt: new Date(Date.now() + 1e6),
      ip: null,
      userAgent: null,
    });
    assert.equal((await runCli(['auth', 'disable'], env)).code, 0);
    assert.match((await runCli(['auth', 'status'], env)).stdout, /auth: DISABLED/);
    assert.equal((await runCli(['auth', 'enable'], env)).code, 0);
    assert.equal((await store.findUserByEmail('kept@example.com'))?.id, u.id);
    const before = JSON.parse((await import('node:fs')).readFileSync(join(home.home, 'ci.p1.json'), 'utf8')).auth
      .secret;
    const rotated = await runCli(['auth', 'rotate-secret'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /1 session\(s\) ended/);
    assert.equal(await store.findSession('s'.repeat(64)), null);
    const afterSecret = JSON.parse((await import('node:fs')).readFileSync(join(home.home, 'ci.p1.json'), 'utf8')).auth
      .secret;
    assert.notEqual(afterSecret, before);
    await store.close();
  });

  it('binds without ever printing a password, and refuses bad bindings with exit code 2', async () => {
    const r = await runCli(
      ['bind', 'smtp', 'smtp://mailer:hunter2secret@127.0.0.1:2525', '--from', 'App <no-reply@example.com>'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const list = await runCli(['bindings'], env);
    assert.match(list.stdout, /smtp\s+smtp\s+smtp:\/\/mailer:<set>@127\.0\.0\.1:2525/);
    assert.doesNotMatch(list.stdout + r.stdout, /hunter2secret/);
    const raw = (await import('node:fs')).readFileSync(join(home.home, 'ci.p1.json'), 'utf8');
    assert.doesNotMatch(raw, /hunter2secret/, 'sealed at rest');
    assert.equal((await runCli(['bind', 'postgres', 'mysql://x@y/z'], env)).code, 2);
    assert.equal((await runCli(['bind', 'nosuch', 'x://y'], env)).code, 2);
    assert.equal((await runCli(['unbind', 'nothing'], env)).code, 1);
    assert.match((await runCli(['auth', 'enable'], env)).stdout, /✓ password reset and email verification/);
    assert.equal((await runCli(['unbind', 'smtp'], env)).code, 0);
  });

  it('fails the fitness check clearly against an unreachable database and enables nothing', async () => {
    const e = { ...env, GATEHOUSE_PROFILE: 'down' };
    assert.equal(
      (await runCli(['bind', 'postgres', 'postgres://postgres:secretpw@127.0.0.1:1/test', '--name', 'gone'], e)).code,
      0,
    );
    const r = await runCli(['auth', 'enable', '--db', 'gone'], e);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ connect/);
    assert.match(r.stdout, /hint: is the server running and reachable at 127\.0\.0\.1:1\?/);
    assert.doesNotMatch(r.stdout + r.stderr, /secretpw/);
    assert.equal(JSON.parse((await runCli(['auth', 'status', '--json'], e)).stdout).enabled, false);
    assert.equal((await runCli(['auth', 'enable', '--db', 'nope'], e)).code, 2);
  });

  it(
    'passes every fitness step on the real PostgreSQL and keeps users there',
    { skip: pgUp ? false : 'PostgreSQL not reachable' },
    async () => {
      const e = { ...env, GATEHOUSE_PROFILE: 'pg', GATEHOUSE_TABLE_PREFIX: PREFIX };
      assert.equal((await runCli(['bind', 'postgres', POSTGRES_URL], e)).code, 0);
      const r = await runCli(['auth', 'enable'], e);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      for (const step of ['connect', 'create table', 'write', 'read', 'clean up'])
        assert.match(r.stdout, new RegExp(`✓ ${step}`));
      assert.match(r.stdout, /users in "postgres" \(postgres\)/);
      assert.match((await runCli(['auth', 'status'], e)).stdout, /database: {4}binding "postgres" \(postgres, /);
      const missing = new URL(POSTGRES_URL);
      missing.pathname = `/no_such_db_${process.pid}`;
      const f = { ...env, GATEHOUSE_PROFILE: 'pgfail', GATEHOUSE_TABLE_PREFIX: PREFIX };
      assert.equal((await runCli(['bind', 'postgres', missing.toString(), '--name', 'nodb'], f)).code, 0);
      const bad = await runCli(['auth', 'enable', '--db', 'nodb'], f);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /✗ connect[\s\S]*hint: the database "no_such_db_\d+" does not exist/);
      // (PostgreSQL here trusts every local user, so a wrong password cannot be shown on it; MariaDB shows it.)
    },
  );

  it(
    'passes on the real MariaDB, and names the cause of each failure',
    { skip: myUp ? false : 'MariaDB not reachable' },
    async () => {
      const e = { ...env, GATEHOUSE_PROFILE: 'my', GATEHOUSE_TABLE_PREFIX: PREFIX };
      assert.equal((await runCli(['bind', 'mysql', MYSQL_URL], e)).code, 0);
      const ok = await runCli(['auth', 'enable', '--db', 'mysql'], e);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      for (const step of ['connect', 'create table', 'write', 'read', 'clean up'])
        assert.match(ok.stdout, new RegExp(`✓ ${step}`));

      const admin = await mysql.createConnection({ uri: MYSQL_URL });
      const user = `gh_fit_${process.pid}`;
      try {
        await admin.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1', '${user}'@'localhost'`);
        for (const h of ['127.0.0.1', 'localhost']) {
          await admin.query(`CREATE USER '${user}'@'${h}' IDENTIFIED BY 'right-password'`);
          await admin.query(`GRANT SELECT ON test.* TO '${user}'@'${h}'`);
        }
        const base = new URL(MYSQL_URL);
        const as = (password: string, db = 'test') => `mysql://${user}:${password}@${base.host}/${db}`;
        const f = { ...env, GATEHOUSE_PROFILE: 'fail' };
        const cases: Array<[string, string, RegExp]> = [
          ['wrongpw', as('wrong-password'), /✗ connect[\s\S]*hint: wrong user name or password\?/],
          [
            'nodb',
            `mysql://root@${base.host}/no_such_db_${process.pid}`,
            /✗ connect[\s\S]*hint: the database "no_such_db_\d+" does not exist/,
          ],
          [
            'nocreate',
            as('right-password'),
            /✓ connect[\s\S]*✗ create table[\s\S]*hint: the user has no CREATE permission/,
          ],
        ];
        for (const [name, url, expected] of cases) {
          assert.equal((await runCli(['bind', 'mysql', url, '--name', name], f)).code, 0);
          const r = await runCli(['auth', 'enable', '--db', name], f);
          assert.equal(r.code, 1, name);
          assert.match(r.stdout, expected, name);
          assert.doesNotMatch(r.stdout, /right-password|wrong-password/);
        }
        assert.equal(JSON.parse((await runCli(['auth', 'status', '--json'], f)).stdout).enabled, false);
      } finally {
        await admin.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1', '${user}'@'localhost'`);
        await admin.end();
      }
    },
  );

  it('refuses invalid configuration with one message that lists every problem', async () => {
    const r = await runCli(['serve', '--port', '0', '--upstream', 'http://127.0.0.1:9'], {
      ...env,
      GATEHOUSE_AUTH_MODE: 'sideways',
      GATEHOUSE_TYPO: '1',
      GATEHOUSE_RATE_LIMITS: 'sign-in=lots',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid configuration:/);
    for (const p of [
      /GATEHOUSE_AUTH_MODE must be/,
      /unknown environment variable GATEHOUSE_TYPO/,
      /GATEHOUSE_RATE_LIMITS: "sign-in=lots"/,
    ])
      assert.match(r.stderr, p);
    const file = join(home.home, 'ci.p1.json');
    const fs = await import('node:fs');
    const saved = fs.readFileSync(file, 'utf8');
    try {
      const state = JSON.parse(saved);
      state.auth.modee = 'on';
      state.extra = true;
      fs.writeFileSync(file, JSON.stringify(state));
      const s = await runCli(['serve', '--port', '0', '--upstream', 'http://127.0.0.1:9'], env);
      assert.equal(s.code, 2);
      assert.match(s.stderr, /unknown key "extra"/);
      assert.match(s.stderr, /unknown key "auth.modee"/);
    } finally {
      fs.writeFileSync(file, saved);
    }
  });

  it('answers usage errors with exit code 2 and one sentence', async () => {
    const r = await runCli(['auth', 'frobnicate'], env);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal((await runCli(['serve', '--port', 'x', '--upstream', 'ftp://a'], env)).code, 2);
    assert.equal((await runCli(['--server', 'bad name!', 'auth', 'status'], env)).code, 2);
  });
});
