// Rules every backend applies the same way — SQLite, PostgreSQL, MySQL and MongoDB import them from
// here rather than each keeping its own copy, so the backends agree by construction: which table
// prefixes are allowed, how big a pool may be, and how a counter key is stored.
import { createHash } from 'node:crypto';
import { StoreError } from './types.js';

/**
 * A table / collection prefix is spliced into SQL and collection names, so it is held to the same
 * characters GATEHOUSE_TABLE_PREFIX allows (src/config/validate.ts), on every backend.
 */
export function checkPrefix(prefix: string): string {
  if (!/^[a-z0-9_]{0,32}$/.test(prefix))
    throw new StoreError('INVALID', `invalid table prefix "${prefix}" (lower-case letters, digits, _)`);
  return prefix;
}

/** `?pool=` / `?max=` from the URL, else the configured size (GATEHOUSE_DB_POOL), else 10; 1..1000. */
function poolSize(raw: string | null, configured: number | undefined): number {
  const n = raw === null ? (configured ?? 10) : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new StoreError('INVALID', `database pool size must be a number from 1 to 1000, not "${raw ?? configured}"`);
  return n;
}

/**
 * The pool size of a server binding: `?pool=` or `?max=` in the URL (removed from it, since the drivers
 * do not know them), else the configured size, else 10. Bounded like GATEHOUSE_DB_POOL.
 */
export function takePoolSize(u: URL, configured: number | undefined): number {
  const raw = u.searchParams.get('pool') ?? u.searchParams.get('max');
  u.searchParams.delete('pool');
  u.searchParams.delete('max');
  return poolSize(raw, configured);
}

/**
 * takePoolSize for a connection string that WHATWG URL cannot parse: a MongoDB seed list
 * (`mongodb://a:27017,b:27017/db`) is not a URL. Only the query is read; the rest is returned as given,
 * and so is the whole string when it names no pool size.
 */
export function takePoolSizeFromString(url: string, configured: number | undefined): { url: string; poolSize: number } {
  const at = url.indexOf('?');
  const query = new URLSearchParams(at < 0 ? '' : url.slice(at + 1));
  if (!query.has('pool') && !query.has('max')) return { url, poolSize: poolSize(null, configured) };
  const raw = query.get('pool') ?? query.get('max');
  query.delete('pool');
  query.delete('max');
  const rest = query.toString();
  return { url: url.slice(0, at) + (rest ? `?${rest}` : ''), poolSize: poolSize(raw, configured) };
}

/**
 * Counter keys embed caller data (an email for account lockout) of any length, but index keys are
 * bounded (MySQL VARCHAR(255), a PostgreSQL btree entry ~2.7 kB, a MongoDB index key 1 kB on old
 * servers). Long keys are stored as their SHA-256, which keeps them distinct; short ones stay readable
 * for whoever inspects the table. A short key that itself starts with "sha256:" is hashed too, so it can
 * never collide with the stored form of a long one. Every backend stores keys through this.
 */
export function counterKey(key: string): string {
  return key.length <= 128 && !key.startsWith('sha256:')
    ? key
    : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** Groups as every backend stores them: unique, sorted (the order the header and the assertion use). */
export function normalGroups(groups: readonly string[]): string[] {
  return [...new Set(groups)].sort();
}

/**
 * Users whose id starts with this are Gatehouse's own (the passphrase mode's user, session/passphrase.ts):
 * they hold sessions but are no one's account, so listUsers and countUsers leave them out on every
 * backend (a count that included them would say an admin exists before anyone signed up). A UUID never
 * contains ":".
 */
export const RESERVED_USER_PREFIX = 'gatehouse:';

export const isReservedUserId = (id: string): boolean => id.startsWith(RESERVED_USER_PREFIX);

/** A key's scopes as every backend stores them: unique, sorted (the order X-Forwarded-Scopes uses). */
export function normalScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)].sort();
}

/** The contract's optional fields (schema version 3) are absent when there is none, on every backend. */
export const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
  value === null ? {} : ({ [key]: value } as { [P in K]: V });
