// What the app receives. Client-sent identity headers are removed in every spelling (case, "_" for "-",
// names listed in Connection) and in every mode, then Gatehouse adds its own. oauth2-proxy's
// pkg/middleware/headers.go and its advisories are the reference for why each rule exists.
import type { IncomingMessage } from 'node:http';
import { ALL_OWN_COOKIES, stripCookies } from '../session/cookies.js';
import type { Principal } from '../session/sessions.js';

// Hop-by-hop headers (RFC 9110 §7.6.1) plus `expect`, which undici refuses and Node already answered.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
  'http2-settings',
]);

// Headers an app may trust as identity, client or routing facts: only Gatehouse may set them. The
// client-IP family is what CDNs and load balancers set and frameworks read; the method overrides make
// frameworks treat a GET as a DELETE behind the gate's back.
const RESERVED_EXACT = new Set([
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
  'x-original-url',
  'x-rewrite-url',
  'x-original-uri',
  'x-original-method',
  'x-original-host',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'remote-user',
  'remote-email',
  'remote-name',
  'remote-groups',
  'x-remote-user',
  'x-user',
  'x-email',
  // Covered by the x-forwarded- prefix too; named so a change to the prefixes cannot let a client grant itself scopes.
  'x-forwarded-scopes',
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
  upgrade: boolean; // keep Upgrade/Connection for WebSocket handshakes
}

// Printable ASCII without "%", not starting or ending with a space: sent as it is.
const PLAIN_VALUE = /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/;

/**
 * Identity values are percent-encoded UTF-8 wherever needed — "%", anything outside printable ASCII
 * (CR and LF included) and a leading or trailing space (header parsers trim it) — so decoding with
 * decodeURIComponent / unquote / PathUnescape is always safe and always gives back what the user typed:
 * `Bob 100% + Co` arrives as `Bob 100%25 + Co`, a name typed as `Zo%C3%AB` as `Zo%25C3%25AB`.
 */
export function encodeHeaderValue(value: string): string {
  if (PLAIN_VALUE.test(value)) return value;
  const chars = [...value];
  let out = '';
  chars.forEach((ch, i) => {
    const code = ch.codePointAt(0)!;
    const edgeSpace = code === 0x20 && (i === 0 || i === chars.length - 1);
    if (code >= 0x20 && code <= 0x7e && code !== 0x25 && !edgeSpace) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  });
  return out;
}

/** The one writer of identity headers, for the proxy path and for /auth/check alike. */
export function identityHeaders(p: Principal): string[] {
  return [
    'x-forwarded-user',
    p.userId,
    // No address, no email headers: the passphrase mode's visitor is no one's account.
    ...(p.email
      ? [
          'x-forwarded-email',
          encodeHeaderValue(p.email),
          'x-forwarded-email-verified',
          p.emailVerified ? 'true' : 'false',
        ]
      : []),
    'x-forwarded-name',
    encodeHeaderValue(p.name),
    'x-forwarded-provider',
    encodeHeaderValue(p.provider),
    'x-forwarded-role',
    p.role,
    // Absent when none (architecture.md#access); sorted and comma-separated, the names cannot contain a comma.
    ...(p.groups.length ? ['x-forwarded-groups', p.groups.join(',')] : []),
    // A scoped key's scopes, space-separated as OAuth writes `scope` (architecture.md#devices); absent when none.
    ...(p.scopes?.length ? ['x-forwarded-scopes', p.scopes.join(' ')] : []),
    // OAuth tokens (architecture.md#oauth): which client acts for the user; its name is the client's own words.
    ...(p.client !== undefined ? ['x-forwarded-client', encodeHeaderValue(p.client)] : []),
  ];
}

/** An Authorization header that carries one of Gatehouse's own credentials (never forwarded). */
export function isGatehouseCredential(authorization: string): boolean {
  return /^bearer\s+gh(k|at|rt)_/i.test(authorization); // API keys, OAuth access and refresh tokens
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
  rule =
    HOP_BY_HOP.has(lower) || isReservedHeader(lower)
      ? Rule.Drop
      : lower === 'cookie'
        ? Rule.Cookie
        : lower === 'authorization'
          ? Rule.Authorization
          : Rule.Keep;
  if (ruleCache.size < 4096) ruleCache.set(name, rule);
  return rule;
}

/** Upstream request headers as a flat [name, value, …] list. `identity` is the precomputed identityHeaders(). */
export function upstreamHeaders(
  req: IncomingMessage,
  ctx: ForwardContext,
  identity: readonly string[] | null,
): string[] {
  const raw = req.rawHeaders;
  const connection = req.headers.connection;
  // "Connection: keep-alive" names no header worth removing; anything else lists hop-by-hop names.
  const listed =
    connection && connection !== 'keep-alive' && connection !== 'close'
      ? new Set(
          connection
            .toLowerCase()
            .split(',')
            .map((s) => s.trim().replaceAll('_', '-')),
        )
      : null;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const rule = ruleFor(name);
    if (rule === Rule.Drop) continue;
    if (listed && listed.has(name.toLowerCase().replaceAll('_', '-'))) continue;
    let value = raw[i + 1]!;
    if (rule === Rule.Cookie) {
      // Both spellings of every Gatehouse cookie, whatever the scheme (an http→https move leaves old ones).
      const kept = value.includes('gatehouse_') ? stripCookies(value, ALL_OWN_COOKIES) : value;
      if (kept === undefined) continue;
      value = kept;
    } else if (rule === Rule.Authorization && isGatehouseCredential(value)) {
      continue; // whichever credential authenticated, Gatehouse's own never reach the app
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
export function downstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
  ownCookies: readonly string[] = [],
): Array<string> {
  const out: string[] = [];
  const connection = headers.connection;
  const listed =
    typeof connection === 'string'
      ? new Set(
          connection
            .toLowerCase()
            .split(',')
            .map((s) => s.trim()),
        )
      : null;
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

export function setsOwnCookie(line: string, ownCookies: readonly string[]): boolean {
  const eq = line.indexOf('=');
  const name = (eq === -1 ? line : line.slice(0, eq)).trim();
  return ownCookies.includes(name) || ownCookies.includes(name.replace(/^__(Host|Secure)-/, ''));
}
