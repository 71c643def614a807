// OAuth tokens (architecture.md#oauth): opaque, 256 random bits, only their SHA-256 stored. Access tokens live an
// hour and work only for their resource; refresh tokens are rotated on every use, and a replayed one
// ends its whole family (every token of that grant). Codes live 60 s and are used once.
//
// Hot path: a checked access token is cached like a session and re-checked against the store at most
// every `revalidateMs` (2 s), so a revocation on another replica — or a disabled user, or a deleted
// client — takes effect within that time; in this process it takes effect at once.
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { OAuthToken, Store } from '../store/types.js';
import type { ResolvedSession } from '../session/sessions.js';

// Not gho_/ghr_: those are GitHub's, and an app behind Gatehouse may well receive GitHub tokens.
export const ACCESS_TOKEN_PREFIX = 'ghat_';
export const REFRESH_TOKEN_PREFIX = 'ghrt_';
export const ACCESS_TTL_MS = 60 * 60_000;
export const REFRESH_TTL_MS = 30 * 86_400_000;
export const CODE_TTL_MS = 60_000;
/** How long a client whose refresh answer was lost may present the spent refresh token again. */
export const RETRY_GRACE_MS = 30_000;

const ACCESS_SHAPE = /^Bearer[ ]+(ghat_[A-Za-z0-9_-]{43})$/i;

/** The access token of an Authorization header, if it is shaped like one of ours. */
export function bearerOAuthToken(header: string | undefined): string | null {
  if (!header || header.length > 100) return null;
  const m = ACCESS_SHAPE.exec(header);
  return m ? m[1]! : null;
}

/** Anything that claims to be an OAuth bearer token of ours, well-formed or not (for a precise 401). */
export function looksLikeOAuthBearer(header: string | undefined): boolean {
  return header !== undefined && /^bearer\s+gh(at|rt)_/i.test(header);
}

export interface Grant {
  clientId: string;
  userId: string;
  resource: string;
  scopes: string[];
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number; // seconds
  scope: string;
}

/** An access token as the gate uses it: who, through which client, for which resource. */
export interface ResolvedToken {
  session: ResolvedSession;
  resource: string;
  family: string;
  clientId: string;
}

export interface OAuthTokenService {
  /** A fresh code bound to the client, redirect URI, PKCE challenge, resource, scopes and user. */
  issueCode(grant: Grant, redirectUri: string, codeChallenge: string): Promise<string>;
  /** An access + refresh token pair in `family` (a new family for a new grant). */
  issueTokens(grant: Grant, family?: string): Promise<IssuedTokens & { family: string }>;
  /** Synchronous fast path: the cached token, or undefined when the store must be asked. */
  peek(token: string): ResolvedToken | undefined;
  resolve(token: string): Promise<ResolvedToken | null>;
  /** Ends a family everywhere (this process at once). */
  revokeFamily(family: string): Promise<number>;
  /** A retried refresh: the family's other access and unused refresh tokens end (Store.supersedeOAuthRefresh). */
  supersede(spent: OAuthToken, keep: string[]): Promise<'superseded' | 'replayed'>;
  /** Ends every token of a user for a client, and forgets the consent. */
  revokeGrant(userId: string, clientId: string): Promise<number>;
  /** Removes a client for everyone: its tokens and consents go with it. */
  revokeClient(clientId: string): Promise<boolean>;
  /** Tokens resolved since start that were not in the cache (tests assert the cache works). */
  readonly lookups: number;
}

/** A stored token row for a grant (codes add their redirect URI and PKCE challenge). */
function tokenRow(
  at: number,
  hash: string,
  kind: OAuthToken['kind'],
  grant: Grant,
  family: string,
  ttlMs: number,
  extra: Partial<OAuthToken> = {},
): OAuthToken {
  return {
    hash,
    kind,
    family,
    clientId: grant.clientId,
    userId: grant.userId,
    resource: grant.resource,
    scopes: grant.scopes.join(' '),
    redirectUri: null,
    codeChallenge: null,
    createdAt: new Date(at),
    expiresAt: new Date(at + ttlMs),
    usedAt: null,
    ...extra,
  };
}

/** A live access token as the store has it: not expired, its user enabled, its client still registered. */
async function fromStore(
  store: Store,
  token: string,
  at: Date,
): Promise<{ resolved: ResolvedToken; expiresAt: number } | null> {
  const found = await store.findOAuthToken(sha256Hex(token), 'access', at);
  if (!found) return null;
  const [user, client] = await Promise.all([store.findUserById(found.userId), store.findOAuthClient(found.clientId)]);
  if (!user || user.disabled || !client) return null;
  const principal = {
    userId: user.id,
    email: user.email,
    name: user.name,
    provider: 'oauth',
    role: user.role,
    emailVerified: user.emailVerified,
    groups: user.groups,
    client: client.name,
    clientId: client.id,
    scopes: found.scopes ? found.scopes.split(' ') : [],
  };
  const resolved: ResolvedToken = {
    resource: found.resource,
    family: found.family,
    clientId: found.clientId,
    session: { sessionId: `oauth:${found.hash.slice(0, 32)}`, principal },
  };
  return { resolved, expiresAt: found.expiresAt.getTime() };
}

