// Two Gatehouse replicas on different ports over one PostgreSQL: a session made on one works on the
// other; a sign-out or a disabled user on one is honoured by the other within 5 s; lockout and rate
// limits count across both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { GENEROUS_LIMITS, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { POSTGRES_URL, reachable } from '../conformance/servers.js';

const up = await reachable(POSTGRES_URL);
let upstream: RecordingUpstream;
let a: TestGatehouse;
let b: TestGatehouse;
let home: ReturnType<typeof tempHome>;

describe('two replicas sharing PostgreSQL', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  before(async () => {
    upstream = await startRecordingUpstream();
    home = tempHome(); // one home: both replicas share the signing secret, as they would share config
    const env = { GATEHOUSE_DATABASE_URL: POSTGRES_URL, GATEHOUSE_TABLE_PREFIX: `gh_rep${randomBytes(3).toString('hex')}_` };
    const limits = { perIp: { ...GENEROUS_LIMITS.perIp, 'sign-in': { limit: 8, windowMs: 60_000 } }, perAccount: {} };
    const lockout = { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 60_000, memoryMs: 60_000 };
    a = await startTestGatehouse({ home: home.home, upstream: upstream.url, env, limits, lockout });
    b = await startTestGatehouse({ home: home.home, upstream: upstream.url, env, limits, lockout, announceSetup: false });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await upstream?.close();
    home?.cleanup();
  });

  const on = (gh: TestGatehouse, c: TestClient) => {
    const other = new TestClient(gh.url);
    for (const [k, v] of c.cookies) other.cookies.set(k, v);
    return other;
  };

  it('honours a session made on one replica on the other, and a sign-out within 5 s', async () => {
    const onA = new TestClient(a.url);
    assert.equal((await onA.signUp('replica@example.com', 'a long enough password')).status, 303);
    const onB = on(b, onA);
    assert.equal((await onB.get('/echo', { accept: 'application/json' })).status, 200);
    assert.equal((await onA.post('/auth/sign-out', {})).status, 303);
    const t = Date.now();
    let refused = false;
    while (!refused && Date.now() - t < 5000) {
      refused = (await onB.get('/echo', { accept: 'application/json' })).status === 401;
      if (!refused) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(refused, 'replica B refused the signed-out session within 5 s');
  });

  it('honours a user disabled through one replica on the other within 5 s', async () => {
    const admin = new TestClient(a.url);
    assert.equal((await admin.signUp('boss@example.com', 'a long enough password', 'Boss', { setup: a.setupToken! })).status, 303);
    const member = new TestClient(b.url);
    await member.signUp('worker@example.com', 'a long enough password');
    const id = JSON.parse((await member.get('/auth/me')).text).id;
    const csrf = await admin.csrf('/auth/admin');
    assert.equal((await admin.post(`/auth/admin/users/${id}/disable`, { csrf })).status, 303);
    const t = Date.now();
    let refused = false;
    while (!refused && Date.now() - t < 5000) {
      refused = (await member.get('/echo', { accept: 'application/json' })).status === 401;
      if (!refused) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(refused);
  });

  it('counts lockout and rate limits across both replicas', async () => {
    await new TestClient(a.url).signUp('shared-lock@example.com', 'a long enough password');
    const attempt = async (gh: TestGatehouse, password: string) => {
      const c = new TestClient(gh.url);
      const csrf = csrfFrom((await c.get('/auth/sign-in')).text);
      return (await c.post('/auth/sign-in', { email: 'shared-lock@example.com', password, csrf })).status;
    };
    // Five wrong passwords spread over both replicas lock the account on both.
    for (const gh of [a, b, a, b, a]) assert.equal(await attempt(gh, 'wrong password'), 401);
    assert.equal(await attempt(b, 'a long enough password'), 401, 'locked on B by failures counted on A and B');
    // The per-IP limit (8 / min) is shared too: the next attempts are over it on either replica.
    const statuses = [await attempt(a, 'x'), await attempt(b, 'x'), await attempt(a, 'x')];
    assert.ok(statuses.includes(429), statuses.join(','));
  });
});
