// The contract's sessions and single-use tokens (the Store's session and token roles).

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
  /** A session made with a pairing code: the device that asked for the code (architecture.md#devices);
   *  else null. */
  pairedFrom?: string | null;
}

/** `passkey-register` / `passkey-sign-in`: a pending WebAuthn challenge (src/auth/passkeys.ts); `mfa`: a
 *  sign-in waiting for its second step (auth/second-step.ts); `pair`, `handoff`: pairing codes and browser
 *  handoff links (architecture.md#devices); `email-change`: a link mailed to a user's NEW address (`email`
 *  is that address, `note` the old one; auth/account-email.ts). */
export type TokenKind =
  | 'setup'
  | 'reset'
  | 'verify-email'
  | 'invite'
  | 'passkey-register'
  | 'passkey-sign-in'
  | 'mfa'
  | 'pair'
  | 'handoff'
  | 'email-change';

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

export interface SessionStore {
  createSession(session: Session): Promise<void>;
  findSession(id: string): Promise<Session | null>;
  touchSession(id: string, lastSeenAt: Date): Promise<void>;
  deleteSession(id: string): Promise<boolean>;
  /** Ends every session of the user except `exceptId`; returns how many ended. */
  deleteUserSessions(userId: string, exceptId?: string): Promise<number>;
  deleteAllSessions(): Promise<number>;
  listUserSessions(userId: string): Promise<Session[]>; // newest first
  deleteExpiredSessions(now: Date, idleMs: number): Promise<number>;
}

// Single-use tokens. consumeToken deletes and returns in one atomic step: of N concurrent callers
// exactly one gets the token; an expired token is deleted and null is returned.
export interface TokenStore {
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
}
