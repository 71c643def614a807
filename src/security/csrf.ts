// CSRF: a signed double-submit token plus an origin check (OWASP CSRF cheat sheet). The browser holds a
// random value in an HttpOnly cookie; forms carry HMAC(secret, value). A cross-site page can neither
// read the cookie nor compute the HMAC. Origin / Sec-Fetch-Site refuse cross-site posts even before that.
import type { IncomingHttpHeaders } from 'node:http';
import { hmac, randomToken, safeEqual } from './tokens.js';

export function newCsrfCookieValue(): string {
  return randomToken(24);
}

/**
 * Once signed in, the token is bound to the session as well (`sessionId`, the stored hash): a token
 * lifted from one session — or planted before sign-in by someone who can write cookies for a sibling
 * subdomain — is worthless in another.
 */
export function csrfTokenFor(secret: Buffer, cookieValue: string, sessionId = ''): string {
  return hmac(secret, `csrf:${cookieValue}:${sessionId}`);
}

export function isValidCsrfToken(
  secret: Buffer,
  cookieValue: string | undefined,
  token: unknown,
  sessionId = '',
): boolean {
  if (!cookieValue || typeof token !== 'string' || token.length === 0) return false;
  return safeEqual(token, csrfTokenFor(secret, cookieValue, sessionId));
}

export type OriginVerdict = 'same-origin' | 'cross-site' | 'unknown';

/**
 * Where a state-changing request came from, judged from Sec-Fetch-Site and Origin (never Referer alone).
 * `ourOrigin` is the public URL's origin, or — without one — the origin the request was addressed to.
 */
export function requestOrigin(headers: IncomingHttpHeaders, ourOrigin: string): OriginVerdict {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return 'cross-site';
  const origin = headers.origin;
  if (origin !== undefined) {
    if (origin === 'null') return 'cross-site';
    return origin.toLowerCase() === ourOrigin.toLowerCase() ? 'same-origin' : 'cross-site';
  }
  if (site === 'same-origin') return 'same-origin';
  return 'unknown';
}
