// Lockout rounds (src/security/lockout.ts) on a real SQLite store: named after the bug where two
// browsers finishing a second step at once locked the account for a minute — the second browser's
// identical code is refused as a replay a moment after the first one's was accepted, and its failure,
// the round's fifth reservation, locked the account the same person had just signed in to.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { createLockout } from '../../src/security/lockout.js';

const POLICY = { maxFailures: 5, baseLockMs: 60_000, maxLockMs: 60_000, memoryMs: 3_600_000 };

async function lockout() {
  const store = createSqliteStore(':memory:', { prefix: 'lk_' });
  await store.migrate();
  return createLockout(store, POLICY, () => Date.parse('2026-12-08T10:00:00Z'));
}

describe('lockout', () => {
  it('two browsers finishing a second step at once: the replayed code after a success locks no one', async () => {
    const lk = await lockout();
    const who = 'ada@example.com';
    await (await lk.begin(who)).failed(); // one earlier typo
    await lk.begin(who); // password, browser A (the round stands until the code is right)
    await lk.begin(who); // password, browser B
    const codeA = await lk.begin(who);
    const codeB = await lk.begin(who); // the fifth reservation of the round
    await codeA.succeeded();
    assert.equal(await codeB.failed(), false, 'a failure after a success ends no round');
    assert.equal(await lk.isLocked(who), false);
    assert.equal((await lk.begin(who)).allowed, true);
  });

  it('still locks on the fifth failure when nothing succeeded in between', async () => {
    const lk = await lockout();
    const who = 'bob@example.com';
    const attempts = [];
    for (let i = 0; i < 5; i++) attempts.push(await lk.begin(who));
    const results = [];
    for (const a of attempts) results.push(await a.failed());
    assert.deepEqual(results, [false, false, false, false, true]);
    assert.equal(await lk.isLocked(who), true);
    assert.equal((await lk.begin(who)).allowed, false);
  });
});
