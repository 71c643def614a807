// Server-side sessions. The cookie carries `<token>.<mac>`: 256 random bits plus an HMAC under the
// session secret, so forged or stale-secret cookies are refused without touching the store. The store
// keeps only SHA-256(token) as the session id.
//
// Hot path: a resolved session is cached in memory by cookie value and re-checked against the store at
// most every `revalidateMs` (so a sign-out on another replica is honoured within that time), and
// `lastSeenAt` is written at most once per `touchEveryMs` per session — never on every request.
// The parts: who a session speaks for (principal.ts), the cache and the cookie's MAC (session-cache.ts),
// and the guard that keeps a revoked session out of it (revocation-log.ts).
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { Session, Store, User } from '../store/types.js';
import { amrOf } from '../mfa/policy.js';
import type { Principal, ResolvedSession } from './principal.js';
import { createRevocationLog } from './revocation-log.js';
import {
  alive,
  cacheChecked,
  macOf,
  maybeTouch,
  tokenOf,
  type CacheEntry,
  type SessionState,
} from './session-cache.js';

export { principalOf, type Principal, type ResolvedSession } from './principal.js';

export interface SessionOptions {
  idleMs: number;
  absoluteMs: number;
  revalidateMs?: number; // default 2 s
  touchEveryMs?: number; // default: a quarter of the idle limit, at most 60 s
  maxCached?: number; // default 100k
  now?: () => number;
  /**
   * The running settings' word on a session's user, asked at every store check (never on the cached
   * path): false ends the session. A passphrase session of a passphrase that is no longer current, or
   * outside mode passphrase, is refused here (session/passphrase.ts).
   */
  accepts?: (user: User) => boolean;
}

export interface SessionService {
  /** `amr`: how the user proved who they are; default derived from the provider (a password: pwd). */
  create(
    user: User,
    provider: string,
    meta: { ip: string | null; userAgent: string | null; pairedFrom?: string | null },
    amr?: readonly string[],
  ): Promise<{ cookieValue: string; session: Session }>;
  /** Synchronous fast path: the cached session, `null` for a cookie that can never be valid, `undefined` when the
   *  store must be asked. */
  peek(cookieValue: string): ResolvedSession | null | undefined;
  resolve(cookieValue: string): Promise<ResolvedSession | null>;
  revoke(sessionId: string): Promise<void>;
  revokeUser(userId: string, exceptSessionId?: string): Promise<void>;
  revokeAll(): Promise<void>;
  /** The id (hash) a cookie value maps to, if its MAC is valid. */
  idOf(cookieValue: string): string | null;
  /**
   * A session for `principal` that lives in this cache only, never in the store, until `end()`: the
   * warm-up (warm-up.ts) signs in with it before Gatehouse listens. Nothing is written for it; if the
   * warm-up outlasts the revalidation interval, the store check finds no such session and ends it.
   */
  standIn(principal: Principal): { cookieValue: string; end(): void };
  setSecret(secret: Buffer): void;
  readonly cached: number;
  /** How many lastSeenAt writes were issued (tests assert the hot path does not write). */
  readonly touches: number;
}

export function createSessionService(store: Store, secret: Buffer, opts: SessionOptions): SessionService {
  const state: SessionState = {
    store,
    opts,
    now: opts.now ?? Date.now,
    revalidateMs: opts.revalidateMs ?? 2000,
    // "Last seen" must be written well inside the idle window, or an active session would still expire.
    touchEveryMs: opts.touchEveryMs ?? Math.min(60_000, Math.floor(opts.idleMs / 4)),
    maxCached: opts.maxCached ?? 100_000,
    cache: new Map(),
    revocations: createRevocationLog(),
    key: secret,
    touches: 0,
  };
  return {
    ...sessionCookies(state),
    ...sessionLookup(state),
    ...sessionRevocation(state),
    get cached() {
      return state.cache.size;
    },
    get touches() {
      return state.touches;
    },
  };
}

