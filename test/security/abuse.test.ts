// Brute force and enumeration, tried against a running Gatehouse: rate limits (429 + Retry-After,
// shared through the store, not reset by a spoofed X-Forwarded-For), account lockout with growing
// back-off that answers exactly like a wrong password, a bounded number of password checks under a
// concurrent storm, the same answers for existing and unknown accounts, and an audit log that never
// holds a secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { GENEROUS_LIMITS, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { DEFAULT_LIMITS } from '../../src/security/rate-limit.js';

let upstream: RecordingUpstream;
const PASSWORD = 'the right password here';
const strip = (t: string) => t.replace(/value="[^"]*"/g, '');

before(async () => {
  upstream = await startRecordingUpstream();
});
after(() => upstream.close());

/** A client that already holds a CSRF cookie and token for the sign-in form. */
async function signInForm(gh: TestGatehouse) {
  const c = new TestClient(gh.url);
  const csrf = csrfFrom((await c.get('/auth/sign-in')).text);
  return {
    c,
    attempt: (email: string, password: string, headers: Record<string, string> = {}) =>
      c.post('/auth/sign-in', { email, password, csrf }, headers),
  };
}

describe('rate limits', () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startTestGatehouse({
      upstream: upstream.url,
      limits: {
        perIp: {
          ...GENEROUS_LIMITS.perIp,
          'sign-in': { limit: 5, windowMs: 60_000 },
          'sign-up': { limit: 3, windowMs: 60_000 },
          'api-key': { limit: 3, windowMs: 60_000 },
        },
        perAccount: {},
      },
    });
  });
  after(() => gh.stop());

  it('answers 429 with Retry-After once an IP passes the sign-in limit, and a rotating X-Forwarded-For does not reset it', async () => {
    const { attempt } = await signInForm(gh);
    for (let i = 0; i < 5; i++) assert.equal((await attempt(`nobody${i}@example.com`, 'wrong password')).status, 401);
    for (let i = 0; i < 5; i++) {
      const r = await attempt(`nobody${i}@example.com`, 'wrong password', {
        'x-forwarded-for': `198.51.100.${i}`,
        'x-real-ip': `203.0.113.${i}`,
      });
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers['retry-after']) > 0 && Number(r.headers['retry-after']) <= 60);
    }
    assert.ok(gh.auditLines.some((l) => l.includes('"rate-limited"')));
  });

  it('limits sign-ups per IP', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await new TestClient(gh.url).signUp(`rl${i}-${Date.now()}@example.com`, PASSWORD)).status);
    assert.deepEqual(statuses, [303, 303, 303, 429, 429]);
  });

  it('limits failed API-key checks per IP', async () => {
    const bad = `ghk_${'A'.repeat(12)}_${'B'.repeat(43)}`;
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await new TestClient(gh.url).get('/api', { authorization: `Bearer ${bad}`, accept: 'application/json' }))
          .status,
      );
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
  });

  it('has sane defaults for every limited flow', () => {
    for (const kind of ['sign-in', 'sign-up', 'forgot', 'reset', 'verify-resend', 'api-key'] as const)
      assert.ok(DEFAULT_LIMITS.perIp[kind].limit > 0);
  });
});

describe('account lockout', () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startTestGatehouse({
      upstream: upstream.url,
      lockout: { maxFailures: 5, baseLockMs: 1000, maxLockMs: 4000, memoryMs: 60_000 },
    });
    await new TestClient(gh.url).signUp('victim@example.com', PASSWORD);
  });
  after(() => gh.stop());

  it('locks after 5 wrong passwords and refuses the right one with exactly the wrong-password answer', async () => {
    const { attempt } = await signInForm(gh);
    const wrong = [];
    for (let i = 0; i < 5; i++) wrong.push(await attempt('victim@example.com', `wrong ${i}`));
    const locked = await attempt('victim@example.com', PASSWORD);
    assert.equal(locked.status, wrong[0]!.status);
    // Once the lock is on, the page says so (it says the same for an address without an account).
    assert.match(wrong[4]!.text, /Too many attempts for this address: try again in 1 minute/);
    assert.equal(strip(locked.text), strip(wrong[4]!.text));
    assert.match(wrong[3]!.text, /Incorrect email or password/);
    assert.ok(
      !locked.headers['set-cookie'] ||
        ![locked.headers['set-cookie']].flat().some((l) => String(l).startsWith('gatehouse_session')),
    );
    assert.ok(gh.auditLines.some((l) => l.includes('"lockout"')));
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await attempt('victim@example.com', PASSWORD)).status, 303, 'the lock ends by itself');
  });

  it('grows the back-off from lock to lock, within the cap', async () => {
    const { attempt } = await signInForm(gh);
    for (let i = 0; i < 5; i++) await attempt('victim@example.com', 'wrong');
    // Second lock: 2 s. After 1.2 s it still holds.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await attempt('victim@example.com', PASSWORD)).status, 401);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await attempt('victim@example.com', PASSWORD)).status, 303);
  });

  it('evaluates no more than the limit when 100 wrong attempts arrive at once', async (t) => {
    // Its own instance with a long lock: 100 paced dummy hashes take ~10 s, and a lock that ended
    // meanwhile would rightly open a new round of five.
    const gh = await startTestGatehouse({
      upstream: upstream.url,
      lockout: { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 60_000, memoryMs: 60_000 },
    });
    t.after(() => gh.stop());
    await new TestClient(gh.url).signUp('storm@example.com', PASSWORD);
    const { attempt } = await signInForm(gh);
    const before = gh.verifications();
    const realBefore = gh.realVerifications();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => attempt('storm@example.com', `guess ${i}`)),
    );
    assert.ok(results.every((r) => r.status === 401));
    // Every attempt costs the same work (refused ones a dummy check), but only 5 ever test a real guess.
    assert.equal(gh.verifications() - before, 100);
    const real = gh.realVerifications() - realBefore;
    assert.ok(real <= 5, `real password checks: ${real}`);
  });

  it('treats an unknown account exactly like a known one, locks included', async () => {
    await new TestClient(gh.url).signUp('known@example.com', PASSWORD);
    const { attempt } = await signInForm(gh);
    for (let i = 0; i < 7; i++) {
      const ghost = await attempt('ghost@example.com', 'whatever it is');
      const known = await attempt('known@example.com', 'not the password');
      assert.equal(ghost.status, known.status, `attempt ${i + 1}`);
      assert.equal(
        strip(ghost.text),
        strip(known.text).replace('known@example.com', 'ghost@example.com'),
        `attempt ${i + 1}`,
      );
    }
  });
});

