// PKCE (RFC 7636) as OAuth 2.1 and the MCP authorization spec require it: S256 only. `plain` and a
// missing challenge are refused at the authorization endpoint, so every code is bound to a verifier.
import { createHash } from 'node:crypto';
import { safeEqual } from '../security/tokens.js';

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/; // base64url of a SHA-256, no padding
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A problem with the challenge parameters of an authorization request, or null. */
export function challengeProblem(challenge: string | undefined, method: string | undefined): string | null {
  if (!challenge) return 'code_challenge is required (PKCE with S256)';
  if (method !== 'S256') return `code_challenge_method must be S256${method ? `, not "${method.slice(0, 20)}"` : ''}`;
  if (!CHALLENGE.test(challenge)) return 'code_challenge must be the base64url SHA-256 of the verifier (43 characters)';
  return null;
}

/** Whether the verifier hashes to the challenge; a malformed verifier never matches. */
export function verifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (!verifier || !VERIFIER.test(verifier)) return false;
  return safeEqual(createHash('sha256').update(verifier).digest('base64url'), challenge);
}
