// The store goes away under a running Gatehouse (PostgreSQL behind a TCP relay the test cuts): every
// request is answered 503 or served with a still-cached identity, nothing reaches the app anonymously,
// and service comes back by itself when the database does — with every account and session intact.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { TestClient } from '../support/client.js';
import { POSTGRES_URL, reachable, viaPort } from '../conformance/servers.js';

const up = await reachable(POSTGRES_URL);
let upstream: RecordingUpstream;
let relay: TcpRelay;
let gh: TestGatehouse;

describe('store outage (PostgreSQL through a relay)', { skip: up ? false : 'PostgreSQL not reachable' }, () => {
  before(async () => {
    upstream = await startRecordingUpstream();
    const u = new URL(POSTGRES_URL);
    relay = await startTcpRelay(u.hostname, Number(u.port || 5432));
    gh = await startTestGatehouse({
      upstream: upstream.url,
      env: {
        GATEHOUSE_DATABASE_URL: viaPort(POSTGRES_URL, relay.port),
        GATEHOUSE_TABLE_PREFIX: `gh_out${randomBytes(3).toString('hex')}_`,
      },
    });
  });
  after(async () => {
    relay?.restore();
    await gh?.stop();
    await relay?.close();
    await upstream?.close();
  });

  it('answers 503 or serves the cached identity while the store is down, and recovers by itself', async () => {
    const user = new TestClient(gh.url);
    assert.equal((await user.signUp('outage@example.com', 'a long enough password')).status, 303);
    const id = JSON.parse((await user.get('/auth/me')).text).id;
    assert.equal((await user.get('/echo')).status, 200);
    const stranger = new TestClient(gh.url);
    stranger.cookies.set('gatehouse_session', `${'Q'.repeat(43)}.${'R'.repeat(22)}`);
    upstream.clear();

    relay.cut();
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    const end = Date.now() + 4000;
    while (Date.now() < end) {
      const r = await user.get('/echo', { accept: 'application/json' });
      count(r.status);
      if (r.status === 503) assert.ok(r.headers['retry-after']);
      count((await new TestClient(gh.url).get('/echo', { accept: 'application/json' })).status);
      count((await stranger.get('/echo', { accept: 'application/json' })).status);
    }
    for (const s of statuses.keys()) assert.ok([200, 401, 503].includes(s), `unexpected ${s}`);
    assert.ok((statuses.get(503) ?? 0) > 0, 'once the cache expired, the store was needed and the answer was 503');
    for (const seen of upstream.requests)
      assert.equal(seen.headers['x-forwarded-user'], id, 'nothing anonymous or forged reached the app');
    const ready = await new TestClient(gh.url).get('/auth/ready');
    assert.equal(ready.status, 503);
    const signIn = await new TestClient(gh.url).signIn('outage@example.com', 'a long enough password');
    assert.equal(signIn.status, 503);
    assert.ok(signIn.headers['retry-after']);

    relay.restore();
    const t0 = Date.now();
    let back = false;
    while (!back && Date.now() - t0 < 10_000) {
      back =
        (await user.get('/echo', { accept: 'application/json' })).status === 200 &&
        (await new TestClient(gh.url).get('/auth/ready')).status === 200;
      if (!back) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(back, 'recovered within 10 s, same session cookie');
    assert.equal(JSON.parse((await user.get('/auth/me')).text).id, id);
    assert.equal((await new TestClient(gh.url).signIn('outage@example.com', 'a long enough password')).status, 303);
  });
});
