// The one-time link that makes the first admin (SPEC §6): printed by `auth enable` and the first
// `serve` while there are no accounts, so a stranger who reaches a fresh deployment first cannot
// become its admin.
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { Store } from '../store/types.js';

const SETUP_TTL_MS = 24 * 3600_000;

/** A line to print when the store has no users yet, else null. */
export async function setupLinkLine(store: Store, origin: string, prefix: string, now: number): Promise<string | null> {
  if ((await store.countUsers()) > 0) return null;
  const setup = randomToken(32);
  await store.createToken({ hash: sha256Hex(setup), kind: 'setup', userId: null, email: null, createdAt: new Date(now), expiresAt: new Date(now + SETUP_TTL_MS) });
  return `setup: create the admin account at ${origin}${prefix}/sign-up?setup=${setup} (valid 24 h, once)`;
}
