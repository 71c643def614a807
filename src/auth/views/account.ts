// The views a signed-in user has of their own account: the page, passkeys, the authenticator app,
// recovery codes and personal tokens.
import type { FieldErrors, Stamp, Reauth } from './common.js';
import type { Principal } from '../../session/sessions.js';

export interface AccountSession {
  id: string;
  current: boolean;
  createdAt: Stamp;
  lastSeenAt: Stamp;
  ip: string | null;
  userAgent: string | null;
  /** A session made with a pairing code: the device it was paired from. */
  pairedFrom?: string | null;
}

/** An OAuth client the user allowed (docs/architecture.md#oauth), on the account page. */
export interface AccountConnectedApp {
  clientId: string;
  clientName: string;
  resource: string;
  scopes: string[];
  lastUsedAt: Stamp | null;
}

export interface AccountView {
  csrf: string;
  user: Principal;
  isAdmin: boolean;
  sessions: AccountSession[];
  /** Absent while no MCP resource is configured. */
  connected?: AccountConnectedApp[];
  emailVerified: boolean;
  /** `blocked`: why the address cannot be changed here (no mail), else null. `reauth`: an account
   *  without a password, signed in too long ago to change it (the password proves it otherwise). */
  emailChange: { blocked: string | null; newEmail: string; reauth: Reauth | null };
  hasPassword: boolean;
  /** Mail is bound: "Forgot password" can set a password for a provider-only account. */
  resetAvailable: boolean;
  /** Account › Security in brief; the pages themselves change it. */
  security: { totp: boolean; recoveryLeft: number; passkeys: number; tokens: number };
  identities: AccountIdentity[];
  /** Providers configured here that this account has not linked yet. */
  linkable: Array<{ name: string; label: string; action: string }>;
  errors: FieldErrors<'current_password' | 'password' | 'new_email' | 'email_password' | 'identities'>;
  notice: string | null;
}

/** A social identity that signs in to this account. */
export interface AccountIdentity {
  provider: string;
  email: string | null;
  since: Stamp;
  issuer: string;
  subject: string;
  /** False when it is the last way in (no password, passkey or other identity). */
  canUnlink: boolean;
}

export interface PasskeyRow {
  id: string;
  name: string;
  createdAt: Stamp;
  lastUsedAt: Stamp | null;
  /** Where it lives, in words: "Device or password manager", "Security key". */
  kind: string;
  removeHref: string;
}

export interface PasskeysView {
  csrf: string;
  user: Principal;
  passkeys: PasskeyRow[];
  /** Why passkeys cannot work at this address (an IP, plain http), or null. */
  unavailable: string | null;
  defaultName: string;
  optionsUrl: string;
  verifyUrl: string;
  notice: string | null;
  error: string | null;
  /** Signed in too long ago to add or remove one: the form that signs out and back in, returning here. */
  reauth: Reauth | null;
}

/** Account › Security: the user's second factors (architecture.md#mfa). */
export interface SecurityView {
  csrf: string;
  user: Principal;
  totp: { since: Stamp } | null;
  recoveryLeft: number;
  /** Removing the app asks for the current password too, when the account has one. */
  hasPassword: boolean;
  /** Pages other parts of Gatehouse own: passkeys, personal tokens. */
  passkeysHref: string;
  tokensHref: string;
  errors: FieldErrors<'code'>;
  notice: string | null;
}

/** Enrolling an authenticator app: the secret three ways, and the form that confirms it. */
export interface TotpView {
  csrf: string;
  secret: string;
  /** The secret in groups of four, easier to type. */
  secretGroups: string;
  uri: string;
  /** SVG markup from `qrcode` (paths only, no script or style); printed raw. */
  qr: string;
  returnTo: string;
  error: string | null;
  /** The policy sent the user here: they cannot go on without it. */
  required: boolean;
  /** Signed in too long ago to set one up: "Sign in again" instead of the code (recent-sign-in.ts). */
  reauth: Reauth | null;
}

/** Recovery codes, shown once. */
export interface RecoveryCodesView {
  heading: string;
  codes: string[];
  continueHref: string;
}

/** A personal token on Account › Personal tokens (one of the user's own live API keys). */
export interface TokenRow {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  createdAt: Stamp;
  /** "expires 2026-06-01" or "no expiry". */
  expiry: string;
  lastUsedAt: Stamp | null;
  /** The confirm pages for regenerating and disabling it. */
  regenerateHref: string;
  disableHref: string;
}

export interface AccountTokensView {
  csrf: string;
  user: Principal;
  tokens: TokenRow[];
  lifetimes: Array<{ value: string; label: string }>;
  /** A token just made: its secret, shown on this answer only. */
  created: { name: string; token: string } | null;
  error: string | null;
  notice: string | null;
  /** The name field as typed, after an error. */
  name: string;
  /** Signed in too long ago to make or regenerate one: "Sign in again" instead (recent-sign-in.ts). */
  reauth: Reauth | null;
}
