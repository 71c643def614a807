// `serve --workers 2`: one port, two processes sharing one signing secret and one store; a session made
// on one worker is honoured by the other, and a sign-out is honoured by both within 2 seconds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnServe, tempHome } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { TestClient } from '../support/client.js';

let upstream: RecordingUpstream;
let home: ReturnType<typeof tempHome>;
let server: Awaited<ReturnType<typeof spawnServe>>;

before(async () => {
  upstream = await startRecordingUpstream();
  home = tempHome();
  server = await spawnServe(['--upstream', upstream.url, '--workers', '2'], { GATEHOUSE_HOME: home.home });
});
after(async () => {
  await server.stop();
  await upstream.close();
  home.cleanup();
});

describe('serve --workers 2', () => {
  it('announces one setup link and serves sessions across workers', async () => {
    assert.equal(server.output().match(/setup=/g)?.length, 1);
    const c = new TestClient(server.url);
    assert.equal((await c.signUp('w@example.com', 'worker password long')).status, 303);
    // Fresh connections land on either worker; every one must accept the session.
    for (let i = 0; i < 20; i++) {
      const r = await c.get('/echo', { accept: 'application/json', connection: 'close' });
      assert.equal(r.status, 200);
    }
    const pids = new Set(upstream.requests.map((r) => r.headers['x-forwarded-user']));
    assert.equal(pids.size, 1);
  });

  it('honours a sign-out on every worker within 2 seconds', async () => {
    const c = new TestClient(server.url);
    await c.signUp('w2@example.com', 'worker password long');
    const saved = c.cookieHeader()!;
    for (let i = 0; i < 6; i++) await c.get('/echo', { connection: 'close' }); // warm both workers' caches
    assert.equal((await c.post('/auth/sign-out', {})).status, 303);
    await new Promise((r) => setTimeout(r, 2100));
    for (let i = 0; i < 10; i++) {
      const r = await new TestClient(server.url).get('/echo', {
        cookie: saved,
        accept: 'application/json',
        connection: 'close',
      });
      assert.equal(r.status, 401);
    }
  });

  it('drains and exits on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
    server.child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
