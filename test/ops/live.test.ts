// A running `gatehouse serve` switches auth off and on within 2 seconds when another process runs
// `gatehouse auth disable` / `enable`, with a request stream running and no request failing; identity
// headers stay stripped while auth is off.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { TestClient } from '../support/client.js';
import { dropPostgresTables } from '../support/drop-tables.js';
import { POSTGRES_URL, reachable } from '../conformance/servers.js';

const pgUp = await reachable(POSTGRES_URL);
const PREFIX = `gh_live${process.pid}_`;

let upstream: RecordingUpstream;
let home: ReturnType<typeof tempHome>;
let server: Awaited<ReturnType<typeof spawnServe>>;

before(async () => {
  upstream = await startRecordingUpstream();
  home = tempHome();
  server = await spawnServe(['--upstream', upstream.url], {
    GATEHOUSE_HOME: home.home,
    GATEHOUSE_TABLE_PREFIX: PREFIX,
  });
});
after(async () => {
  await server.stop();
  if (pgUp) await dropPostgresTables(POSTGRES_URL, PREFIX);
  await upstream.close();
  home.cleanup();
});

describe('live switching', () => {
  it('applies auth disable and enable from another process within 2 s, dropping no request', async () => {
    const user = new TestClient(server.url);
    assert.equal((await user.signUp('live@example.com', 'a long enough password')).status, 303);
    const env = { GATEHOUSE_HOME: home.home };
    let running = true;
    const failures: string[] = [];
    let signedIn = 0;
    // The stream: signed-in requests must always succeed, whatever the mode.
    const stream = (async () => {
      while (running) {
        try {
          const r = await request(server.url + '/echo', {
            headers: { cookie: user.cookieHeader()!, accept: 'application/json' },
          });
          await r.body.dump();
          if (r.statusCode !== 200) failures.push(`signed-in request answered ${r.statusCode}`);
          signedIn++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    })();
    const anonymous = async () => {
      const r = await request(server.url + '/echo', {
        headers: { accept: 'application/json', 'x-forwarded-user': 'spoofed' },
      });
      await r.body.dump();
      return r.statusCode;
    };
    const until = async (status: number) => {
      const t = Date.now();
      while (Date.now() - t < 5000) {
        if ((await anonymous()) === status) return Date.now() - t;
        await new Promise((r) => setTimeout(r, 20));
      }
      return Infinity;
    };

    assert.equal(await anonymous(), 401);
    assert.equal((await runCli(['auth', 'disable'], env)).code, 0);
    const offAfter = await until(200);
    assert.ok(offAfter <= 2000, `auth off after ${offAfter} ms`);
    const spoofs = upstream.requests.filter((r) => r.headers['x-forwarded-user'] === 'spoofed');
    assert.equal(spoofs.length, 0, 'identity headers are stripped while auth is off');

    assert.equal((await runCli(['auth', 'enable'], env)).code, 0);
    const onAfter = await until(401);
    assert.ok(onAfter <= 2000, `auth on after ${onAfter} ms`);
    running = false;
    await stream;
    assert.deepEqual(failures, []);
    assert.ok(signedIn > 20, `${signedIn} signed-in requests during the switch`);
    assert.equal(JSON.parse((await user.get('/auth/me')).text).email, 'live@example.com', 'users and sessions survive');
  });

  it(
    'moves to a newly enabled database binding without a restart',
    { skip: pgUp ? false : 'PostgreSQL not reachable' },
    async () => {
      const env = { GATEHOUSE_HOME: home.home };
      assert.equal(
        (await runCli(['bind', 'postgres', POSTGRES_URL], { ...env, GATEHOUSE_TABLE_PREFIX: PREFIX })).code,
        0,
      );
      assert.equal(
        (await runCli(['auth', 'enable', '--db', 'postgres'], { ...env, GATEHOUSE_TABLE_PREFIX: PREFIX })).code,
        0,
      );
      const email = `moved${Date.now()}@example.com`;
      const t = Date.now();
      let landed = false;
      while (!landed && Date.now() - t < 2000) {
        await new TestClient(server.url).signUp(email, 'a long enough password');
        const pg = new (await import('pg')).default.Client(POSTGRES_URL);
        await pg.connect();
        landed =
          (await pg.query(`SELECT 1 FROM ${PREFIX}users WHERE email = $1`, [email]).catch(() => ({ rowCount: 0 })))
            .rowCount === 1;
        await pg.end();
        if (!landed) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(landed, 'new accounts go to PostgreSQL within 2 s');
      assert.equal((await runCli(['auth', 'enable', '--db', 'embedded'], env)).code, 0, 'back to the embedded store');
    },
  );

  it('picks up a new social login provider without a restart', async () => {
    const env = { GATEHOUSE_HOME: home.home };
    assert.equal(
      (
        await runCli(
          [
            'auth',
            'providers',
            'add',
            'oidc',
            '--name',
            'corp',
            '--client-id',
            'id',
            '--client-secret',
            'shh-secret',
            '--issuer',
            'http://127.0.0.1:1',
            '--skip-check',
          ],
          env,
        )
      ).code,
      0,
    );
    const t = Date.now();
    let shown = false;
    while (!shown && Date.now() - t < 2000) {
      shown = (await new TestClient(server.url).get('/auth/sign-in')).text.includes('/auth/oauth/corp/start');
      if (!shown) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(shown, 'the button appears within 2 s');
    const list = await runCli(['auth', 'providers', 'list'], env);
    assert.match(list.stdout, /corp\s+oidc\s+client id\s+secret <set>/);
    assert.doesNotMatch(list.stdout, /shh-secret/);
    assert.equal(
      (
        await runCli(
          [
            'auth',
            'providers',
            'add',
            'oidc',
            '--name',
            'bad',
            '--client-id',
            'x',
            '--client-secret',
            'y',
            '--issuer',
            'http://evil.example',
          ],
          env,
        )
      ).code,
      2,
    );
    assert.equal((await runCli(['auth', 'providers', 'remove', 'corp'], env)).code, 0);
  });
});
