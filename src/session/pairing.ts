// Pairing codes (architecture.md#devices): a signed-in user (or an admin with `gatehouse pair`) gets a short code that
// signs a second device in as them without a password. 6 characters from an alphabet without the
// look-alikes 0/O, 1/I/L — about 30 bits, enough for 5 minutes behind a block of 5 wrong codes a
// minute per IP. Only the hash is stored; the code is used up atomically (consumeToken: one winner).
// A new code ends the user's previous one, so a user has at most one live code.
import { randomInt } from 'node:crypto';
import { sha256Hex } from '../security/tokens.js';
import { isStoreError, type OneTimeToken, type Store } from '../store/types.js';

export const PAIR_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const PAIR_CODE_LENGTH = 6;
export const PAIR_TTL_MS = 5 * 60_000;

const hashOf = (code: string) => sha256Hex(`pair:${code}`);

export function newPairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIR_CODE_LENGTH; i++) code += PAIR_ALPHABET[randomInt(PAIR_ALPHABET.length)];
  return code;
}

/** What a person typed, as a code: case, spaces and dashes forgiven; null when it cannot be one. */
export function normalCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== PAIR_CODE_LENGTH) return null;
  for (const ch of code) if (!PAIR_ALPHABET.includes(ch)) return null;
  return code;
}

/**
 * A fresh code for `userId`; `from` names the device that asked (shown with the new session). Two
 * live codes cannot share a hash (the tokens' key): a collision is retried with another code.
 */
export async function issuePairingCode(
  store: Store,
  userId: string,
  from: string,
  now: number,
): Promise<{ code: string; expiresAt: Date }> {
  await store.deleteTokens('pair', userId);
  const expiresAt = new Date(now + PAIR_TTL_MS);
  for (let attempt = 0; ; attempt++) {
    const code = newPairingCode();
    try {
      await store.createToken({
        hash: hashOf(code),
        kind: 'pair',
        userId,
        email: null,
        createdAt: new Date(now),
        expiresAt,
        note: from.slice(0, 200),
      });
      return { code, expiresAt };
    } catch (err) {
      if (!isStoreError(err, 'DUPLICATE') || attempt >= 4) throw err;
    }
  }
}

/** Uses up a code: the token (its user, and the device it came from), or null when unknown or expired. */
export function consumePairingCode(store: Store, code: string, now: number): Promise<OneTimeToken | null> {
  return store.consumeToken(hashOf(code), 'pair', new Date(now));
}

export function pairingLink(origin: string, prefix: string, code: string): string {
  return `${origin}${prefix}/pair?code=${code}`;
}
