// The storage contract. Every backend (SQLite, PostgreSQL, MySQL/MariaDB, MongoDB) implements it and
// passes the one conformance suite in test/conformance/. Methods are domain verbs; anything that must be
// single-use or counted is atomic in the backend itself (never "find, then delete"). Callers pass `now`
// so tests control time. Dates go in and come out as Date objects, ids and hashes as strings.

/** `admin` opens Gatehouse's own admin surface; any other name (`member`, `operator`, …) is for the app and access rules. */
export type Role = string;

export const ROLE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const GROUP_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface User {
  id: string; // stable, opaque (UUID); what the app sees as X-Forwarded-User
  email: string; // normalised: trimmed, lower-cased; unique
  name: string;
  role: Role;
  passwordHash: string | null; // PHC string; null for social-only accounts
  emailVerified: boolean;
  disabled: boolean;
  groups: string[]; // sorted, unique, each matching GROUP_NAME
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  passwordHash: string | null;
  emailVerified: boolean;
  groups?: string[];
}

/** A changed `email` (already normalised) throws StoreError('DUPLICATE') when another user has it. */
export type UserPatch = Partial<Pick<User, 'email' | 'name' | 'role' | 'passwordHash' | 'emailVerified' | 'disabled' | 'groups'>>;

/** A social login: keyed on (issuer, subject), never on email. */
export interface Identity {
  issuer: string;
  subject: string;
  provider: string; // google, github, … or a custom provider's name
  userId: string;
  email: string | null;
  createdAt: Date;
}

/** A server-side session. `id` is the SHA-256 (hex) of the cookie token: the token itself is never stored. */
export interface Session {
  id: string;
  userId: string;
  provider: string; // how the user signed in: password, google, …
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date; // absolute lifetime; idle lifetime is checked against lastSeenAt
  ip: string | null;
  userAgent: string | null;
  /** How the session was made (RFC 8176: pwd, otp, fed, hwk …). Absent when not recorded: sessions made
   *  before the second factor existed, which read as derived from `provider` (session/sessions.ts). */
  amr?: string[];
  /** A session made with a pairing code: the device that asked for the code (SPEC §12); else null. */
  pairedFrom?: string | null;
}

/** `passkey-register` / `passkey-sign-in`: a pending WebAuthn challenge (src/auth/passkeys.ts); `mfa`: a sign-in waiting for its
 *  second step (auth/second-step.ts); `pair`, `handoff`: pairing codes and browser handoff links (SPEC §12); `email-change`: a link
 *  mailed to a user's NEW address (`email` is that address, `note` the old one; auth/account-email.ts). */
export type TokenKind = 'setup' | 'reset' | 'verify-email' | 'invite' | 'passkey-register' | 'passkey-sign-in' | 'mfa' | 'pair' | 'handoff' | 'email-change';

/** A user's authenticator app (architecture.md#mfa). `secret` is sealed (config/secrets.ts), never plain. */
export interface TotpFactor {
  userId: string;
  secret: string;
  /** Turned on by a first correct code; an unconfirmed factor asks for nothing at sign-in. */
  confirmed: boolean;
  /** The last accepted 30-second time-step: a code of this step or an earlier one is refused (no replay). */
  lastStep: number | null;
  createdAt: Date;
}

/** A single-use token (setup link, password reset, email verification). `hash` is SHA-256 hex of the secret. */
export interface OneTimeToken {
  hash: string;
  kind: TokenKind;
  userId: string | null;
  email: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** What the token carries besides its user (a pairing code: the device that asked for it). */
  note?: string | null;
}

export interface ApiKey {
  id: string; // public id, shown in listings
  hash: string; // SHA-256 hex of the secret part
  userId: string;
  name: string;
  role: Role;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revoked: boolean;
  /** Scopes for `scope:S` access rules, sorted (SCOPE_NAME each); absent or empty: none. */
  scopes?: string[];
}

