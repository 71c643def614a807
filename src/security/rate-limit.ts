// Rate limits and account lockout, counted in the store so every replica shares them (SPEC §7).
// Fixed windows through the store's atomic hit(). Client IPs come from the trusted-proxy rules, and
// IPv6 clients are counted per /64, since one host usually owns a whole /64.
import { isIPv6 } from 'node:net';
import type { Store } from '../store/types.js';

export type LimitKind = 'sign-in' | 'sign-up' | 'forgot' | 'reset' | 'verify-resend' | 'api-key';

export interface Rule {
  limit: number;
  windowMs: number;
}

export interface LimitRules {
  perIp: Record<LimitKind, Rule>;
  perAccount: Partial<Record<LimitKind, Rule>>;
}

const MIN = 60_000;

export const DEFAULT_LIMITS: LimitRules = {
  perIp: {
    'sign-in': { limit: 30, windowMs: 5 * MIN },
    'sign-up': { limit: 10, windowMs: 60 * MIN },
    forgot: { limit: 10, windowMs: 60 * MIN },
    reset: { limit: 20, windowMs: 60 * MIN },
    'verify-resend': { limit: 10, windowMs: 60 * MIN },
    'api-key': { limit: 30, windowMs: MIN }, // failed key checks only
  },
  perAccount: {
    forgot: { limit: 3, windowMs: 60 * MIN },
    'verify-resend': { limit: 3, windowMs: 60 * MIN },
  },
};

/**
 * Overrides from GATEHOUSE_RATE_LIMITS, e.g. "sign-in=50/1m,sign-up=5/1h,forgot@account=3/1h".
 * Returns the rules and a list of problems (for one start-up message listing every problem).
 */
export function parseLimits(text: string | undefined, base: LimitRules = DEFAULT_LIMITS): { rules: LimitRules; problems: string[] } {
  const rules: LimitRules = { perIp: { ...base.perIp }, perAccount: { ...base.perAccount } };
  const problems: string[] = [];
  const units: Record<string, number> = { s: 1000, m: MIN, h: 60 * MIN };
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)(@account)?=(\d+)\/(\d*)([smh])$/.exec(part);
    if (!m || !(m[1]! in rules.perIp)) {
      problems.push(`GATEHOUSE_RATE_LIMITS: "${part}" should look like sign-in=30/5m`);
      continue;
    }
    const rule = { limit: Number(m[3]), windowMs: Number(m[4] || 1) * units[m[5]!]! };
    if (m[2]) rules.perAccount[m[1] as LimitKind] = rule;
    else rules.perIp[m[1] as LimitKind] = rule;
  }
  return { rules, problems };
}

export type Verdict = { ok: true } | { ok: false; retryAfterSec: number };

export interface RateLimiter {
  /** Counts one attempt and says whether it may proceed. */
  check(kind: LimitKind, ip: string, account?: string): Promise<Verdict>;
}

export function ipKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  // The first four hextets (/64) of the expanded address.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const full = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${full.slice(0, 4).map((x) => x.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export function createRateLimiter(store: Store, rules: LimitRules = DEFAULT_LIMITS, now: () => number = Date.now): RateLimiter {
  async function over(key: string, rule: Rule): Promise<number | null> {
    const t = now();
    const c = await store.hit(key, rule.windowMs, new Date(t));
    return c.count > rule.limit ? Math.max(1, Math.ceil((c.resetAt.getTime() - t) / 1000)) : null;
  }
  return {
    async check(kind, ip, account) {
      const ipWait = await over(`rl:${kind}:ip:${ipKey(ip)}`, rules.perIp[kind]);
      const accountRule = account ? rules.perAccount[kind] : undefined;
      const accountWait = accountRule ? await over(`rl:${kind}:acct:${account}`, accountRule) : null;
      const wait = Math.max(ipWait ?? 0, accountWait ?? 0);
      return wait > 0 ? { ok: false, retryAfterSec: wait } : { ok: true };
    },
  };
}

export interface LockoutPolicy {
  maxFailures: number; // wrong passwords before a lock (default 5)
  baseLockMs: number; // first lock (default 1 min), doubling per lock
  maxLockMs: number; // cap (default 30 min): a lock never grows without end
  memoryMs: number; // how long failures and past locks are remembered (default 24 h)
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, baseLockMs: MIN, maxLockMs: 30 * MIN, memoryMs: 24 * 60 * MIN };

export interface Lockout {
  /**
   * Reserves one password attempt for this account (keyed on the normalised email, so unknown
   * accounts behave exactly like known ones). false: locked — answer as for a wrong password and do not
   * evaluate it. Reserving before evaluating bounds concurrent guessing: of 100 simultaneous attempts
   * only `maxFailures` ever reach the password hash.
   */
  reserve(account: string): Promise<boolean>;
  /** The reserved attempt was wrong: lock once the failures reach the limit. Returns true when this locked. */
  failed(account: string): Promise<boolean>;
  succeeded(account: string): Promise<void>;
  /** A password reset or an admin clears the lock. */
  clear(account: string): Promise<void>;
}

export function createLockout(store: Store, policy: LockoutPolicy = DEFAULT_LOCKOUT, now: () => number = Date.now): Lockout {
  const keys = (a: string) => ({ tries: `lock:tries:${a}`, locked: `lock:on:${a}`, level: `lock:level:${a}` });
  return {
    async reserve(account) {
      const k = keys(account);
      const t = new Date(now());
      if (await store.peekCounter(k.locked, t)) return false;
      const tries = await store.hit(k.tries, policy.memoryMs, t);
      return tries.count <= policy.maxFailures;
    },
    async failed(account) {
      const k = keys(account);
      const t = new Date(now());
      const tries = await store.peekCounter(k.tries, t);
      if (!tries || tries.count < policy.maxFailures) return false;
      // Lock with back-off: 1 min, 2, 4, … capped, remembered for a day.
      const level = await store.hit(k.level, policy.memoryMs, t);
      const duration = Math.min(policy.baseLockMs * 2 ** (level.count - 1), policy.maxLockMs);
      await store.clearCounter(k.locked);
      await store.hit(k.locked, duration, t);
      await store.clearCounter(k.tries);
      return true;
    },
    async succeeded(account) {
      await store.clearCounter(keys(account).tries);
    },
    async clear(account) {
      const k = keys(account);
      await Promise.all([store.clearCounter(k.tries), store.clearCounter(k.locked), store.clearCounter(k.level)]);
    },
  };
}
