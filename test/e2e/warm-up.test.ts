// The warm-up before listening (src/warm-up.ts) runs through the real server, gate and forwarder with
// a session that exists only in memory. What must hold: it takes the signed-in path when the gate would
// forward it, and the app, the store and the audit log see nothing of it — no request, no connection,
// no session, no event — so the first visitor is the app's first request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRecordingUpstream } from '../support/upstream.js';
import { runCli, startTestGatehouse, tempHome } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { updateState } from '../../src/config/state.js';

const PASSWORD = 'correct horse battery staple';

/** A Gatehouse in front of a recording app, on a home prepared first (rules, auth off) when asked. */
async function started(opts: { env?: Record<string, string>; access?: unknown[]; authOff?: boolean } = {}) {
  const own = tempHome();
  const upstream = await startRecordingUpstream();
  const scope = { home: own.home, server: 'local', profile: 'main' };
  // The state file is written by the first start; rules and auth off go into it before the measured one.
  await (await startTestGatehouse({ home: own.home })).close();
  if (opts.access) updateState(scope, (s) => ({ ...s!, access: opts.access as never }));
  if (opts.authOff) assert.equal((await runCli(['auth', 'disable'], { GATEHOUSE_HOME: own.home })).code, 0);
  const gh = await startTestGatehouse({
    upstream: upstream.url,
    home: own.home,
    ...(opts.env ? { env: opts.env } : {}),
  });
  return {
    upstream,
    gh,
    async stop() {
      await gh.stop();
      await upstream.close();
      own.cleanup();
    },
  };
}

describe('the warm-up before listening', () => {
  it('takes the signed-in path, and leaves the app, the store and the session cache untouched', async () => {
    const upstream = await startRecordingUpstream();
    const gh = await startTestGatehouse({ upstream: upstream.url });
    try {
      assert.deepEqual(
        gh.warmedUp,
        { sent: 400, forwarded: 400, signedIn: true },
        'every request signed in and answered by the stand-in',
      );
      assert.equal(upstream.connections, 0, 'no connection to the app');
      assert.equal(upstream.requests.length, 0, 'no request to the app');
      assert.equal(gh.sessions.cached, 0, 'the stand-in session is gone from the cache');
      assert.equal(await gh.store.countUsers(), 0, 'no user written');
      assert.deepEqual(await gh.store.listEvents({ limit: 50, offset: 0 }), [], 'no security event');
      assert.deepEqual(gh.auditLines, []);

      // The first visitor is the app's first request, with their own identity.
      const c = new TestClient(gh.url);
      assert.equal((await c.signUp('first@example.com', PASSWORD)).status, 303);
      assert.equal((await c.get('/echo')).status, 200);
      assert.equal(upstream.requests.length, 1);
      const user = (await gh.store.findUserByEmail('first@example.com'))!;
      assert.equal(upstream.requests[0]!.headers['x-forwarded-user'], user.id);
      assert.equal(upstream.requests[0]!.headers['x-forwarded-email'], 'first@example.com');
    } finally {
      await gh.stop();
      await upstream.close();
    }
  });

  it('stays signed out where a rule would refuse a member, so no refusal is audited', async () => {
    const { upstream, gh, stop } = await started({ access: [{ pattern: '/', allow: ['role:admin'] }] });
    try {
      assert.deepEqual(
        gh.warmedUp,
        { sent: 400, forwarded: 0, signedIn: false },
        'signed out: the gate answers itself',
      );
      assert.deepEqual(await gh.store.listEvents({ limit: 50, offset: 0, event: 'access.denied' }), []);
      assert.ok(!gh.auditLines.some((l) => l.includes('access.denied')), gh.auditLines.join('\n'));
      assert.equal(upstream.requests.length, 0);
      assert.equal(upstream.connections, 0);
    } finally {
      await stop();
    }
  });

  it('stays signed out where every account needs a second factor', async () => {
    const { upstream, gh, stop } = await started({ env: { GATEHOUSE_MFA: 'all' } });
    try {
      assert.deepEqual(gh.warmedUp, { sent: 400, forwarded: 0, signedIn: false });
      assert.equal(upstream.requests.length, 0);
    } finally {
      await stop();
    }
  });

  it('passes through without an identity with auth off, and the app still sees nothing', async () => {
    const { upstream, gh, stop } = await started({ authOff: true });
    try {
      assert.deepEqual(gh.warmedUp, { sent: 400, forwarded: 400, signedIn: false });
      assert.equal(upstream.requests.length, 0);
      assert.equal(upstream.connections, 0);
    } finally {
      await stop();
    }
  });
});
