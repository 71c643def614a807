// What the gate checks on a request before it asks who is there: framing it refuses outright, the
// forwarding context it tells the app, and the Origin of a WebSocket handshake.
import type { IncomingMessage } from 'node:http';
import type { TrustedProxies } from '../security/client-ip.js';
import type { ForwardContext } from './headers.js';

const MAX_URL = 8192;
const MAX_HEADERS = 100;

/** Requests refused before anything else looks at them: [status, message], or null. */
export function malformed(req: IncomingMessage): [number, string] | null {
  const url = req.url ?? '';
  if (url.length > MAX_URL) return [414, 'URI too long'];
  if (!url.startsWith('/')) return [400, 'bad request target']; // absolute-form, "*" and the like
  const raw = req.rawHeaders;
  if (raw.length / 2 > MAX_HEADERS) return [431, 'too many headers'];
  // Exactly one non-empty Host (RFC 9112 §3.2): two hosts are how proxies and apps get told different stories.
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host' && ++hosts > 1)
      return [400, 'more than one Host header'];
  if (!req.headers.host) return [400, 'missing Host header'];
  if (req.method === 'TRACE' || req.method === 'TRACK' || req.method === 'CONNECT') return [405, 'method not allowed'];
  return null;
}

/** A request has a body when it says so; GET/HEAD without framing headers carry none. */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/** The request path without its query, cut to a length fit for a page or a log line. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).slice(0, 200);
}

function isEncrypted(req: IncomingMessage): boolean {
  return 'encrypted' in req.socket && Boolean(req.socket.encrypted);
}

/** What the app is told about the original request: the public URL wins, then a trusted proxy's word, then
 *  the socket. */
export function forwardContext(
  req: IncomingMessage,
  upgrade: boolean,
  trusted: TrustedProxies,
  publicUrl: URL | null,
): ForwardContext {
  const peer = req.socket.remoteAddress;
  const viaTrusted = trusted.any && trusted.isTrusted(peer ?? '');
  const fwdProto = viaTrusted ? req.headers['x-forwarded-proto'] : undefined;
  const fwdHost = viaTrusted ? req.headers['x-forwarded-host'] : undefined;
  const sentProto = typeof fwdProto === 'string' && /^https?$/.test(fwdProto) ? fwdProto : null;
  return {
    clientIp: trusted.clientIp(peer, req.headers['x-forwarded-for']),
    proto: publicUrl ? publicUrl.protocol.slice(0, -1) : (sentProto ?? (isEncrypted(req) ? 'https' : 'http')),
    host: publicUrl ? publicUrl.host : typeof fwdHost === 'string' ? fwdHost : req.headers.host,
    upgrade,
  };
}

/**
 * Cross-site WebSocket hijacking: a browser sends the victim's cookie with an upgrade that any page
 * opens, and the Same-Origin Policy does not apply to WebSockets. A browser always sends Origin: it
 * must be ours (or one the operator listed). Clients that are no browser send none and pass.
 */
export function foreignOrigin(req: IncomingMessage, publicUrl: URL | null, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  const ours = publicUrl ? publicUrl.origin : `${isEncrypted(req) ? 'https' : 'http'}://${req.headers.host ?? ''}`;
  const o = origin.toLowerCase();
  return o !== ours.toLowerCase() && !allowedOrigins.some((a) => a.toLowerCase() === o);
}