/**
 * A passkey: a WebAuthn credential of one user. `id` is the credential id the authenticator chose
 * (base64url, up to 1364 characters); the public key is not a secret. `counter` is the signature
 * counter last seen (0 for authenticators that keep none).
 */
export interface Passkey {
  id: string;
  userId: string;
  publicKey: string; // COSE key, base64url
  counter: number;
  transports: string[]; // as the browser reported them: internal, hybrid, usb, nfc, ble …
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}


export const SCOPE_NAME = /^[a-z0-9][a-z0-9:._\/-]{0,63}$/;
/** An OAuth client (SPEC §11): registered by DCR (RFC 7591), or a Client ID Metadata Document cached
 *  under its URL. Public clients only: no secret is issued, PKCE is what binds a code to its client. */
export interface OAuthClient {
  id: string; // DCR: random; CIMD: the document's https URL
  kind: 'dcr' | 'cimd' | 'builtin'; // builtin: gatehouse-cli, the device grant's own client (SPEC §12)
  name: string;
  redirectUris: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  /** CIMD: the cached document is fresh until then; DCR: null. */
  cachedUntil: Date | null;
}

export type OAuthTokenKind = 'code' | 'access' | 'refresh';

/**
 * An authorization code, access token or refresh token. `hash` is SHA-256 hex of the secret. One
 * grant's tokens share a `family`: a replayed refresh token ends them all. `redirectUri` and
 * `codeChallenge` only on codes; `usedAt` on codes and refresh tokens once used.
 */
export interface OAuthToken {
  hash: string;
  kind: OAuthTokenKind;
  family: string;
  clientId: string;
  userId: string;
  resource: string;
  scopes: string; // space-separated
  redirectUri: string | null;
  codeChallenge: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

/** A user's consent for a client on a resource, with the scopes it covered. */
export interface OAuthConsent {
  userId: string;
  clientId: string;
  resource: string;
  scopes: string;
  createdAt: Date;
}

/**
 * A device authorization (RFC 8628, SPEC §12). Keyed on the SHA-256 of the device code; the user code
 * is kept only as its hash too. `resource` is an MCP resource URL or, for a token for the whole app,
 * the public origin. `intervalSec` grows by 5 on every poll that came too early (slow_down).
 */
export interface DeviceAuthorization {
  deviceHash: string;
  userHash: string;
  clientId: string;
  scopes: string; // space-separated
  resource: string;
  createdAt: Date;
  expiresAt: Date;
  intervalSec: number;
  lastPollAt: Date | null;
  status: 'pending' | 'approved' | 'denied';
  userId: string | null; // who approved or denied
}

/** One audit line kept in the store (never a password, token or cookie: the audit helper's fields only). */
export interface SecurityEvent {
  id: string;
  at: Date;
  event: string;
  userId: string | null;
  email: string | null;
  ip: string | null;
  detail: string | null;
}

export interface EventFilter {
  limit: number;
  offset: number;
  user?: { id: string | null; email: string };
  event?: string;
}

export interface CounterState {
  count: number; // hits in the current window, including this one
  resetAt: Date; // when the window ends
}

/**
 * An assertion signing key (architecture.md#access): `sealed` is the private JWK sealed with the master key.
 * Keys are ordered by `generation` (1, 2, …); `signsFrom` is when it starts signing (a rotated key is
 * published first and signs only later), and its predecessor's last use.
 */
export interface SigningKeyRecord {
  generation: number;
  kid: string;
  sealed: string;
  createdAt: Date;
  signsFrom: Date;
}

/** A running server's heartbeat: which public URL (the assertion's issuer origin) it serves as. */
export interface ReplicaBeat {
  id: string;
  publicUrl: string;
  seenAt: Date;
}

export type StoreKind = 'sqlite' | 'postgres' | 'mysql' | 'mongodb';

export interface Store {
  readonly kind: StoreKind;
  /** Create or upgrade the schema to the current version; safe to call from two processes at once. */
  migrate(): Promise<void>;
  /** Cheap round-trip used by /auth/ready; throws StoreError('UNAVAILABLE') when the server is gone. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Users. createUser throws StoreError('DUPLICATE') when the email exists, whatever the concurrency.
  createUser(input: NewUser, now: Date): Promise<User>;
  findUserById(id: string): Promise<User | null>;
  findUserByEmail(email: string): Promise<User | null>;
  updateUser(id: string, patch: UserPatch, now: Date): Promise<User | null>;
  /** Deletes the user with its sessions, identities, API keys, passkeys, tokens and second factors. */
  deleteUser(id: string): Promise<boolean>;
  /** `query` (the console's search) keeps users whose email or name contains it, ignoring case. */
  listUsers(opts: { limit: number; offset: number; query?: string }): Promise<User[]>; // ordered by createdAt, then id
  countUsers(query?: string): Promise<number>;
  /** Inserts a user exactly as given — id, password hash, flags and dates — for `gatehouse migrate-users`,
   *  which must keep ids (the app knows its users by X-Forwarded-User). DUPLICATE when the id or email exists. */
  importUser(user: User): Promise<void>;

