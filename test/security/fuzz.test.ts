// A bounded fuzz run in CI (deterministic seed): thousands of mutated requests, zero crashes, zero
// internal errors, and nothing anonymous reaching a protected path of the app. `npm run fuzz` runs a
// longer one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { runFuzz } from '../support/fuzz.js';
import { isPublicPath } from '../../src/proxy/paths.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const { gh, upstream } = withGatehouse({ upstream: true, env: { GATEHOUSE_PUBLIC_PATHS: '/public/*,/healthz' }, timeouts: { headers: 2000, checkInterval: 500 } });

describe('fuzz', () => {
  it(`survives ${COUNT} mutated requests (seed ${SEED}) and lets nothing anonymous through`, async () => {
    const c = new TestClient(gh.url);
    await c.signUp('fuzz@example.com', 'a long enough password');
    const userId = JSON.parse((await c.get('/auth/me')).text).id;
    upstream.clear();
    const result = await runFuzz(gh.url, { count: COUNT, seed: SEED, validCookie: c.cookieHeader()! });
    assert.equal(result.sent, COUNT);
    assert.deepEqual(result.serverErrors, [], 'no internal errors');
    assert.equal((await new TestClient(gh.url).get('/auth/health')).status, 200, 'still alive');
    for (const seen of upstream.requests) {
      const authenticated = seen.headers['x-forwarded-user'] === userId;
      assert.ok(authenticated || isPublicPath(seen.url, ['/public/*', '/healthz']), `anonymous request reached ${seen.method} ${seen.url}`);
      assert.ok(!String(seen.headers.cookie ?? '').includes('gatehouse_session'), 'the session cookie never reaches the app');
    }
    const summary = [...result.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ');
    process.stdout.write(`# fuzz statuses ${summary}; ${upstream.requests.length} reached the app\n`);
  });
});
