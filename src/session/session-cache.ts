// The session cache (architecture.md#accounts): resolved sessions by cookie value, re-checked against
// the store at most every `revalidateMs`, their last-seen time written at most once per `touchEveryMs`,
// and the cookie's MAC, which refuses a forged or stale-secret cookie without asking the store.
import { hmac, safeEqual } from '../security/tokens.js';
import type { Session, Store, User } from '../store/types.js';
import { principalOf, type ResolvedSession } from './principal.js';
import type { RevocationLog } from './revocation-log.js';
import type { SessionOptions } from './sessions.js';

export interface CacheEntry {
  resolved: ResolvedSession;
  checkedAt: number;
  lastSeenAt: number;
  expiresAt: number;
  /** The warm-up's session: not in the store, so never checked against it (it ends with `end()`).
   *  On every entry, so that the warm-up's entries have the shape real ones have. */
  standIn: boolean;
}

/** What the parts of one session service share: its settings, the cache, the revocation log and the current key. */
export interface SessionState {
  readonly store: Store;
  readonly opts: SessionOptions;
  readonly now: () => number;
  readonly revalidateMs: number;
  readonly touchEveryMs: number;
  readonly maxCached: number;
  readonly cache: Map<string, CacheEntry>;
  readonly revocations: RevocationLog;
  key: Buffer;
  touches: number;
}

export function macOf(key: Buffer, token: string): string {
  return hmac(key, token).slice(0, 22);
}

/** The token of a well-formed cookie whose MAC is valid under `key`, else null. */
export function tokenOf(key: Buffer, cookieValue: string): string | null {
  const dot = cookieValue.indexOf('.');
  if (dot !== 43 || cookieValue.length !== 66) return null;
  const token = cookieValue.slice(0, dot);
  return safeEqual(cookieValue.slice(dot + 1), macOf(key, token)) ? token : null;
}

export function alive(idleMs: number, e: { lastSeenAt: number; expiresAt: number }, t: number): boolean {
  return e.expiresAt > t && e.lastSeenAt + idleMs > t;
}

export function maybeTouch(s: SessionState, entry: CacheEntry, t: number): void {
  if (t - entry.lastSeenAt < s.touchEveryMs) return;
  entry.lastSeenAt = t;
  s.touches++;
  // Fire and forget: a failed touch only shortens the idle window, it must not fail the request.
  s.store.touchSession(entry.resolved.sessionId, new Date(t)).catch(() => {});
}

/** Caches a session the store has just vouched for, keeping the later of the two last-seen times. */
export function cacheChecked(
  s: SessionState,
  cookieValue: string,
  id: string,
  session: Session,
  user: User,
  t: number,
): ResolvedSession {
  const previous = s.cache.get(cookieValue);
  const entry: CacheEntry = {
    resolved: {
      sessionId: id,
      principal: principalOf(user, session.provider, session.amr),
    },
    checkedAt: t,
    lastSeenAt: Math.max(session.lastSeenAt.getTime(), previous?.lastSeenAt ?? 0),
    expiresAt: session.expiresAt.getTime(),
    standIn: false,
  };
  rememberBounded(s.cache, s.maxCached, cookieValue, entry);
  maybeTouch(s, entry, t);
  return entry.resolved;
}

function rememberBounded(cache: Map<string, CacheEntry>, maxCached: number, key: string, entry: CacheEntry): void {
  if (cache.size >= maxCached && !cache.has(key)) {
    // Evict the oldest insertion: Map iterates in insertion order.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, entry);
}