  // Social identities. linkIdentity throws StoreError('DUPLICATE') when (issuer, subject) is taken.
  linkIdentity(identity: Identity): Promise<void>;
  findIdentity(issuer: string, subject: string): Promise<Identity | null>;
  listIdentities(userId: string): Promise<Identity[]>; // oldest first
  /** Removes one identity of this user (never another user's); true when it existed. */
  unlinkIdentity(userId: string, issuer: string, subject: string): Promise<boolean>;

  // Sessions.
  createSession(session: Session): Promise<void>;
  findSession(id: string): Promise<Session | null>;
  touchSession(id: string, lastSeenAt: Date): Promise<void>;
  deleteSession(id: string): Promise<boolean>;
  /** Ends every session of the user except `exceptId`; returns how many ended. */
  deleteUserSessions(userId: string, exceptId?: string): Promise<number>;
  deleteAllSessions(): Promise<number>;
  listUserSessions(userId: string): Promise<Session[]>; // newest first
  deleteExpiredSessions(now: Date, idleMs: number): Promise<number>;

  // Single-use tokens. consumeToken deletes and returns in one atomic step: of N concurrent callers
  // exactly one gets the token; an expired token is deleted and null is returned.
  createToken(token: OneTimeToken): Promise<void>;
  consumeToken(hash: string, kind: TokenKind, now: Date): Promise<OneTimeToken | null>;
  /** The live token without using it up (null when unknown or expired): lets a page say a link is
   *  dead before anyone fills in a form. Never a substitute for consumeToken. */
  findToken(hash: string, kind: TokenKind, now: Date): Promise<OneTimeToken | null>;
  /** Burns every token of `kind` (of one user, when given): a completed reset kills its siblings,
   *  the first admin kills every setup link. Returns how many were removed. */
  deleteTokens(kind: TokenKind, userId?: string): Promise<number>;
  /** The live tokens of `kind`, oldest first (what `gatehouse migrate-users` carries over: invitations). */
  listTokens(kind: TokenKind, now: Date): Promise<OneTimeToken[]>;

  // API keys.
  createApiKey(key: ApiKey): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKey | null>;
  listApiKeys(userId?: string): Promise<ApiKey[]>;
  revokeApiKey(id: string): Promise<boolean>;
  touchApiKey(id: string, lastUsedAt: Date): Promise<void>;

