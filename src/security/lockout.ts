// Account lockout (architecture.md#abuse), counted in the store so every replica shares it, with an injected clock.
//
// Keyed on the normalised email, so an address without an account locks exactly like one with an
// account: the lock tells an attacker nothing about who is registered.
//
// The contract, and why it is built this way:
// - An attempt is *reserved* before its password is checked (an atomic hit() numbers it). Only the
//   first `maxFailures` reservations of a round are checked at all, so 100 simultaneous guesses check
//   at most `maxFailures` passwords — the counter is bumped before the slow hash, never after it
//   (the Wazuh CVE-2026-93346 race). Refused attempts cost no hash: the lock is keyed on the email
//   alone, so answering them quickly reveals nothing about the account or the password.
// - The round locks when its `maxFailures`-th reserved attempt fails, or — if that attempt never
//   reported back (a 503 from a full hash queue, a store error, a client that went away) — when the
//   next reservation finds the round used up. Either way exactly one caller wins an atomic claim, so a
//   burst of failures raises the back-off once, not once per failure, and no lost report can leave an
//   account refusing every attempt without a lock that ends.
// - A success clears the round; a failure reported after it (a second browser whose identical code was
//   refused as a replay a moment after the first browser's was accepted) no longer locks that round.
// - Each lock lasts baseLockMs · 2^(locks so far), capped at maxLockMs; locks are remembered for
//   memoryMs. A lock therefore never grows without end, and a password reset or an admin clears it.
// - Each round counts in its own key (named after the lock level and that level's window), so a new
//   round starts at zero without a "clear" that could race with reservations still in flight. The
//   lock is written before the level moves on: a reader that sees the new round also sees the lock.
import type { CounterState, Store } from '../store/types.js';

export interface LockoutPolicy {
  maxFailures: number; // wrong passwords before a lock (default 5)
  baseLockMs: number; // first lock (default 1 min), doubling per lock
  maxLockMs: number; // cap (default 30 min)
  memoryMs: number; // how long failures and past locks are remembered (default 24 h)
}

const MIN = 60_000;
export const DEFAULT_LOCKOUT: LockoutPolicy = {
  maxFailures: 5,
  baseLockMs: MIN,
  maxLockMs: 30 * MIN,
  memoryMs: 24 * 60 * MIN,
};

export interface LockoutAttempt {
  /** false: locked or out of attempts — answer exactly as for a wrong password, and check nothing. */
  readonly allowed: boolean;
  /** This reservation found the round used up and locked the account (audit it). */
  readonly lockedNow: boolean;
  /** The password was wrong. Resolves true when this failure locked the account. */
  failed(): Promise<boolean>;
  /** The password was right: the round's failures are forgotten (past locks still count for back-off). */
  succeeded(): Promise<void>;
}

export interface Lockout {
  /** Reserve one password check for `account` (a normalised email) before evaluating it. */
  begin(account: string): Promise<LockoutAttempt>;
  /** Ends any lock and forgets failures and back-off: a password reset, an admin, `users enable`. */
  clear(account: string): Promise<void>;
  /** Whether the account is locked now (admin views, tests). */
  isLocked(account: string): Promise<boolean>;
  /** How long the account stays locked (ms), or 0: the sign-in page says so once the lock is on. */
  lockedFor(account: string): Promise<number>;
}

const roundOf = (level: CounterState | null) => (level ? `${level.count}.${level.resetAt.getTime()}` : '0');

// The counters of one account: how many locks so far (the level), the lock itself, and per round the
// tries and the claim that lets exactly one caller lock it.
const levelKey = (a: string) => `lock:level:${a}`;
const lockedKey = (a: string) => `lock:on:${a}`;
const triesKey = (a: string, round: string) => `lock:tries:${round}:${a}`;
const claimKey = (a: string, round: string) => `lock:claim:${round}:${a}`;

const refused = (lockedNow: boolean): LockoutAttempt => ({
  allowed: false,
  lockedNow,
  failed: async () => false,
  succeeded: async () => {},
});

/** Whether the round still holds this reservation's count (no success cleared it since). */
async function stillCounted(store: Store, tries: string, n: number, now: () => number): Promise<boolean> {
  return ((await store.peekCounter(tries, new Date(now())))?.count ?? 0) >= n;
}

export function createLockout(
  store: Store,
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
  now: () => number = Date.now,
): Lockout {
  const ctx: LockoutContext = { store, policy, now };
  return {
    async begin(account) {
      const t = new Date(now());
      // Level first, lock second: the lock is written before the level moves (see lockRound).
      const level = await store.peekCounter(levelKey(account), t);
      if (await store.peekCounter(lockedKey(account), t)) return refused(false);
      const round = roundOf(level);
      const n = (await store.hit(triesKey(account, round), policy.memoryMs, t)).count;
      if (n > policy.maxFailures) return refused(await lockRound(ctx, account, round, level));
      return {
        allowed: true,
        lockedNow: false,
        // A success since this reservation (the same person finishing a second step in another browser)
        // cleared the round: its failure then ends no round, and locks no one out.
        failed: async () =>
          n === policy.maxFailures && (await stillCounted(store, triesKey(account, round), n, now))
            ? lockRound(ctx, account, round, level)
            : false,
        succeeded: () => store.clearCounter(triesKey(account, round)),
      };
    },
    clear: (account) => clearAccount(ctx, account),
    async isLocked(account) {
      return (await store.peekCounter(lockedKey(account), new Date(now()))) !== null;
    },
    async lockedFor(account) {
      const t = now();
      const lock = await store.peekCounter(lockedKey(account), new Date(t));
      return lock ? Math.max(0, lock.resetAt.getTime() - t) : 0;
    },
  };
}

interface LockoutContext {
  store: Store;
  policy: LockoutPolicy;
  now: () => number;
}

/** Locks the account for this round, once: of any number of callers exactly one wins the claim. */
async function lockRound(
  { store, policy, now }: LockoutContext,
  account: string,
  round: string,
  level: CounterState | null,
): Promise<boolean> {
  const t = new Date(now());
  const claim = await store.hit(claimKey(account, round), policy.memoryMs, t);
  if (claim.count !== 1) return false;
  const locks = level?.count ?? 0;
  const duration = Math.min(policy.baseLockMs * 2 ** Math.min(locks, 30), policy.maxLockMs);
  await store.clearCounter(lockedKey(account));
  await store.hit(lockedKey(account), duration, t);
  await store.hit(levelKey(account), policy.memoryMs, t); // only now does the next round begin
  return true;
}

/** Forgets everything about the account: the lock, the level, and the tries and claims of its rounds. */
async function clearAccount({ store, now }: LockoutContext, account: string): Promise<void> {
  const level = await store.peekCounter(levelKey(account), new Date(now()));
  const round = roundOf(level);
  await Promise.all([
    store.clearCounter(lockedKey(account)),
    store.clearCounter(levelKey(account)),
    store.clearCounter(triesKey(account, round)),
    store.clearCounter(claimKey(account, round)),
    // With the level gone the account is back in round "0": forget that round too.
    store.clearCounter(triesKey(account, '0')),
    store.clearCounter(claimKey(account, '0')),
  ]);
}
