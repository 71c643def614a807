// Rate limits, counted in the store so every replica shares them (architecture.md#abuse).
// Fixed windows through the store's atomic hit(). Client IPs come from the trusted-proxy rules, and
// IPv6 clients are counted per /64, since one host usually owns a whole /64.
import { isIPv6 } from 'node:net';
import type { Store } from '../store/types.js';

export type LimitKind =
  | 'sign-in'
  | 'sign-up'
  | 'forgot'
  | 'reset'
  | 'verify-resend'
  | 'api-key'
  | 'passkey'
  | 'oauth-register'
  | 'oauth-device';

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
    passkey: { limit: 60, windowMs: 5 * MIN }, // passkey ceremonies begun (each stores a challenge)
    'oauth-register': { limit: 20, windowMs: 60 * MIN }, // MCP client registrations (RFC 7591)
    'oauth-device': { limit: 30, windowMs: 10 * MIN }, // device authorizations begun (RFC 8628; each stores a row)
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
export function parseLimits(
  text: string | undefined,
  base: LimitRules = DEFAULT_LIMITS,
): { rules: LimitRules; problems: string[] } {
  const rules: LimitRules = { perIp: { ...base.perIp }, perAccount: { ...base.perAccount } };
  const problems: string[] = [];
  const units: Record<string, number> = { s: 1000, m: MIN, h: 60 * MIN };
  for (const part of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
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
  return `${full
    .slice(0, 4)
    .map((x) => x.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function createRateLimiter(
  store: Store,
  rules: LimitRules = DEFAULT_LIMITS,
  now: () => number = Date.now,
): RateLimiter {
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

/**
 * A block after repeated failures (architecture.md#devices: pairing codes): `failures` wrong attempts from one IP
 * within `windowMs` shut that IP out for `blockMs` — every attempt, a right one included, until the
 * block ends. Both counters live in the store, so every replica sees the same block.
 */
export interface FailureBlock {
  failures: number;
  windowMs: number;
  blockMs: number;
}

export const PAIRING_BLOCK: FailureBlock = { failures: 5, windowMs: MIN, blockMs: 5 * MIN };

export interface Blocker {
  /** Seconds this IP must still wait, or 0. */
  blockedFor(ip: string): Promise<number>;
  /** Counts a wrong attempt; the seconds of the block it started (or was already in), else 0. */
  failed(ip: string): Promise<number>;
}

export function createBlocker(store: Store, name: string, rule: FailureBlock, now: () => number = Date.now): Blocker {
  const failKey = (ip: string) => `fail:${name}:ip:${ipKey(ip)}`;
  const blockKey = (ip: string) => `block:${name}:ip:${ipKey(ip)}`;
  const secondsUntil = (at: Date, t: number) => Math.max(1, Math.ceil((at.getTime() - t) / 1000));
  return {
    async blockedFor(ip) {
      const t = now();
      const block = await store.peekCounter(blockKey(ip), new Date(t));
      return block ? secondsUntil(block.resetAt, t) : 0;
    },
    async failed(ip) {
      const t = now();
      const fails = await store.hit(failKey(ip), rule.windowMs, new Date(t));
      if (fails.count < rule.failures) return 0;
      // hit() opens the block's window on the first call; concurrent failures only count inside it,
      // so the block is never stretched by the attempts it refuses.
      const block = await store.hit(blockKey(ip), rule.blockMs, new Date(t));
      return secondsUntil(block.resetAt, t);
    },
  };
}
