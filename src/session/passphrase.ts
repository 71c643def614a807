// The passphrase mode's one reserved user (architecture.md#access). Sessions reference a user row (the
// store's foreign key), so every passphrase session belongs to an internal row whose id carries a
// fingerprint of the passphrase's hash: `gatehouse:passphrase:<fp>`. A new passphrase means a new id, so
// the sessions of the old one no longer match the running settings and end at their next check (≤ 2 s on
// every replica); `auth passphrase set` also deletes the old row, and its sessions with it.
//
// The row can never sign in otherwise: it has no password, an unverified address under `.invalid`
// (RFC 2606: no mail is ever delivered there), and ids starting `gatehouse:` are left out of user
// listings and counts by every store (store/rules.ts). The app sees `X-Forwarded-User: passphrase`.
import { createHash } from 'node:crypto';
import { isStoreError, type Store, type User } from '../store/types.js';
import { RESERVED_USER_PREFIX } from '../store/rules.js';

const PREFIX = `${RESERVED_USER_PREFIX}passphrase:`;

/** The reserved user of the passphrase whose argon2id hash this is. */
export function passphraseUserId(hash: string): string {
  return PREFIX + createHash('sha256').update(hash).digest('hex').slice(0, 24);
}

export function isPassphraseUser(userId: string): boolean {
  return userId.startsWith(PREFIX);
}

/** The row for this passphrase, created on its first sign-in (two replicas racing both get it). */
export async function passphraseUser(store: Store, hash: string, now: Date): Promise<User> {
  const id = passphraseUserId(hash);
  const existing = await store.findUserById(id);
  if (existing) return existing;
  const user: User = {
    id,
    email: `${id.slice(PREFIX.length)}@passphrase.gatehouse.invalid`,
    name: 'Passphrase',
    role: 'member',
    passwordHash: null,
    emailVerified: false,
    disabled: false,
    groups: [],
    createdAt: now,
    updatedAt: now,
  };
  try {
    await store.importUser(user);
  } catch (err) {
    if (!isStoreError(err, 'DUPLICATE')) throw err;
  }
  return user;
}
