// Server-side sessions. The cookie carries `<token>.<mac>`: 256 random bits plus an HMAC under the
// session secret, so forged or stale-secret cookies are refused without touching the store. The store
// keeps only SHA-256(token) as the session id.
//
// Hot path: a resolved session is cached in memory by cookie value and re-checked against the store at
// most every `revalidateMs` (so a sign-out on another replica is honoured within that time), and
// `lastSeenAt` is written at most once per `touchEveryMs` per session — never on every request.
import { hmac, randomToken, safeEqual, sha256Hex } from '../security/tokens.js';
import type { Role, Session, Store, User } from '../store/types.js';
import { amrOf } from '../mfa/policy.js';
import { isPassphraseUser } from './passphrase.js';

export interface Principal {
  userId: string;
  email: string;
  name: string;
  provider: string;
  role: Role;
  emailVerified: boolean;
  groups: readonly string[];
  /** How the session was made (RFC 8176): pwd, otp, fed … (architecture.md#mfa). Absent: derived from provider. */
  amr?: readonly string[];
  /** OAuth tokens only (architecture.md#oauth): the client's name, sent as X-Forwarded-Client. */
  client?: string;
  /** OAuth tokens only: the client's id, the assertion's `client_id` (RFC 9068). */
  clientId?: string;
  /** A scoped API key's scopes (architecture.md#devices) or an OAuth token's granted scopes, sorted; matched by
   *  `scope:` rules and sent as X-Forwarded-Scopes. Absent for sessions and unscoped keys. */
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
  /**
   * The running settings' word on a session's user, asked at every store check (never on the cached
   * path): false ends the session. A passphrase session of a passphrase that is no longer current, or
   * outside mode passphrase, is refused here (session/passphrase.ts).
   */
  accepts?: (user: User) => boolean;
}

interface CacheEntry {
  resolved: ResolvedSession;
  checkedAt: number;
  lastSeenAt: number;
  expiresAt: number;
  /** The warm-up's session: not in the store, so never checked against it (it ends with `end()`).
   *  On every entry, so that the warm-up's entries have the shape real ones have. */
  standIn: boolean;
}

export interface SessionService {
  /** `amr`: how the user proved who they are; default derived from the provider (a password: pwd). */
  create(user: User, provider: string, meta: { ip: string | null; userAgent: string | null; pairedFrom?: string | null }, amr?: readonly string[]): Promise<{ cookieValue: string; session: Session }>;
  /** Synchronous fast path: the cached session, `null` for a cookie that can never be valid, `undefined` when the store must be asked. */
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

const interned = new Map<string, string>();
function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < 256) interned.set(s, s);
  return s;
}

// A session's amr is one of a handful of lists too (pwd; pwd,otp; hwk; fed …): one shared, frozen copy each.
const internedAmr = new Map<string, readonly string[]>();
function internAmr(amr: readonly string[]): readonly string[] {
  const key = amr.join(',');
  const hit = internedAmr.get(key);
  if (hit !== undefined) return hit;
  const shared = Object.freeze([...amr]);
  if (internedAmr.size < 256) internedAmr.set(key, shared);
  return shared;
}

/** Who a session speaks for, as the gate forwards it. */
export function principalOf(user: User, provider: string, amr?: readonly string[]): Principal {
  // The passphrase user is no one in particular: the app sees the mode, not an internal id.
  if (isPassphraseUser(user.id)) return { userId: 'passphrase', email: '', name: 'Passphrase', provider: 'passphrase', role: 'member', emailVerified: false, groups: [], amr: ['pwd'] };
  // provider and role come from a handful of values: share one string each across all entries.
  return { userId: user.id, email: user.email, name: user.name, provider: intern(provider), role: intern(user.role), emailVerified: user.emailVerified, groups: user.groups, amr: internAmr(amr ?? amrOf(provider)) };
}

/** What the parts of one session service share: its settings, the cache, the revocation log and the current key. */
interface SessionState {
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
      s.cache.set(cookieValue, { resolved: { sessionId: sha256Hex(token), principal }, checkedAt: t, lastSeenAt: t, expiresAt: t + s.opts.absoluteMs, standIn: true });
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
      pending = check(cookieValue).finally(() => inFlight.delete(cookieValue));
      inFlight.set(cookieValue, pending);
    }
    return pending;
  }

  async function check(cookieValue: string): Promise<ResolvedSession | null> {
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
    if (!session || !alive(s.opts.idleMs, { lastSeenAt: session.lastSeenAt.getTime(), expiresAt: session.expiresAt.getTime() }, t)) {
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

  return { peek, resolve };
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

function macOf(key: Buffer, token: string): string {
  return hmac(key, token).slice(0, 22);
}

/** The token of a well-formed cookie whose MAC is valid under `key`, else null. */
function tokenOf(key: Buffer, cookieValue: string): string | null {
  const dot = cookieValue.indexOf('.');
  if (dot !== 43 || cookieValue.length !== 66) return null;
  const token = cookieValue.slice(0, dot);
  return safeEqual(cookieValue.slice(dot + 1), macOf(key, token)) ? token : null;
}

function alive(idleMs: number, e: { lastSeenAt: number; expiresAt: number }, t: number): boolean {
  return e.expiresAt > t && e.lastSeenAt + idleMs > t;
}

function maybeTouch(s: SessionState, entry: CacheEntry, t: number): void {
  if (t - entry.lastSeenAt < s.touchEveryMs) return;
  entry.lastSeenAt = t;
  s.touches++;
  // Fire and forget: a failed touch only shortens the idle window, it must not fail the request.
  s.store.touchSession(entry.resolved.sessionId, new Date(t)).catch(() => {});
}

/** Caches a session the store has just vouched for, keeping the later of the two last-seen times. */
function cacheChecked(s: SessionState, cookieValue: string, id: string, session: Session, user: User, t: number): ResolvedSession {
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

function rememberBounded(cache: Map<string, CacheEntry>, maxCached: number, cookieValue: string, entry: CacheEntry): void {
  if (cache.size >= maxCached && !cache.has(cookieValue)) {
    // Evict the oldest insertion: Map iterates in insertion order.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(cookieValue, entry);
}

type RevocationLog = ReturnType<typeof createRevocationLog>;

/**
 * Revocations this process made recently, by a sequence number. A store lookup that started before a
 * revocation must not put the revoked session back in the cache when it finishes after it.
 */
function createRevocationLog() {
  let seq = 0;
  const sessions = new Map<string, number>();
  const users = new Map<string, { seq: number; except: string | undefined }>();
  let allSeq = -1;
  let inFlight = 0;
  const note = () => {
    // Forget old marks once no lookup that could have raced with them is still running.
    if (inFlight === 0 || sessions.size + users.size > 10_000) {
      sessions.clear();
      users.clear();
    }
    return ++seq;
  };
  return {
    session: (sessionId: string) => void sessions.set(sessionId, note()),
    user: (userId: string, except: string | undefined) => void users.set(userId, { seq: note(), except }),
    all: () => void (allSeq = note()),
    /** Marks a store lookup as running; ask it afterwards whether what it found was revoked meanwhile. */
    lookupStarted() {
      const startSeq = seq;
      inFlight++;
      return {
        finished: () => void inFlight--,
        revoked(sessionId: string, userId: string): boolean {
          if (allSeq > startSeq) return true;
          if ((sessions.get(sessionId) ?? -1) > startSeq) return true;
          const u = users.get(userId);
          return u !== undefined && u.seq > startSeq && u.except !== sessionId;
        },
      };
    },
  };
}