  // Passkeys. createPasskey throws StoreError('DUPLICATE') when the credential id exists. Rename and
  // delete name the owner: another user's credential is not found (false), whoever asks.
  createPasskey(passkey: Passkey): Promise<void>;
  findPasskey(id: string): Promise<Passkey | null>;
  listPasskeys(userId: string): Promise<Passkey[]>; // oldest first
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>;
  deletePasskey(userId: string, id: string): Promise<boolean>;
  /** Records a sign-in in one atomic step, only if the signature counter moved forward (or both the
   *  stored and the new one are 0: no counter). false, and nothing written, otherwise — a cloned
   *  authenticator, or the same assertion twice. */
  usePasskey(id: string, counter: number, at: Date): Promise<boolean>;
  // Second factor (architecture.md#mfa). A user has at most one authenticator app.
  /** Stores a new, unconfirmed factor in place of any unconfirmed one; DUPLICATE when a confirmed one exists
   *  (it is removed first, on purpose, with deleteTotp). */
  saveTotp(factor: TotpFactor): Promise<void>;
  findTotp(userId: string): Promise<TotpFactor | null>;
  /** Turns an unconfirmed factor on, recording `step` as used; false when there is none to confirm. */
  confirmTotp(userId: string, step: number): Promise<boolean>;
  /** Enrolment written whole: turns an unconfirmed factor on (recording `step` as used) and makes the user's
   *  recovery codes exactly `hashes`, in one transaction — a crash or a cut leaves no factor, or the factor
   *  with every code, never one without the other. false, and nothing written, when there is none to
   *  confirm; of N concurrent callers exactly one wins. */
  enableTotp(userId: string, step: number, hashes: string[], now: Date): Promise<boolean>;
  /** Accepts time-step `step` of the confirmed factor once: atomically true only when it is later than
   *  every step accepted before, so of N concurrent uses of one code exactly one wins. */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  deleteTotp(userId: string): Promise<boolean>;
  /** The user's recovery codes become exactly `hashes` (the old ones die). */
  replaceRecoveryCodes(userId: string, hashes: string[], now: Date): Promise<void>;
  /** Uses up one code: of N concurrent callers exactly one gets true. */
  consumeRecoveryCode(userId: string, hash: string): Promise<boolean>;
  countRecoveryCodes(userId: string): Promise<number>;
  /** The stored hashes, sorted (what `gatehouse migrate-users` carries over). */
  listRecoveryCodes(userId: string): Promise<string[]>;
  deleteRecoveryCodes(userId: string): Promise<number>;
  // OAuth (SPEC §11). createOAuthClient: DUPLICATE when the id exists. deleteOAuthClient takes the
  // client's tokens and consents with it.
  createOAuthClient(client: OAuthClient): Promise<void>;
  /** Replaces a cached client's name, redirect URIs and freshness (CIMD re-fetch); false when unknown. */
  updateOAuthClient(id: string, patch: Pick<OAuthClient, 'name' | 'redirectUris' | 'cachedUntil'>): Promise<boolean>;
  findOAuthClient(id: string): Promise<OAuthClient | null>;
  listOAuthClients(): Promise<OAuthClient[]>; // oldest first
  touchOAuthClient(id: string, at: Date): Promise<void>;
  deleteOAuthClient(id: string): Promise<boolean>;
  /** Removes DCR clients never used since registering before `neverUsedBefore`; returns how many. */
  deleteUnusedOAuthClients(neverUsedBefore: Date): Promise<number>;

  /** Remembers (replacing) the consent for (userId, clientId, resource). */
  saveOAuthConsent(consent: OAuthConsent): Promise<void>;
  findOAuthConsent(userId: string, clientId: string, resource: string): Promise<OAuthConsent | null>;
  listOAuthConsents(userId?: string): Promise<OAuthConsent[]>; // oldest first
  /** Forgets the user's consents for a client and ends every token of theirs for it; returns how many tokens ended. */
  revokeOAuthGrant(userId: string, clientId: string): Promise<number>;

