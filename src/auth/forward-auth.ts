// Forward-auth (`/auth/check`) for nginx `auth_request`, Traefik ForwardAuth and Caddy `forward_auth`
// (architecture.md#access). The proxy asks on behalf of an original request it names in headers; those headers are
// believed only from a trusted proxy, and when a proxy sends both spellings they must agree — a client
// could add the spelling its proxy does not set, and we will not guess which one the proxy meant.
import { isNavigation } from '../http/navigation.js';
import type { IncomingHttpHeaders } from 'node:http';

export interface OriginalRequest {
  method: string;
  uri: string; // path and query, as the client sent them to the proxy
  /** nginx names the request with X-Original-*, Traefik and Caddy with X-Forwarded-*. */
  via: 'x-original' | 'x-forwarded' | 'none';
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The request the proxy asks about, or a problem sentence (answered 400). */
export function originalRequest(headers: IncomingHttpHeaders, fromTrustedProxy: boolean): OriginalRequest | string {
  if (!fromTrustedProxy) return { method: 'GET', uri: '/', via: 'none' };
  const fwd = { method: one(headers['x-forwarded-method']), uri: one(headers['x-forwarded-uri']) };
  const orig = { method: one(headers['x-original-method']), uri: one(headers['x-original-uri']) };
  if (fwd.uri !== undefined && orig.uri !== undefined && fwd.uri !== orig.uri)
    return 'X-Forwarded-Uri and X-Original-URI disagree';
  if (fwd.method !== undefined && orig.method !== undefined && fwd.method.toUpperCase() !== orig.method.toUpperCase()) {
    return 'X-Forwarded-Method and X-Original-Method disagree';
  }
  const uri = orig.uri ?? fwd.uri;
  const method = (orig.method ?? fwd.method ?? 'GET').toUpperCase();
  if (uri === undefined) return { method, uri: '/', via: 'none' };
  if (!uri.startsWith('/') || uri.length > 8192) return 'the original URI must be a path';
  if (!/^[A-Z]{1,16}$/.test(method)) return 'the original method is not an HTTP method';
  return { method, uri, via: orig.uri !== undefined ? 'x-original' : 'x-forwarded' };
}

export type CheckMode = 'status' | 'redirect' | 'auto';

export function checkMode(query: string | undefined): CheckMode {
  return query === 'status' || query === 'redirect' ? query : 'auto';
}

/**
 * Signed out: nginx maps a 401 with `error_page`, so it gets 401; Traefik and Caddy hand the answer to
 * the browser as it is, so a browser navigation they relay gets a 302 to sign-in that returns to the
 * original URL. Anything else (APIs, XHR) gets 401. `?mode=` overrides the guess.
 */
export function redirectsToSignIn(orig: OriginalRequest, accept: string | undefined, mode: CheckMode): boolean {
  if (mode !== 'auto') return mode === 'redirect';
  const navigation = isNavigation(orig.method, accept);
  return navigation && orig.via === 'x-forwarded';
}

/** Where a signed-out browser goes: sign-in, then back to the original URL. */
export function signInLocation(prefix: string, orig: OriginalRequest): string {
  return `${prefix}/sign-in?return_to=${encodeURIComponent(orig.uri)}`;
}
