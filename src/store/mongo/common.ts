// What the MongoDB verbs (one module per domain) share: the collections and their document shapes, and
// how one call is run — bounded by the store deadline, driver errors mapped to StoreError.
import type { Collection, Db, Document } from 'mongodb';
import { withDeadline } from '../deadline.js';
import {
  StoreError,
  type ApiKey,
  type DeviceAuthorization,
  type OAuthClient,
  type OAuthConsent,
  type OAuthToken,
  type OneTimeToken,
  type Passkey,
  type ReplicaBeat,
  type SecurityEvent,
  type Session,
  type SigningKeyRecord,
  type TotpFactor,
  type User,
} from '../types.js';

const UNAVAILABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoNotConnectedError',
  'MongoServerClosedError',
]);

function mapError(err: unknown): never {
  if (err instanceof StoreError) throw err;
  const e = err as { code?: number; name?: string; message?: string };
  if (e.code === 11000) throw new StoreError('DUPLICATE', 'record already exists', { cause: err });
  const lost = /ECONNREFUSED|ECONNRESET|connection .* closed|timed out/i.test(e.message ?? '');
  if (UNAVAILABLE.has(e.name ?? '') || lost) {
    throw new StoreError('UNAVAILABLE', `MongoDB is unavailable: ${e.message}`, { cause: err });
  }
  throw err;
}

/** One store call: bounded like every server backend's (store/deadline.ts), driver errors mapped. */
export async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  return unbounded(() => withDeadline(fn(), 'MongoDB'));
}

/** Driver errors mapped, no deadline: migrations build indexes and may wait on another replica. */
export async function unbounded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    mapError(err);
  }
}

export type UserDoc = Omit<User, 'id'> & { _id: string };
export type SessionDoc = Omit<Session, 'id'> & { _id: string };
export type TokenDoc = Omit<OneTimeToken, 'hash'> & { _id: string };
export type KeyDoc = Omit<ApiKey, 'id'> & { _id: string };
export type PasskeyDoc = Omit<Passkey, 'id'> & { _id: string };
export type CounterDoc = { _id: string; count: number; resetAt: Date };
// `codes`: the batch of recovery codes the factor was enabled with (enableTotp); a code's `batch` names it.
export type TotpDoc = Omit<TotpFactor, 'userId'> & { _id: string; codes?: string };
export type RecoveryDoc = { userId: string; hash: string; createdAt: Date; batch?: string };
export type OAuthClientDoc = Omit<OAuthClient, 'id'> & { _id: string };
export type OAuthTokenDoc = Omit<OAuthToken, 'hash'> & { _id: string };
export type OAuthConsentDoc = OAuthConsent & { _id?: unknown };
export type DeviceDoc = Omit<DeviceAuthorization, 'deviceHash'> & { _id: string };
export type EventDoc = Omit<SecurityEvent, 'id'> & { _id: string };
export type SigningKeyDoc = Omit<SigningKeyRecord, 'generation'> & { _id: number };
export type ReplicaDoc = Omit<ReplicaBeat, 'id'> & { _id: string };

// Documents keep the contract's field names, with the record's id (a token's hash) as _id.
export const withId = <T extends { id: string }>({ id, ...rest }: T): Omit<T, 'id'> & { _id: string } => ({
  _id: id,
  ...rest,
});

export interface Collections {
  users: Collection<UserDoc>;
  identities: Collection<Document>;
  sessions: Collection<SessionDoc>;
  tokens: Collection<TokenDoc>;
  keys: Collection<KeyDoc>;
  passkeys: Collection<PasskeyDoc>;
  counters: Collection<CounterDoc>;
  totp: Collection<TotpDoc>;
  recovery: Collection<RecoveryDoc>;
  oauthClients: Collection<OAuthClientDoc>;
  oauthConsents: Collection<OAuthConsentDoc>;
  oauthTokens: Collection<OAuthTokenDoc>;
  devices: Collection<DeviceDoc>;
  events: Collection<EventDoc>;
  signingKeys: Collection<SigningKeyDoc>;
  replicas: Collection<ReplicaDoc>;
  schema: Collection<{ _id: string; version: number }>;
}

export function collections(db: Db, p: string): Collections {
  return {
    users: db.collection<UserDoc>(`${p}users`),
    identities: db.collection(`${p}identities`),
    sessions: db.collection<SessionDoc>(`${p}sessions`),
    tokens: db.collection<TokenDoc>(`${p}tokens`),
    keys: db.collection<KeyDoc>(`${p}api_keys`),
    passkeys: db.collection<PasskeyDoc>(`${p}passkeys`),
    counters: db.collection<CounterDoc>(`${p}counters`),
    totp: db.collection<TotpDoc>(`${p}totp`),
    recovery: db.collection<RecoveryDoc>(`${p}recovery_codes`),
    oauthClients: db.collection<OAuthClientDoc>(`${p}oauth_clients`),
    oauthConsents: db.collection<OAuthConsentDoc>(`${p}oauth_consents`),
    oauthTokens: db.collection<OAuthTokenDoc>(`${p}oauth_tokens`),
    devices: db.collection<DeviceDoc>(`${p}device_authorizations`),
    events: db.collection<EventDoc>(`${p}events`),
    signingKeys: db.collection<SigningKeyDoc>(`${p}signing_keys`),
    replicas: db.collection<ReplicaDoc>(`${p}replicas`),
    schema: db.collection<{ _id: string; version: number }>(`${p}schema`),
  };
}
