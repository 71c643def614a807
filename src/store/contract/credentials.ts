// The contract's API keys and passkeys: credentials a user holds besides a password.
import type { Role } from './users.js';

export const SCOPE_NAME = /^[a-z0-9][a-z0-9:._\/-]{0,63}$/;

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

export interface ApiKeyStore {
  createApiKey(key: ApiKey): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKey | null>;
  listApiKeys(userId?: string): Promise<ApiKey[]>;
  revokeApiKey(id: string): Promise<boolean>;
  touchApiKey(id: string, lastUsedAt: Date): Promise<void>;
}

// Passkeys. createPasskey throws StoreError('DUPLICATE') when the credential id exists. Rename and
// delete name the owner: another user's credential is not found (false), whoever asks.
export interface PasskeyStore {
  createPasskey(passkey: Passkey): Promise<void>;
  findPasskey(id: string): Promise<Passkey | null>;
  listPasskeys(userId: string): Promise<Passkey[]>; // oldest first
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>;
  deletePasskey(userId: string, id: string): Promise<boolean>;
  /** Records a sign-in in one atomic step, only if the signature counter moved forward (or both the
   *  stored and the new one are 0: no counter). false, and nothing written, otherwise — a cloned
   *  authenticator, or the same assertion twice. */
  usePasskey(id: string, counter: number, at: Date): Promise<boolean>;
}
