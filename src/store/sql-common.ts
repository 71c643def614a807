// Row mapping shared by the SQL backends (SQLite, PostgreSQL, MySQL). Dates are epoch milliseconds
// (BIGINT / INTEGER), which round-trip exactly on every dialect; drivers may hand them back as strings.
// The rules that hold for MongoDB too (prefix, pool size, counter keys) are in rules.ts.
import { optional } from './rules.js';
import type {
  ApiKey,
  CounterState,
  DeviceAuthorization,
  Identity,
  OAuthClient,
  OAuthConsent,
  OAuthToken,
  OAuthTokenKind,
  OneTimeToken,
  Passkey,
  SecurityEvent,
  Session,
  TokenKind,
  TotpFactor,
  User,
} from './types.js';

export type Row = Record<string, unknown>;

export const num = (v: unknown): number => Number(v);
export const date = (v: unknown): Date => new Date(num(v));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';

/** A counters row (count, reset_at) as the contract's CounterState. */
export const toCounter = (r: Row): CounterState => ({ count: num(r.count), resetAt: date(r.reset_at) });

export const toEvent = (r: Row): SecurityEvent => ({
  id: String(r.id),
  at: date(r.at),
  event: String(r.event),
  userId: (r.user_id as string | null) ?? null,
  email: (r.email as string | null) ?? null,
  ip: (r.ip as string | null) ?? null,
  detail: (r.detail as string | null) ?? null,
});
export const toUser = (r: Row): User => ({
  id: String(r.id),
  email: String(r.email),
  name: String(r.name),
  role: String(r.role),
  passwordHash: strOrNull(r.password_hash),
  emailVerified: bool(r.email_verified),
  disabled: bool(r.disabled),
  groups: typeof r.group_names === 'string' && r.group_names ? r.group_names.split(',') : [],
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
  ...(typeof r.amr === 'string' && r.amr ? { amr: r.amr.split(',') } : {}),
  ...optional('pairedFrom', strOrNull(r.paired_from)),
});

export const toTotp = (r: Row): TotpFactor => ({
  userId: String(r.user_id),
  secret: String(r.secret),
  confirmed: bool(r.confirmed),
  lastStep: r.last_step === null || r.last_step === undefined ? null : num(r.last_step),
  createdAt: date(r.created_at),
});

export const toToken = (r: Row): OneTimeToken => ({
  hash: String(r.hash),
  kind: String(r.kind) as TokenKind,
  userId: strOrNull(r.user_id),
  email: strOrNull(r.email),
  createdAt: date(r.created_at),
  expiresAt: date(r.expires_at),
  ...optional('note', strOrNull(r.note)),
});

export const toApiKey = (r: Row): ApiKey => ({
  id: String(r.id),
  hash: String(r.hash),
  userId: String(r.user_id),
  name: String(r.name),
  role: String(r.role), // any role name (operator, …): capRole decides what it is worth
  createdAt: date(r.created_at),
  expiresAt: dateOrNull(r.expires_at),
  lastUsedAt: dateOrNull(r.last_used_at),
  revoked: bool(r.revoked),
  ...optional('scopes', typeof r.scopes === 'string' && r.scopes ? r.scopes.split(' ') : null),
});

export const toPasskey = (r: Row): Passkey => ({
  id: String(r.id),
  userId: String(r.user_id),
  publicKey: String(r.public_key),
  counter: num(r.counter),
  transports: typeof r.transports === 'string' && r.transports ? r.transports.split(',') : [],
  name: String(r.name),
  createdAt: date(r.created_at),
  lastUsedAt: dateOrNull(r.last_used_at),
});

export const toOAuthClient = (r: Row): OAuthClient => ({
  id: String(r.id),
  kind: r.kind === 'cimd' || r.kind === 'builtin' ? r.kind : 'dcr',
  name: String(r.name),
  redirectUris: JSON.parse(String(r.redirect_uris)) as string[],
  createdAt: date(r.created_at),
  lastUsedAt: dateOrNull(r.last_used_at),
  cachedUntil: dateOrNull(r.cached_until),
});

export const toOAuthToken = (r: Row): OAuthToken => ({
  hash: String(r.hash),
  kind: String(r.kind) as OAuthTokenKind,
  family: String(r.family),
  clientId: String(r.client_id),
  userId: String(r.user_id),
  resource: String(r.resource),
  scopes: String(r.scopes),
  redirectUri: strOrNull(r.redirect_uri),
  codeChallenge: strOrNull(r.code_challenge),
  createdAt: date(r.created_at),
  expiresAt: date(r.expires_at),
  usedAt: dateOrNull(r.used_at),
});

export const toDeviceAuthorization = (r: Row): DeviceAuthorization => ({
  deviceHash: String(r.device_hash),
  userHash: String(r.user_hash),
  clientId: String(r.client_id),
  scopes: String(r.scopes),
  resource: String(r.resource),
  createdAt: date(r.created_at),
  expiresAt: date(r.expires_at),
  intervalSec: num(r.interval_s),
  lastPollAt: dateOrNull(r.last_poll_at),
  status: r.status === 'approved' || r.status === 'denied' ? r.status : 'pending',
  userId: strOrNull(r.user_id),
});

export const toOAuthConsent = (r: Row): OAuthConsent => ({
  userId: String(r.user_id),
  clientId: String(r.client_id),
  resource: String(r.resource),
  scopes: String(r.scopes),
  createdAt: date(r.created_at),
});

/** Columns a UserPatch may change, with their SQL names. */
export const USER_PATCH_COLUMNS = {
  email: 'email',
  name: 'name',
  role: 'role',
  passwordHash: 'password_hash',
  emailVerified: 'email_verified',
  disabled: 'disabled',
  groups: 'group_names',
} as const;
