// The relying party and the pending challenge of a passkey ceremony (architecture.md#passkeys).
//
// The relying party is the public URL: its hostname is the RP ID every passkey is bound to, its origin
// the only origin accepted. Browsers refuse an IP address as an RP ID and WebAuthn outside a secure
// context, so passkeys need https, or http://localhost for development (see the README).
//
// A pending challenge is a one-time token (kind passkey-register / passkey-sign-in, stored as its
// SHA-256, 5 minutes) and a cookie holding the challenge itself: verification needs both, so the
// ceremony can be finished only by the browser that began it, and only once (consumeToken has one
// winner; a failed attempt uses the challenge up as well).
import { isIP } from 'node:net';
import type { AuthContext } from './context.js';
import { readCookie, serializeCookie, clearCookie } from '../session/cookies.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import type { TokenKind } from '../store/types.js';

export const CHALLENGE_TTL_MS = 5 * 60_000;
const COOKIE_BASE = 'gatehouse_webauthn';

export interface RelyingParty {
  id: string; // the RP ID: the public URL's hostname
  origin: string; // the public URL's origin
  /** null when browsers will offer passkeys here; else why not, in a sentence for the page. */
  unavailable: string | null;
}

/** The relying party for this request: the public URL, else (local development) the origin the request came
 *  to. */
export function relyingParty(c: AuthContext): RelyingParty {
  const origin = c.var.deps.publicOrigin ?? c.get('ourOrigin');
  const url = new URL(origin);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host.endsWith('.localhost');
  let unavailable: string | null = null;
  if (isIP(host)) unavailable = `Passkeys need a domain name: this site is reached at the IP address ${host}.`;
  else if (url.protocol !== 'https:' && !local) unavailable = 'Passkeys need a secure (https) address.';
  return { id: host, origin: url.origin, unavailable };
}

const cookieName = (c: AuthContext) => (c.var.deps.cookies.secure ? `__Host-${COOKIE_BASE}` : COOKIE_BASE);

/** Starts a ceremony: a fresh challenge, stored (hashed) for `userId` and set in this browser's cookie. */
export async function beginChallenge(c: AuthContext, kind: TokenKind, userId: string | null): Promise<string> {
  const { store, now, cookies } = c.var.deps;
  // One pending ceremony per browser: a challenge this browser had before is dropped, not left to expire.
  const previous = readCookie(c.get('headers').cookie, cookieName(c));
  if (previous) await store.consumeToken(sha256Hex(previous), kind, new Date(now()));
  const challenge = randomToken(32);
  const t = now();
  await store.createToken({
    hash: sha256Hex(challenge),
    kind,
    userId,
    email: null,
    createdAt: new Date(t),
    expiresAt: new Date(t + CHALLENGE_TTL_MS),
  });
  c.header(
    'set-cookie',
    serializeCookie(cookieName(c), challenge, { secure: cookies.secure, maxAgeSec: CHALLENGE_TTL_MS / 1000 }),
    { append: true },
  );
  return challenge;
}

/** This browser's pending challenge of `kind`, used up now (whatever the outcome), with the user it was
 *  issued for. */
export async function takeChallenge(
  c: AuthContext,
  kind: TokenKind,
): Promise<{ challenge: string; userId: string | null } | null> {
  const { store, now, cookies } = c.var.deps;
  const challenge = readCookie(c.get('headers').cookie, cookieName(c));
  c.header('set-cookie', clearCookie(cookieName(c), cookies.secure), { append: true });
  if (!challenge || challenge.length > 128) return null;
  const token = await store.consumeToken(sha256Hex(challenge), kind, new Date(now()));
  return token ? { challenge, userId: token.userId } : null;
}
