// `auth disable` leaves every account in place: after `auth enable` the same people sign in again with
// the same passwords, on a running `gatehouse serve`, on the embedded store and on a bound database.
// Regression: re-enabling without --db used to pick "the first binding that passes" even when auth
// already kept its users in another binding, so a disable/enable cycle silently moved to an empty
// database and every account was gone.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { dropMysqlTables, dropPostgresTables } from '../support/drop-tables.js';
import { MYSQL_URL, POSTGRES_URL, reachable } from '../conformance/servers.js';

const pgUp = await reachable(POSTGRES_URL);
const myUp = await reachable(MYSQL_URL);
const PREFIX = `gh_keep${process.pid}_`;
const PASSWORD = 'a long enough password';
const homes: Array<ReturnType<typeof tempHome>> = [];

after(async () => {
  for (const h of homes) h.cleanup();
  if (pgUp) await dropPostgresTables(POSTGRES_URL, PREFIX);
  if (myUp) await dropMysqlTables(MYSQL_URL, PREFIX);
});

/** Polls until an anonymous JSON request gets `status` (the running server re-reads the state file). */
async function until(url: string, status: number): Promise<boolean> {
  const t = Date.now();
  while (Date.now() - t < 2000) {
    if ((await new TestClient(url).get('/echo', { accept: 'application/json' })).status === status) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Sign up, disable (traffic passes), enable again, and sign in with the same password. */
async function cycle(env: Record<string, string>, enableArgs: string[]) {
  const server = await spawnServe(['--upstream', 'http://127.0.0.1:9'], env);
  try {
    const email = `kept-${Date.now()}@example.com`;
    assert.equal((await new TestClient(server.url).signUp(email, PASSWORD, 'Kept')).status, 303);
    const disabled = await runCli(['auth', 'disable'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.ok(await until(server.url, 502), 'auth off: the anonymous request reaches the (absent) app');
    const enabled = await runCli(['auth', 'enable', ...enableArgs], env);
    assert.equal(enabled.code, 0, enabled.stdout + enabled.stderr);
    assert.ok(await until(server.url, 401), 'auth on again');
    const again = new TestClient(server.url);
    assert.equal((await again.signIn(email, PASSWORD)).status, 303, 'the same account signs in after re-enabling');
    assert.equal(JSON.parse((await again.get('/auth/me')).text).email, email);
    return enabled.stdout;
  } finally {
    await server.stop();
  }
}

describe('auth disable keeps every user', () => {
  it('on the embedded store: sign in again after re-enabling', async () => {
    const home = tempHome();
    homes.push(home);
    await cycle({ GATEHOUSE_HOME: home.home }, []);
  });

  it(
    'on a bound database, also when another binding is listed first',
    { skip: pgUp && myUp ? false : 'needs PostgreSQL and MariaDB' },
    async () => {
      const home = tempHome();
      homes.push(home);
      const env = { GATEHOUSE_HOME: home.home, GATEHOUSE_TABLE_PREFIX: PREFIX };
      // PostgreSQL is bound first, so "the first binding that passes" would be PostgreSQL.
      assert.equal((await runCli(['bind', 'postgres', POSTGRES_URL, '--name', 'pg'], env)).code, 0);
      assert.equal((await runCli(['bind', 'mysql', MYSQL_URL, '--name', 'maria'], env)).code, 0);
      const first = await runCli(['auth', 'enable', '--db', 'maria'], env);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const out = await cycle(env, []);
      assert.match(out, /users stay in "maria"/);
      assert.match(out, /users in "maria" \(mysql\)/);
      assert.doesNotMatch(out, /fitness check: pg/);
      assert.equal(JSON.parse((await runCli(['auth', 'status', '--json'], env)).stdout).db, 'maria');
    },
  );
});