  createOAuthToken(token: OAuthToken): Promise<void>;
  /** A live token of `kind` (unexpired; a used refresh token is still returned, with usedAt set). */
  findOAuthToken(hash: string, kind: OAuthTokenKind, now: Date): Promise<OAuthToken | null>;
  /**
   * Marks a live code or refresh token used, atomically: `first` is true for exactly one of N
   * concurrent callers; a later use (a replay) gets the token with `first` false. Null when unknown
   * or expired. Used rows stay until they expire, so a replay can be recognised and its family ended.
   */
  useOAuthToken(hash: string, kind: 'code' | 'refresh', now: Date): Promise<{ token: OAuthToken; first: boolean } | null>;
  /** Ends every code and token of a family; returns how many. */
  deleteOAuthFamily(family: string): Promise<number>;
  /**
   * A refresh token `spent` (used) was presented again by its client, whose answer may have been lost:
   * ends every unused refresh token and every access token of its family except `keep` (the retry's new
   * pair), then answers 'replayed' when a refresh token of the family other than `spent` was used at or
   * after `spent.usedAt` — a successor reached its holder — else 'superseded'. The delete comes first:
   * a successor used concurrently either survives it (and is seen) or is gone before its use (which fails).
   */
  supersedeOAuthRefresh(spent: OAuthToken, keep: string[]): Promise<'superseded' | 'replayed'>;
  /** Tokens (not codes) of a user, or of everyone, for listings. */
  listOAuthTokens(userId?: string): Promise<OAuthToken[]>;
  deleteExpiredOAuthTokens(now: Date): Promise<number>;

  // Device authorizations (RFC 8628). createDeviceAuthorization: DUPLICATE when either hash exists.
  createDeviceAuthorization(d: DeviceAuthorization): Promise<void>;
  /** The pending, unexpired authorization of a user code (what /auth/device shows). */
  findPendingDeviceAuthorization(userHash: string, now: Date): Promise<DeviceAuthorization | null>;
  /** Approves or denies a pending, unexpired authorization: true for exactly one of N concurrent callers. */
  decideDeviceAuthorization(userHash: string, status: 'approved' | 'denied', userId: string, now: Date): Promise<boolean>;
  /**
   * Records a poll of the device code (expired ones included, so the caller can say expired_token).
   * `tooFast` when it came before lastPollAt + interval — then the interval has grown by 5 s; of two
   * concurrent polls at most one is on time. Null when unknown.
   */
  pollDeviceAuthorization(deviceHash: string, now: Date): Promise<{ auth: DeviceAuthorization; tooFast: boolean } | null>;
  /** Deletes and returns an approved or denied authorization: one winner, so a decision buys tokens once. */
  takeDecidedDeviceAuthorization(deviceHash: string): Promise<DeviceAuthorization | null>;
  deleteExpiredDeviceAuthorizations(now: Date): Promise<number>;
  // Recent security events (the audit log's store-backed copy, for the console): bounded by pruneEvents.
  recordEvent(event: SecurityEvent): Promise<void>;
  /** Newest first. `user` keeps events naming that user's id or email; `event` one event name. */
  listEvents(filter: EventFilter): Promise<SecurityEvent[]>;
  /** Deletes events older than `before`, and all but the newest `keep`; returns how many went. */
  pruneEvents(before: Date, keep: number): Promise<number>;

  // Assertion signing keys and replica heartbeats (architecture.md#access), shared by every replica on the store.
  /** DUPLICATE when the generation (or kid) is taken: of two replicas adding the same generation, one wins. */
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  listSigningKeys(): Promise<SigningKeyRecord[]>; // by generation
  deleteSigningKey(generation: number): Promise<boolean>;
  /** Creates or refreshes this replica's row. */
  recordReplica(beat: ReplicaBeat): Promise<void>;
  listReplicas(seenSince: Date): Promise<ReplicaBeat[]>; // by id
  deleteReplicasSeenBefore(before: Date): Promise<number>;

  // Fixed-window counters for rate limits and lockout, shared by every replica on the same store.
  // hit() increments atomically: N concurrent hits on one key yield counts 1..N.
  hit(key: string, windowMs: number, now: Date): Promise<CounterState>;
  peekCounter(key: string, now: Date): Promise<CounterState | null>;
  clearCounter(key: string): Promise<void>;
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
