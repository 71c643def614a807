// Server-side sessions. The cookie carries `<token>.<mac>`: 256 random bits plus an HMAC under the
// session secret, so forged or stale-secret cookies are refused without touching the store. The store
// keeps only SHA-256(token) as the session id.
//
// Hot path: a resolved session is cached in memory by cookie value and re-checked against the store at
// most every `revalidateMs` (so a sign-out on another replica is honoured within that time), and
// `lastSeenAt` is written at most once per `touchEveryMs` per session — never on every request.
import { hmac, randomToken, safeEqual, sha256Hex } from '../security/tokens.js';
import type { Role, Session, Store, User } from '../store/types.js';

export interface Principal {
  userId: string;
  email: string;
  name: string;
  provider: string;
  role: Role;
  emailVerified: boolean;
  groups: readonly string[];
  /** OAuth tokens only (SPEC §11): the client's name, sent as X-Forwarded-Client. */
  client?: string;
  /** OAuth tokens only: the scopes granted, matched by `scope:` access rules. */
  scopes?: readonly string[];
}

export interface ResolvedSession {
  sessionId: string;
  principal: Principal;
}

export interface SessionOptions {
  idleMs: number;
  absoluteMs: number;
  revalidateMs?: number; // default 2 s
  touchEveryMs?: number; // default: a quarter of the idle limit, at most 60 s
  maxCached?: number; // default 100k
  now?: () => number;
}

interface CacheEntry {
  resolved: ResolvedSession;
  checkedAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface SessionService {
  create(user: User, provider: string, meta: { ip: string | null; userAgent: string | null }): Promise<{ cookieValue: string; session: Session }>;
  /** Synchronous fast path: the cached session, `null` for a cookie that can never be valid, `undefined` when the store must be asked. */
  peek(cookieValue: string): ResolvedSession | null | undefined;
  resolve(cookieValue: string): Promise<ResolvedSession | null>;
  revoke(sessionId: string): Promise<void>;
  revokeUser(userId: string, exceptSessionId?: string): Promise<void>;
  revokeAll(): Promise<void>;
  /** The id (hash) a cookie value maps to, if its MAC is valid. */
  idOf(cookieValue: string): string | null;
  setSecret(secret: Buffer): void;
  readonly cached: number;
  /** How many lastSeenAt writes were issued (tests assert the hot path does not write). */
  readonly touches: number;
}

const interned = new Map<string, string>();
function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < 256) interned.set(s, s);
  return s;
}

/** Who a session speaks for, as the gate forwards it. */
export function principalOf(user: User, provider: string): Principal {
  // provider and role come from a handful of values: share one string each across all entries.
  return { userId: user.id, email: user.email, name: user.name, provider: intern(provider), role: intern(user.role), emailVerified: user.emailVerified, groups: user.groups };
}

