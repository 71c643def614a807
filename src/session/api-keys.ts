// API keys for scripts and services: `Authorization: Bearer ghk_<id>_<secret>`. The store keeps the
// SHA-256 of the secret; the gate caches a checked key for a short time like a session, so a revoked
// key stops working within the same 2 s on every replica.
import { randomToken, safeEqual, sha256Hex } from '../security/tokens.js';
import { SCOPE_NAME, type ApiKey, type Role, type Store, type User } from '../store/types.js';
import { normalScopes } from '../store/rules.js';
import type { ResolvedSession } from './sessions.js';

export const API_KEY_PREFIX = 'ghk_';
const KEY_SHAPE = /^ghk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyService {
  /** `scopes` are granted by whoever issues the key (an operator, an admin): never by the key's owner
   *  for themselves, or a scope rule would be theirs to open (README: scoped keys). */
  issue(
    user: User,
    name: string,
    role: Role,
    expiresAt: Date | null,
    scopes?: readonly string[],
  ): Promise<{ key: ApiKey; token: string }>;
  /** A principal for a presented key, or null (unknown, revoked, expired, disabled user). */
  resolve(token: string, meta?: KeyUseMeta): Promise<ResolvedSession | null>;
  revoke(id: string): Promise<boolean>;
}

export function isApiKeyToken(value: string): boolean {
  return KEY_SHAPE.test(value);
}

/** The bearer token of an Authorization header, if it is one of ours. */
export function bearerApiKey(header: string | undefined): string | null {
  if (!header || header.length > 128) return null;
  const m = /^Bearer\s+(ghk_\S+)$/i.exec(header);
  return m && isApiKeyToken(m[1]!) ? m[1]! : null;
}

export interface KeyUseMeta {
  ip: string | null;
  userAgent: string | null;
}

export function createApiKeyService(
  store: Store,
  opts: {
    now?: () => number;
    revalidateMs?: number;
    touchEveryMs?: number;
    onUse?: (key: ApiKey, user: User, meta: KeyUseMeta | undefined) => void;
  } = {},
): ApiKeyService {
  const now = opts.now ?? Date.now;
  const revalidateMs = opts.revalidateMs ?? 2000;
  const touchEveryMs = opts.touchEveryMs ?? 60_000;
  const cache = new Map<
    string,
    { resolved: ResolvedSession; checkedAt: number; touchedAt: number; expiresAt: number | null }
  >();

  return {
    async issue(user, name, role, expiresAt, scopes = []) {
      const { key, secret } = newKey(user, name, role, new Date(now()), expiresAt, scopes);
      await store.createApiKey(key);
      return { key, token: `${API_KEY_PREFIX}${key.id}_${secret}` };
    },

    async resolve(token, meta) {
      const t = now();
      const hit = cache.get(token);
      const unexpired = hit && (hit.expiresAt === null || hit.expiresAt > t);
      if (hit && unexpired && t - hit.checkedAt < revalidateMs) return hit.resolved;
      const live = await findLiveKey(store, token, t);
      if (!live) {
        cache.delete(token);
        return null;
      }
      const { key, user } = live;
      // Logged when checked against the store (at most every 2 s per key), not on every request.
      if (!hit) opts.onUse?.(key, user, meta);
      const resolved = keyPrincipal(key, user);
      const touchedAt = hit?.touchedAt ?? key.lastUsedAt?.getTime() ?? 0;
      const entry = { resolved, checkedAt: t, touchedAt, expiresAt: key.expiresAt?.getTime() ?? null };
      if (t - touchedAt >= touchEveryMs) {
        entry.touchedAt = t;
        store.touchApiKey(key.id, new Date(t)).catch(() => {});
      }
      if (cache.size > 10_000) cache.clear();
      cache.set(token, entry);
      return resolved;
    },

    async revoke(id) {
      for (const [k, v] of cache) if (v.resolved.sessionId === `key:${id}`) cache.delete(k);
      return store.revokeApiKey(id);
    },
  };
}

/** A new key for `user`, and the secret that only its token carries (the store keeps the hash). */
function newKey(
  user: User,
  name: string,
  role: Role,
  createdAt: Date,
  expiresAt: Date | null,
  scopes: readonly string[],
) {
  const secret = randomToken(32);
  const key: ApiKey = {
    id: newKeyId(),
    hash: sha256Hex(secret),
    userId: user.id,
    name,
    // A key never carries more power than its owner has.
    role: capRole(user.role, role),
    createdAt,
    expiresAt,
    lastUsedAt: null,
    revoked: false,
  };
  if (scopes.length) key.scopes = normalScopes(scopes);
  return { key, secret };
}

/** The key a token names and its owner, if the key is unrevoked and unexpired and the owner still active. */
async function findLiveKey(store: Store, token: string, t: number): Promise<{ key: ApiKey; user: User } | null> {
  const m = KEY_SHAPE.exec(token);
  if (!m) return null;
  const key = await store.findApiKeyByHash(sha256Hex(m[2]!));
  if (!key || !safeEqual(key.id, m[1]!) || key.revoked || (key.expiresAt && key.expiresAt.getTime() <= t)) return null;
  const user = await store.findUserById(key.userId);
  return user && !user.disabled ? { key, user } : null;
}

/** A key as the API and `gatehouse keys list --json` show one (never its secret or hash). */
export const keyRow = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  userId: k.userId,
  role: k.role,
  scopes: k.scopes ?? [],
  revoked: k.revoked,
  expiresAt: k.expiresAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

/** A key's public id: the 12 letters and digits before its secret. */
function newKeyId(): string {
  return randomToken(12)
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 12)
    .padEnd(12, 'x');
}

/** Who a checked key speaks for: its owner, under the key's role and scopes. */
function keyPrincipal(key: ApiKey, user: User): ResolvedSession {
  const role: Role = capRole(user.role, key.role); // the owner may have lost the role since
  return {
    sessionId: `key:${key.id}`,
    principal: {
      userId: user.id,
      email: user.email,
      name: user.name,
      provider: 'api-key',
      role,
      emailVerified: user.emailVerified,
      groups: user.groups,
      ...(key.scopes?.length ? { scopes: key.scopes } : {}),
    },
  };
}

const SCOPE_NAME_RULE = '(a-z, 0-9 and : . _ / -, up to 64, starting with a letter or digit)';

/** `--scopes "reports:read reports:write"` (spaces or commas): the scopes, or a problem sentence. */
export function parseScopes(text: string): string[] | string {
  const scopes = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((s) => s.toLowerCase());
  const bad = scopes.find((s) => !SCOPE_NAME.test(s));
  if (bad !== undefined) return `"${bad.slice(0, 70)}" is not a scope name ${SCOPE_NAME_RULE}`;
  if (scopes.length > 32) return 'a key carries at most 32 scopes';
  return normalScopes(scopes);
}

/** A key's role: what was asked, if the owner is an admin or has that role themselves; else member. */
export function capRole(ownerRole: Role, asked: Role): Role {
  return ownerRole === 'admin' || asked === ownerRole ? asked : 'member';
}