/** New sessions and their cookies, and the secret those cookies are signed with. */
function sessionCookies(s: SessionState): Pick<SessionService, 'create' | 'idOf' | 'setSecret' | 'standIn'> {
  return {
    async create(user, provider, meta, amr) {
      const token = randomToken(32);
      const t = s.now();
      const session: Session = {
        id: sha256Hex(token),
        userId: user.id,
        provider,
        createdAt: new Date(t),
        lastSeenAt: new Date(t),
        expiresAt: new Date(t + s.opts.absoluteMs),
        ip: meta.ip,
        userAgent: meta.userAgent ? meta.userAgent.slice(0, 512) : null,
        amr: [...(amr ?? amrOf(provider))],
        ...(meta.pairedFrom ? { pairedFrom: meta.pairedFrom } : {}),
      };
      await s.store.createSession(session);
      return { cookieValue: `${token}.${macOf(s.key, token)}`, session };
    },
    idOf(cookieValue) {
      const token = tokenOf(s.key, cookieValue);
      return token ? sha256Hex(token) : null;
    },
    standIn(principal) {
      const token = randomToken(32);
      const cookieValue = `${token}.${macOf(s.key, token)}`;
      const t = s.now();
      s.cache.set(cookieValue, {
        resolved: { sessionId: sha256Hex(token), principal },
        checkedAt: t,
        lastSeenAt: t,
        expiresAt: t + s.opts.absoluteMs,
        standIn: true,
      });
      return { cookieValue, end: () => s.cache.delete(cookieValue) };
    },
    setSecret(secret) {
      if (secret.equals(s.key)) return;
      s.key = secret;
      s.cache.clear();
    },
  };
}

/** The per-request check: the cached fast path (peek), and the store check behind it (resolve). */
function sessionLookup(s: SessionState): Pick<SessionService, 'peek' | 'resolve'> {
  function peek(cookieValue: string): ResolvedSession | null | undefined {
    const e = s.cache.get(cookieValue);
    if (!e) return tokenOf(s.key, cookieValue) === null ? null : undefined;
    const t = s.now();
    // A busy machine may stretch the warm-up past the revalidation interval; its stand-in has no row to find.
    if (t - e.checkedAt >= s.revalidateMs && !e.standIn) return undefined;
    if (!alive(s.opts.idleMs, e, t)) {
      s.cache.delete(cookieValue);
      return null;
    }
    maybeTouch(s, e, t);
    return e.resolved;
  }

  // One store check per cookie at a time: after a restart, a busy client's first requests all miss
  // the cache together, and would otherwise each ask the store the same question.
  const inFlight = new Map<string, Promise<ResolvedSession | null>>();
  function resolve(cookieValue: string): Promise<ResolvedSession | null> {
    const fast = peek(cookieValue);
    if (fast !== undefined) return Promise.resolve(fast);
    let pending = inFlight.get(cookieValue);
    if (!pending) {
      pending = checkWithStore(s, cookieValue).finally(() => inFlight.delete(cookieValue));
      inFlight.set(cookieValue, pending);
    }
    return pending;
  }

  return { peek, resolve };
}

/** A cache miss: the session and its user read from the store, checked, and cached when still good. */
async function checkWithStore(s: SessionState, cookieValue: string): Promise<ResolvedSession | null> {
  const token = tokenOf(s.key, cookieValue);
  if (!token) return null;
  const id = sha256Hex(token);
  const t = s.now();
  const lookup = s.revocations.lookupStarted();
  let session: Session | null;
  let user: User | null = null;
  try {
    session = await s.store.findSession(id);
    if (session) user = await s.store.findUserById(session.userId);
  } finally {
    lookup.finished();
  }
  if (
    !session ||
    !alive(s.opts.idleMs, { lastSeenAt: session.lastSeenAt.getTime(), expiresAt: session.expiresAt.getTime() }, t)
  ) {
    s.cache.delete(cookieValue);
    if (session) await s.store.deleteSession(id);
    return null;
  }
  if (lookup.revoked(id, session.userId)) return null; // revoked while we were asking
  if (!user || user.disabled || (s.opts.accepts && !s.opts.accepts(user))) {
    s.cache.delete(cookieValue);
    return null;
  }
  return cacheChecked(s, cookieValue, id, session, user, t);
}

/** Sign-outs. Each is noted in the revocation log before the cache is cleared, so that a store lookup
 *  already under way cannot put the session back when it finishes (createRevocationLog). */
function sessionRevocation(s: SessionState): Pick<SessionService, 'revoke' | 'revokeUser' | 'revokeAll'> {
  const evictWhere = (pred: (e: CacheEntry) => boolean) => {
    for (const [k, e] of s.cache) if (pred(e)) s.cache.delete(k);
  };
  return {
    async revoke(sessionId) {
      s.revocations.session(sessionId);
      evictWhere((e) => e.resolved.sessionId === sessionId);
      await s.store.deleteSession(sessionId);
    },
    async revokeUser(userId, exceptSessionId) {
      s.revocations.user(userId, exceptSessionId);
      evictWhere((e) => e.resolved.principal.userId === userId && e.resolved.sessionId !== exceptSessionId);
      await s.store.deleteUserSessions(userId, exceptSessionId);
    },
    async revokeAll() {
      s.revocations.all();
      s.cache.clear();
      await s.store.deleteAllSessions();
    },
  };
}
