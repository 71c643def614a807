// Two `gatehouse serve` processes on different ports over one PostgreSQL: a session made on one works
// on the other; a sign-out or a disabled user on one is honoured by the other within 5 s; lockout and
// rate limits count across both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { spawnServe, tempHome } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { POSTGRES_URL, reachable } from '../conformance/servers.js';

const up = await reachable(POSTGRES_URL);
const PREFIX = `gh_rep${randomBytes(3).toString('hex')}_`;
let upstream: RecordingUpstream;
let a: Awaited<ReturnType<typeof spawnServe>>;
let b: Awaited<ReturnType<typeof spawnServe>>;
let home: ReturnType<typeof tempHome>;

describe('two gatehouse serve processes sharing PostgreSQL', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  before(async () => {
    upstream = await startRecordingUpstream();
    home = tempHome(); // one home: both replicas share the signing secret, as deployed replicas share config
    const env = {
      GATEHOUSE_HOME: home.home,
      GATEHOUSE_DATABASE_URL: POSTGRES_URL,
      GATEHOUSE_TABLE_PREFIX: PREFIX,
      GATEHOUSE_RATE_LIMITS: 'sign-in=8/1m',
    };
    a = await spawnServe(['--upstream', upstream.url], env);
    b = await spawnServe(['--upstream', upstream.url], env);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await upstream?.close();
    home?.cleanup();
    if (up) {
      const client = new pg.Client(POSTGRES_URL);
      await client.connect();
      const { rows } = await client.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE $1`, [`${PREFIX}%`]);
      for (const r of rows) await client.query(`DROP TABLE IF EXISTS "${r.tablename}" CASCADE`);
      await client.end();
    }
  });

  const copy = (base: string, from: TestClient) => {
    const c = new TestClient(base);
    for (const [k, v] of from.cookies) c.cookies.set(k, v);
    return c;
  };
  const within5s = async (check: () => Promise<boolean>) => {
    const t = Date.now();
    while (Date.now() - t < 5000) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  it('honours a session made on one replica on the other, and a sign-out within 5 s', async () => {
    assert.notEqual(a.url, b.url);
    const onA = new TestClient(a.url);
    assert.equal((await onA.signUp('replica@example.com', 'a long enough password')).status, 303);
    const onB = copy(b.url, onA);
    assert.equal((await onB.get('/echo', { accept: 'application/json' })).status, 200);
    assert.equal((await onA.post('/auth/sign-out', {})).status, 303);
    assert.ok(await within5s(async () => (await onB.get('/echo', { accept: 'application/json' })).status === 401));
  });

  it('honours a user disabled through one replica on the other within 5 s', async () => {
    // Each replica that starts on an empty store prints a link and revokes the earlier ones: b started last.
    const setup = /setup=([A-Za-z0-9_-]+)/.exec(b.output())![1]!;
    const admin = new TestClient(a.url);
    assert.equal((await admin.signUp('boss@example.com', 'a long enough password', 'Boss', { setup })).status, 303);
    const member = new TestClient(b.url);
    await member.signUp('worker@example.com', 'a long enough password');
    const id = JSON.parse((await member.get('/auth/me')).text).id;
    const csrf = await admin.csrf('/auth/account'); /* the console's own forms are behind confirm pages */
    assert.equal((await admin.post(`/auth/admin/users/${id}/disable`, { csrf })).status, 303);
    assert.ok(await within5s(async () => (await member.get('/echo', { accept: 'application/json' })).status === 401));
  });

  it('counts lockout and rate limits across both replicas', async () => {
    await new TestClient(a.url).signUp('shared-lock@example.com', 'a long enough password');
    const attempt = async (base: string, password: string) => {
      const c = new TestClient(base);
      const csrf = csrfFrom((await c.get('/auth/sign-in')).text);
      return (await c.post('/auth/sign-in', { email: 'shared-lock@example.com', password, csrf })).status;
    };
    for (const base of [a.url, b.url, a.url, b.url, a.url]) assert.equal(await attempt(base, 'wrong password'), 401);
    assert.equal(await attempt(b.url, 'a long enough password'), 401, 'locked on B by failures counted on A and B');
    // The per-IP sign-in limit (8 a minute) is shared too.
    const statuses = [await attempt(a.url, 'x'), await attempt(b.url, 'x'), await attempt(a.url, 'x')];
    assert.ok(statuses.includes(429), statuses.join(','));
  });
});