/** The hot path's view of access tokens: checked ones cached, re-asked of the store every `revalidateMs`. */
interface TokenCache {
  peek(token: string): ResolvedToken | undefined;
  resolve(token: string): Promise<ResolvedToken | null>;
  /** Forgets matching tokens now, and any lookup in flight (a revocation wins over it). */
  evict(pred: (r: ResolvedToken) => boolean): void;
  readonly lookups: number;
}

function createTokenCache(store: Store, now: () => number, revalidateMs: number, maxCached: number): TokenCache {
  const cache = new Map<string, { resolved: ResolvedToken; checkedAt: number; expiresAt: number }>();
  const inFlight = new Map<string, Promise<ResolvedToken | null>>();
  // A lookup that started before a revocation in this process must not put the token back.
  let revocations = 0;
  let lookups = 0;

  /** The store's word on a token, cached for revalidateMs. */
  async function lookUp(token: string): Promise<ResolvedToken | null> {
    lookups++;
    const started = revocations;
    const t = now();
    const found = await fromStore(store, token, new Date(t));
    if (!found || revocations !== started) {
      cache.delete(token);
      return null;
    }
    if (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
    cache.set(token, { resolved: found.resolved, checkedAt: t, expiresAt: found.expiresAt });
    return found.resolved;
  }

  const peek = (token: string): ResolvedToken | undefined => {
    const e = cache.get(token);
    if (!e) return undefined;
    const t = now();
    if (t - e.checkedAt >= revalidateMs || e.expiresAt <= t) return undefined;
    return e.resolved;
  };

  return {
    peek,
    resolve(token) {
      const fast = peek(token);
      if (fast) return Promise.resolve(fast);
      // Concurrent requests with one token (an agent's burst, the stream watch) share one store lookup.
      let pending = inFlight.get(token);
      if (!pending) {
        pending = lookUp(token).finally(() => inFlight.delete(token));
        inFlight.set(token, pending);
      }
      return pending;
    },
    evict(pred) {
      revocations++;
      for (const [k, e] of cache) if (pred(e.resolved)) cache.delete(k);
    },
    get lookups() {
      return lookups;
    },
  };
}

export function createOAuthTokenService(
  store: Store,
  opts: { now?: () => number; revalidateMs?: number; maxCached?: number } = {},
): OAuthTokenService {
  const now = opts.now ?? Date.now;
  const cache = createTokenCache(store, now, opts.revalidateMs ?? 2000, opts.maxCached ?? 100_000);
  return {
    async issueCode(grant, redirectUri, codeChallenge) {
      const code = randomToken(32);
      await store.createOAuthToken(
        tokenRow(now(), sha256Hex(code), 'code', grant, randomToken(16), CODE_TTL_MS, { redirectUri, codeChallenge }),
      );
      return code;
    },

    async issueTokens(grant, family = randomToken(16)) {
      const accessToken = ACCESS_TOKEN_PREFIX + randomToken(32);
      const refreshToken = REFRESH_TOKEN_PREFIX + randomToken(32);
      await store.createOAuthToken(tokenRow(now(), sha256Hex(accessToken), 'access', grant, family, ACCESS_TTL_MS));
      await store.createOAuthToken(tokenRow(now(), sha256Hex(refreshToken), 'refresh', grant, family, REFRESH_TTL_MS));
      return { accessToken, refreshToken, expiresIn: ACCESS_TTL_MS / 1000, scope: grant.scopes.join(' '), family };
    },

    peek: cache.peek,
    resolve: cache.resolve,

    async revokeFamily(family) {
      cache.evict((r) => r.family === family);
      return store.deleteOAuthFamily(family);
    },

    async supersede(spent, keep) {
      cache.evict((r) => r.family === spent.family);
      return store.supersedeOAuthRefresh(spent, keep);
    },

    async revokeGrant(userId, clientId) {
      cache.evict((r) => r.session.principal.userId === userId && r.clientId === clientId);
      return store.revokeOAuthGrant(userId, clientId);
    },

    async revokeClient(clientId) {
      cache.evict((r) => r.clientId === clientId);
      return store.deleteOAuthClient(clientId);
    },

    get lookups() {
      return cache.lookups;
    },
  };
}
