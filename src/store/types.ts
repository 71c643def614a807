// The storage contract. Every backend (SQLite, PostgreSQL, MySQL/MariaDB, MongoDB) implements it and
// passes the one conformance suite in test/conformance/. Methods are domain verbs; anything that must be
// single-use or counted is atomic in the backend itself (never "find, then delete"). Callers pass `now`
// so tests control time. Dates go in and come out as Date objects, ids and hashes as strings.
//
// The records and verbs live by domain in contract/, one role interface each, so a consumer can ask for
// the narrow role it needs (a `CounterStore`, a `SessionStore`); importers keep this one path.
import type { ApiKeyStore, PasskeyStore } from './contract/credentials.js';
import type { DeviceAuthorizationStore } from './contract/devices.js';
import type { EventStore } from './contract/events.js';
import type { MfaStore } from './contract/mfa.js';
import type { OAuthClientStore, OAuthTokenStore } from './contract/oauth.js';
import type { CounterStore, SigningKeyStore } from './contract/shared-state.js';
import type { SessionStore, TokenStore } from './contract/sessions.js';
import type { IdentityStore, UserStore } from './contract/users.js';

export * from './contract/credentials.js';
export * from './contract/devices.js';
export * from './contract/events.js';
export * from './contract/mfa.js';
export * from './contract/oauth.js';
export * from './contract/sessions.js';
export * from './contract/shared-state.js';
export * from './contract/users.js';

export type StoreKind = 'sqlite' | 'postgres' | 'mysql' | 'mongodb';

export interface Store
  extends
    UserStore,
    IdentityStore,
    SessionStore,
    TokenStore,
    ApiKeyStore,
    PasskeyStore,
    MfaStore,
    OAuthClientStore,
    OAuthTokenStore,
    DeviceAuthorizationStore,
    EventStore,
    SigningKeyStore,
    CounterStore {
  readonly kind: StoreKind;
  /** Create or upgrade the schema to the current version; safe to call from two processes at once. */
  migrate(): Promise<void>;
  /** Cheap round-trip used by /auth/ready; throws StoreError('UNAVAILABLE') when the server is gone. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StoreErrorCode = 'DUPLICATE' | 'UNAVAILABLE' | 'MIGRATION' | 'INVALID';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

export interface StoreOptions {
  /** Table / collection name prefix; lets two apps share one database. Default `gatehouse_`. */
  prefix?: string;
  /** Maximum pool size for server databases. */
  poolSize?: number;
}