describe('no enumeration', () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startTestGatehouse({
      upstream: upstream.url,
      lockout: { maxFailures: 1000, baseLockMs: 1000, maxLockMs: 1000, memoryMs: 1000 },
    });
    await new TestClient(gh.url).signUp('exists@example.com', PASSWORD);
  });
  after(() => gh.stop());

  it('gives sign-in the same status, text and timing (within noise) for existing and unknown accounts', async () => {
    const { attempt } = await signInForm(gh);
    const time = async (email: string) => {
      const t = process.hrtime.bigint();
      const r = await attempt(email, 'definitely wrong password');
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
    };
    const known: number[] = [];
    const unknown: number[] = [];
    let a, b;
    // Interleaved, and each side first in every other pair: hashes are paced (10/s), so the second
    // request of a pair waits for the pacer whichever account it names, and the order must not decide.
    for (let i = 0; i < 16; i++) {
      if (i % 2 === 0) {
        a = await time('exists@example.com');
        b = await time(`missing${i}@example.com`);
      } else {
        b = await time(`missing${i}@example.com`);
        a = await time('exists@example.com');
      }
      known.push(a.ms);
      unknown.push(b.ms);
    }
    assert.equal(a!.r.status, b!.r.status);
    assert.equal(
      strip(a!.r.text).replace('exists@example.com', 'X'),
      strip(b!.r.text).replace(/missing\d+@example\.com/, 'X'),
    );
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // Both paths run one argon2id verification (a dummy one for unknown users). Without it the unknown
    // path would be ~10 ms faster; the tolerance is far below that gap but above scheduler noise.
    const gap = Math.abs(median(known) - median(unknown));
    assert.ok(
      gap < Math.max(4, 0.3 * median(known)),
      `median known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`,
    );
  });

  it('never writes a password, token or cookie to the audit log', async () => {
    const c = new TestClient(gh.url);
    await c.signUp('audited@example.com', 'audit password secret');
    await c.post('/auth/sign-out', {});
    await c.signIn('audited@example.com', 'audit password secret');
    await new TestClient(gh.url).signIn('audited@example.com', 'a wrong secret guess');
    const log = gh.auditLines.join('\n');
    const session = c.cookies.get('gatehouse_session')!;
    for (const secret of [
      'audit password secret',
      'a wrong secret guess',
      session,
      session.split('.')[0]!,
      c.cookies.get('gatehouse_csrf')!,
    ]) {
      assert.ok(!log.includes(secret), `audit log leaks ${secret.slice(0, 8)}…`);
    }
    for (const line of gh.auditLines) {
      const e = JSON.parse(line);
      assert.ok(e.time && e.event && 'ip' in e && 'userAgent' in e && 'userId' in e);
    }
    assert.ok(gh.auditLines.some((l) => l.includes('"sign-in.success"')));
    assert.ok(gh.auditLines.some((l) => l.includes('"sign-out"')));
  });

  it('counts the same events for Prometheus, on loopback', async () => {
    const r = await new TestClient(gh.url).get('/auth/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /gatehouse_events_total\{event="sign-in.failure"\} \d+/);
    assert.match(r.text, /gatehouse_sessions_cached \d+/);
    const viaProxy = await new TestClient(gh.url).get('/auth/metrics', { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(viaProxy.status, 403, 'a request relayed by a local proxy is not a local scraper');
  });
});
