// Browser handoff (architecture.md#devices): `gatehouse open` writes a one-time link's hash into the store the running
// server reads; the server uses the link up and signs that user in. 256 random bits, 60 seconds,
// single use (consumeToken: one winner), only the hash stored — like a reset link, but short-lived.
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { OneTimeToken, Store, User } from '../store/types.js';

export const HANDOFF_TTL_MS = 60_000;
const PAGE = 200;

export async function issueHandoff(store: Store, userId: string, now: number): Promise<string> {
  const token = randomToken(32);
  await store.createToken({
    hash: sha256Hex(token),
    kind: 'handoff',
    userId,
    email: null,
    createdAt: new Date(now),
    expiresAt: new Date(now + HANDOFF_TTL_MS),
  });
  return token;
}

/** The live link without using it up: lets the page name the account before the button is pressed. */
export function peekHandoff(store: Store, token: string, now: number): Promise<OneTimeToken | null> {
  return store.findToken(sha256Hex(token), 'handoff', new Date(now));
}

export function consumeHandoff(store: Store, token: string, now: number): Promise<OneTimeToken | null> {
  return store.consumeToken(sha256Hex(token), 'handoff', new Date(now));
}

/** The admin who has been one longest (the first made, usually through the setup link), not disabled. */
export async function oldestAdmin(store: Store): Promise<User | null> {
  for (let offset = 0; ; offset += PAGE) {
    const users = await store.listUsers({ limit: PAGE, offset });
    const admin = users.find((u) => u.role === 'admin' && !u.disabled);
    if (admin) return admin;
    if (users.length < PAGE) return null;
  }
}

export function handoffLink(origin: string, prefix: string, token: string): string {
  return `${origin}${prefix}/handoff?token=${token}`;
}
