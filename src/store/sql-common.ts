// Row mapping shared by the SQL backends (PostgreSQL, MySQL). Dates are BIGINT epoch milliseconds, which
// round-trip exactly on every dialect; drivers may hand them back as strings.
import { createHash } from 'node:crypto';
import { StoreError, type ApiKey, type Identity, type OneTimeToken, type Session, type TokenKind, type User } from './types.js';

export type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const date = (v: unknown): Date => new Date(num(v));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';

export function checkPrefix(prefix: string): string {
  if (!/^[a-z0-9_]{0,32}$/.test(prefix)) throw new StoreError('INVALID', `invalid table prefix "${prefix}" (lower-case letters, digits, _)`);
  return prefix;
}

/**
 * The pool size of a server binding: `?pool=` or `?max=` in the URL (removed from it, since the drivers
 * do not know them), else the configured size, else 10. Bounded like GATEHOUSE_DB_POOL.
 */
export function takePoolSize(u: URL, configured: number | undefined): number {
  const raw = u.searchParams.get('pool') ?? u.searchParams.get('max');
  u.searchParams.delete('pool');
  u.searchParams.delete('max');
  const n = raw === null ? (configured ?? 10) : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new StoreError('INVALID', `database pool size must be a number from 1 to 1000, not "${raw ?? configured}"`);
  return n;
}

/**
 * Counter keys embed caller data (an email for account lockout) of any length, but index keys are
 * bounded (MySQL VARCHAR(255), a PostgreSQL btree entry ~2.7 kB). Long keys are stored as their SHA-256,
 * which keeps them distinct; short ones stay readable for whoever inspects the table.
 */
export function counterKey(key: string): string {
  return key.length <= 128 && !key.startsWith('sha256:') ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export const toUser = (r: Row): User => ({
  id: String(r.id),
  email: String(r.email),
  name: String(r.name),
  role: r.role === 'admin' ? 'admin' : 'member',
  passwordHash: strOrNull(r.password_hash),
  emailVerified: bool(r.email_verified),
  disabled: bool(r.disabled),
  createdAt: date(r.created_at),
  updatedAt: date(r.updated_at),
});

export const toIdentity = (r: Row): Identity => ({
  issuer: String(r.issuer),
  subject: String(r.subject),
  provider: String(r.provider),
  userId: String(r.user_id),
  email: strOrNull(r.email),
  createdAt: date(r.created_at),
});

export const toSession = (r: Row): Session => ({
  id: String(r.id),
  userId: String(r.user_id),
  provider: String(r.provider),
  createdAt: date(r.created_at),
  lastSeenAt: date(r.last_seen_at),
  expiresAt: date(r.expires_at),
  ip: strOrNull(r.ip),
  userAgent: strOrNull(r.user_agent),
});

export const toToken = (r: Row): OneTimeToken => ({
  hash: String(r.hash),
  kind: String(r.kind) as TokenKind,
  userId: strOrNull(r.user_id),
  email: strOrNull(r.email),
  createdAt: date(r.created_at),
  expiresAt: date(r.expires_at),
});

export const toApiKey = (r: Row): ApiKey => ({
  id: String(r.id),
  hash: String(r.hash),
  userId: String(r.user_id),
  name: String(r.name),
  role: r.role === 'admin' ? 'admin' : 'member',
  createdAt: date(r.created_at),
  expiresAt: dateOrNull(r.expires_at),
  lastUsedAt: dateOrNull(r.last_used_at),
  revoked: bool(r.revoked),
});

/** Columns a UserPatch may change, with their SQL names. */
export const USER_PATCH_COLUMNS = {
  name: 'name',
  role: 'role',
  passwordHash: 'password_hash',
  emailVerified: 'email_verified',
  disabled: 'disabled',
} as const;
