// src/security/password.ts: policy, argon2id hashing and its pacing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPasswordPolicy, createLimiter, createPasswordHasher } from '../../src/security/password.js';

describe('passwords', () => {
  it('applies the policy without composition rules', () => {
    assert.equal(checkPasswordPolicy('short'), 'too-short');
    assert.equal(checkPasswordPolicy('x'.repeat(1025)), 'too-long');
    assert.equal(checkPasswordPolicy('Password1'), 'common');
    assert.equal(checkPasswordPolicy('alice@example.com', 'alice@example.com'), 'same-as-email');
    assert.equal(checkPasswordPolicy('all lowercase words here'), null);
    assert.equal(checkPasswordPolicy('🔑🔑🔑🔑🔑🔑🔑🔑'), null, 'characters, not bytes');
  });
  it('hashes with argon2id at the specified strength and never truncates', async () => {
    const h = createPasswordHasher();
    const long = 'a'.repeat(1000);
    const phc = await h.hash(long);
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok((await h.verify(phc, long)).ok);
    assert.ok(!(await h.verify(phc, long.slice(0, 999))).ok, 'a shorter prefix must not match');
    assert.ok(!(await h.verify('not-a-phc', long)).ok);
    assert.ok(
      !(await h.verify('$argon2id$v=19$m=19456,t=2,p=1$broken', long)).ok,
      'a malformed stored hash is a failed check',
    );
  });
  it('asks for a rehash when stored parameters are weaker', async () => {
    const weak = createPasswordHasher({ params: { memoryCost: 8192, timeCost: 1, parallelism: 1 } });
    const phc = await weak.hash('some long password');
    const r = await createPasswordHasher().verify(phc, 'some long password');
    assert.deepEqual(r, { ok: true, rehash: true });
  });
  it('paces hashes and refuses beyond the queue', async () => {
    const limit = createLimiter(1, { perSecond: 20, maxQueue: 3 });
    const started: number[] = [];
    const run = () => limit(async () => void started.push(Date.now()));
    const ok = [run(), run(), run()];
    await assert.rejects(Promise.all([...ok, run(), run()]), /too many password checks waiting/);
    await Promise.allSettled(ok);
    // 20 a second: starts at least ~50 ms apart (a little slack for timer granularity).
    for (let i = 1; i < started.length; i++)
      assert.ok(started[i]! - started[i - 1]! >= 45, `${started[i]! - started[i - 1]!} ms`);
  });

  it('bounds concurrency', async () => {
    const limit = createLimiter(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        limit(async () => {
          peak = Math.max(peak, ++running);
          await new Promise((r) => setImmediate(r));
          running--;
        }),
      ),
    );
    assert.equal(peak, 2);
  });
});
