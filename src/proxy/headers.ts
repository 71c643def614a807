// What the app receives. Client-sent identity headers are removed in every spelling (case, "_" for "-",
// names listed in Connection) and in every mode, then Gatehouse adds its own. oauth2-proxy's
// pkg/middleware/headers.go and its advisories are the reference for why each rule exists.
import type { IncomingMessage } from 'node:http';
import { stripCookies } from '../session/cookies.js';
import type { Principal } from '../session/sessions.js';

// Hop-by-hop headers (RFC 9110 §7.6.1) plus `expect`, which undici refuses and Node already answered.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'expect', 'http2-settings',
]);

// Headers an app may trust as identity or client facts: only Gatehouse may set them.
const RESERVED_EXACT = new Set([
  'forwarded', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'x-original-url', 'x-rewrite-url', 'x-original-uri',
  'remote-user', 'remote-email', 'remote-name', 'remote-groups', 'x-remote-user', 'x-user', 'x-email',
]);
const RESERVED_PREFIXES = ['x-forwarded-', 'x-auth-request-', 'x-gatehouse-'];

/** True when a client-sent header with this (any-case) name must never reach the app. */
export function isReservedHeader(rawName: string): boolean {
  const name = rawName.toLowerCase().replaceAll('_', '-');
  if (RESERVED_EXACT.has(name)) return true;
  for (const p of RESERVED_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

export interface ForwardContext {
  clientIp: string;
  proto: string; // http | https, as the client reached us
  host: string | undefined; // as the client reached us
  cookieNames: readonly string[]; // Gatehouse's own cookies, removed from Cookie
  dropAuthorization: boolean; // an API key authenticated this request
  upgrade: boolean; // keep Upgrade/Connection for WebSocket handshakes
}

/** A non-ASCII header value is sent percent-encoded UTF-8 (never dropped, never a crash). */
export function encodeHeaderValue(value: string): string {
  // Printable ASCII passes unchanged; anything else (including CR/LF) is percent-encoded.
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

export function identityHeaders(p: Principal): string[] {
  return [
    'x-forwarded-user', p.userId,
    'x-forwarded-email', encodeHeaderValue(p.email),
    'x-forwarded-name', encodeHeaderValue(p.name),
    'x-forwarded-provider', encodeHeaderValue(p.provider),
    'x-forwarded-role', p.role,
  ];
}

const enum Rule {
  Keep,
  Drop,
  Cookie,
  Authorization,
}

// Header names repeat from request to request: classify each spelling once (hot path), bounded.
const ruleCache = new Map<string, Rule>();
function ruleFor(name: string): Rule {
  let rule = ruleCache.get(name);
  if (rule !== undefined) return rule;
  const lower = name.toLowerCase();
  rule = HOP_BY_HOP.has(lower) || isReservedHeader(lower) ? Rule.Drop : lower === 'cookie' ? Rule.Cookie : lower === 'authorization' ? Rule.Authorization : Rule.Keep;
  if (ruleCache.size < 4096) ruleCache.set(name, rule);
  return rule;
}

/** Upstream request headers as a flat [name, value, …] list. `identity` is the precomputed identityHeaders(). */
export function upstreamHeaders(req: IncomingMessage, ctx: ForwardContext, identity: readonly string[] | null): string[] {
  const raw = req.rawHeaders;
  const connection = req.headers.connection;
  // "Connection: keep-alive" names no header worth removing; anything else lists hop-by-hop names.
  const listed = connection && connection !== 'keep-alive' && connection !== 'close' ? new Set(connection.toLowerCase().split(',').map((s) => s.trim().replaceAll('_', '-'))) : null;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const rule = ruleFor(name);
    if (rule === Rule.Drop) continue;
    if (listed && listed.has(name.toLowerCase().replaceAll('_', '-'))) continue;
    let value = raw[i + 1]!;
    if (rule === Rule.Cookie) {
      const kept = stripCookies(value, ctx.cookieNames);
      if (kept === undefined) continue;
      value = kept;
    } else if (rule === Rule.Authorization && ctx.dropAuthorization) {
      continue;
    }
    out.push(name, value);
  }
  if (ctx.upgrade) out.push('connection', 'Upgrade', 'upgrade', String(req.headers.upgrade ?? 'websocket'));
  out.push('x-forwarded-for', ctx.clientIp, 'x-forwarded-proto', ctx.proto);
  if (ctx.host) out.push('x-forwarded-host', ctx.host);
  if (identity) for (const h of identity) out.push(h);
  return out;
}

/**
 * Response headers from the app, minus hop-by-hop ones, as a flat list for writeHead. A Set-Cookie for
 * one of Gatehouse's own cookie names is dropped: the app must not be able to fixate or clear them.
 */
export function downstreamHeaders(headers: Record<string, string | string[] | undefined>, ownCookies: readonly string[] = []): Array<string> {
  const out: string[] = [];
  const connection = headers.connection;
  const listed = typeof connection === 'string' ? new Set(connection.toLowerCase().split(',').map((s) => s.trim())) : null;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || (listed && listed.has(name))) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (name === 'set-cookie') {
      for (const one of Array.isArray(v) ? v : [v]) if (!setsOwnCookie(one, ownCookies)) out.push(name, one);
    } else if (Array.isArray(v)) for (const one of v) out.push(name, one);
    else out.push(name, v);
  }
  return out;
}

function setsOwnCookie(line: string, ownCookies: readonly string[]): boolean {
  const eq = line.indexOf('=');
  const name = (eq === -1 ? line : line.slice(0, eq)).trim();
  return ownCookies.includes(name) || ownCookies.includes(name.replace(/^__(Host|Secure)-/, ''));
}