export function createSessionService(store: Store, secret: Buffer, opts: SessionOptions): SessionService {
  const now = opts.now ?? Date.now;
  const revalidateMs = opts.revalidateMs ?? 2000;
  // "Last seen" must be written well inside the idle window, or an active session would still expire.
  const touchEveryMs = opts.touchEveryMs ?? Math.min(60_000, Math.floor(opts.idleMs / 4));
  const maxCached = opts.maxCached ?? 100_000;
  const cache = new Map<string, CacheEntry>();
  // Revocations this process made recently, by a sequence number. A store lookup that started before a
  // revocation must not put the revoked session back in the cache when it finishes after it.
  let revocationSeq = 0;
  const revokedSessions = new Map<string, number>();
  const revokedUsers = new Map<string, { seq: number; except: string | undefined }>();
  let revokedAllSeq = -1;
  const revokedSince = (startSeq: number, sessionId: string, userId: string) => {
    if (revokedAllSeq > startSeq) return true;
    if ((revokedSessions.get(sessionId) ?? -1) > startSeq) return true;
    const u = revokedUsers.get(userId);
    return u !== undefined && u.seq > startSeq && u.except !== sessionId;
  };
  const lookupsInFlight = { n: 0 };
  const noteRevocation = () => {
    // Forget old marks once no lookup that could have raced with them is still running.
    if (lookupsInFlight.n === 0 || revokedSessions.size + revokedUsers.size > 10_000) {
      revokedSessions.clear();
      revokedUsers.clear();
    }
    return ++revocationSeq;
  };
  let key = secret;
  let touches = 0;

  const macOf = (token: string) => hmac(key, token).slice(0, 22);

  function tokenOf(cookieValue: string): string | null {
    const dot = cookieValue.indexOf('.');
    if (dot !== 43 || cookieValue.length !== 66) return null;
    const token = cookieValue.slice(0, dot);
    return safeEqual(cookieValue.slice(dot + 1), macOf(token)) ? token : null;
  }

  function remember(cookieValue: string, entry: CacheEntry) {
    if (cache.size >= maxCached && !cache.has(cookieValue)) {
      // Evict the oldest insertion: Map iterates in insertion order.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(cookieValue, entry);
  }

  function evictWhere(pred: (e: CacheEntry) => boolean) {
    for (const [k, e] of cache) if (pred(e)) cache.delete(k);
  }

  function alive(e: { lastSeenAt: number; expiresAt: number }, t: number) {
    return e.expiresAt > t && e.lastSeenAt + opts.idleMs > t;
  }

  function maybeTouch(entry: CacheEntry, t: number) {
    if (t - entry.lastSeenAt < touchEveryMs) return;
    entry.lastSeenAt = t;
    touches++;
    // Fire and forget: a failed touch only shortens the idle window, it must not fail the request.
    store.touchSession(entry.resolved.sessionId, new Date(t)).catch(() => {});
  }

  const service: SessionService = {
    async create(user, provider, meta) {
      const token = randomToken(32);
      const t = now();
      const session: Session = {
        id: sha256Hex(token),
        userId: user.id,
        provider,
        createdAt: new Date(t),
        lastSeenAt: new Date(t),
        expiresAt: new Date(t + opts.absoluteMs),
        ip: meta.ip,
        userAgent: meta.userAgent ? meta.userAgent.slice(0, 512) : null,
      };
      await store.createSession(session);
      return { cookieValue: `${token}.${macOf(token)}`, session };
    },

    peek(cookieValue) {
      const e = cache.get(cookieValue);
      if (!e) return tokenOf(cookieValue) === null ? null : undefined;
      const t = now();
      if (t - e.checkedAt >= revalidateMs) return undefined;
      if (!alive(e, t)) {
        cache.delete(cookieValue);
        return null;
      }
      maybeTouch(e, t);
      return e.resolved;
    },

    async resolve(cookieValue) {
      const fast = service.peek(cookieValue);
      if (fast !== undefined) return fast;
      const token = tokenOf(cookieValue);
      if (!token) return null;
      const id = sha256Hex(token);
      const t = now();
      const startSeq = revocationSeq;
      lookupsInFlight.n++;
      let session: Session | null;
      let user: User | null = null;
      try {
        session = await store.findSession(id);
        if (session) user = await store.findUserById(session.userId);
      } finally {
        lookupsInFlight.n--;
      }
      if (!session || !alive({ lastSeenAt: session.lastSeenAt.getTime(), expiresAt: session.expiresAt.getTime() }, t)) {
        cache.delete(cookieValue);
        if (session) await store.deleteSession(id);
        return null;
      }
      if (revokedSince(startSeq, id, session.userId)) return null; // revoked while we were asking
      if (!user || user.disabled) {
        cache.delete(cookieValue);
        return null;
      }
      const previous = cache.get(cookieValue);
      const entry: CacheEntry = {
        resolved: {
          sessionId: id,
          principal: principalOf(user, session.provider),
        },
        checkedAt: t,
        lastSeenAt: Math.max(session.lastSeenAt.getTime(), previous?.lastSeenAt ?? 0),
        expiresAt: session.expiresAt.getTime(),
      };
      remember(cookieValue, entry);
      maybeTouch(entry, t);
      return entry.resolved;
    },

    async revoke(sessionId) {
      revokedSessions.set(sessionId, noteRevocation());
      evictWhere((e) => e.resolved.sessionId === sessionId);
      await store.deleteSession(sessionId);
    },
    async revokeUser(userId, exceptSessionId) {
      revokedUsers.set(userId, { seq: noteRevocation(), except: exceptSessionId });
      evictWhere((e) => e.resolved.principal.userId === userId && e.resolved.sessionId !== exceptSessionId);
      await store.deleteUserSessions(userId, exceptSessionId);
    },
    async revokeAll() {
      revokedAllSeq = noteRevocation();
      cache.clear();
      await store.deleteAllSessions();
    },
    idOf(cookieValue) {
      const token = tokenOf(cookieValue);
      return token ? sha256Hex(token) : null;
    },
    setSecret(secret) {
      if (secret.equals(key)) return;
      key = secret;
      cache.clear();
    },
    get cached() {
      return cache.size;
    },
    get touches() {
      return touches;
    },
  };
  return service;
}
