// The hot path. Every request that is not for /auth lands here: find the session (from memory when
// possible), then forward with identity headers — or answer 302 / 401 and send the app nothing.
// Requests under the auth prefix go to the Hono app instead.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SettingsSource } from '../config/settings.js';
import { readCookie, type CookieNames } from '../session/cookies.js';
import type { ResolvedSession, SessionService } from '../session/sessions.js';
import { bearerApiKey, type ApiKeyService } from '../session/api-keys.js';
import type { RateLimiter } from '../security/rate-limit.js';
import type { AuditLog } from '../audit.js';
import { isLoopback, type TrustedProxies } from '../security/client-ip.js';
import { SECURITY_HEADERS } from '../security/headers.js';
import { identityHeaders, upstreamHeaders, type ForwardContext } from './headers.js';
import type { Forwarder, UpstreamFailure } from './forward.js';
import { isPublicPath } from './paths.js';

export interface GateDeps {
  prefix: string;
  authApp: RequestListener;
  forwarder: Forwarder | null; // null: only /auth routes are served (forward-auth deployments)
  sessions: SessionService;
  apiKeys: ApiKeyService;
  limits: RateLimiter;
  audit: AuditLog;
  settings: SettingsSource;
  cookies: CookieNames;
  trusted: TrustedProxies;
  publicUrl: URL | null;
  /** Renders one of Gatehouse's error pages (HTML) for the 5xx answers the gate gives itself. */
  errorPage(status: number, heading: string, message: string): string;
  onStoreError(err: unknown): void;
}

export interface Gate {
  handle: RequestListener;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

const UNAUTHENTICATED = JSON.stringify({ error: 'unauthenticated' });
const UNAVAILABLE = JSON.stringify({ error: 'unavailable' });

export function createGate(deps: GateDeps): Gate {
  const prefix = deps.prefix;
  const ownCookies = [deps.cookies.session, deps.cookies.csrf] as const;
  const identityCache = new WeakMap<ResolvedSession, string[]>();

  const identityOf = (s: ResolvedSession) => {
    let h = identityCache.get(s);
    if (!h) identityCache.set(s, (h = identityHeaders(s.principal)));
    return h;
  };

  function isAuthRoute(url: string): boolean {
    return url.startsWith(prefix) && (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?');
  }

  function context(req: IncomingMessage, upgrade: boolean, dropAuthorization = false): ForwardContext {
    const peer = req.socket.remoteAddress;
    const viaTrusted = deps.trusted.any && deps.trusted.isTrusted(peer ?? '');
    const fwdProto = viaTrusted ? req.headers['x-forwarded-proto'] : undefined;
    const fwdHost = viaTrusted ? req.headers['x-forwarded-host'] : undefined;
    return {
      clientIp: deps.trusted.clientIp(peer, req.headers['x-forwarded-for']),
      proto: deps.publicUrl
        ? deps.publicUrl.protocol.slice(0, -1)
        : typeof fwdProto === 'string' && /^https?$/.test(fwdProto)
          ? fwdProto
          : 'encrypted' in req.socket && req.socket.encrypted
            ? 'https'
            : 'http',
      host: deps.publicUrl ? deps.publicUrl.host : typeof fwdHost === 'string' ? fwdHost : req.headers.host,
      cookieNames: ownCookies,
      dropAuthorization,
      upgrade,
    };
  }

  function failed(res: ServerResponse, kind: UpstreamFailure) {
    const status = kind === 'timeout' ? 504 : 502;
    const heading = kind === 'timeout' ? 'The app took too long to answer' : 'The app is not reachable';
    send(res, status, deps.errorPage(status, heading, 'Gatehouse is running, but the app behind it did not answer. Please try again in a moment.'), 'text/html; charset=utf-8');
  }

  function forward(req: IncomingMessage, res: ServerResponse, session: ResolvedSession | null, viaKey = false) {
    const fwd = deps.forwarder;
    if (!fwd) {
      send(res, 404, deps.errorPage(404, 'Page not found', 'Gatehouse serves only its own routes here.'), 'text/html; charset=utf-8');
      return;
    }
    fwd.forward(req, res, upstreamHeaders(req, context(req, false, viaKey), session ? identityOf(session) : null), (kind) => failed(res, kind));
  }

  function deny(req: IncomingMessage, res: ServerResponse) {
    const method = req.method;
    const accept = req.headers.accept ?? '';
    if ((method === 'GET' || method === 'HEAD') && accept.includes('text/html')) {
      res.writeHead(302, {
        location: `${prefix}/sign-in?return_to=${encodeURIComponent(req.url ?? '/')}`,
        'cache-control': 'no-store',
        'content-length': '0',
      });
      res.end();
      return;
    }
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': 'Cookie realm="gatehouse"',
      'cache-control': 'no-store',
      'content-length': String(UNAUTHENTICATED.length),
    });
    res.end(UNAUTHENTICATED);
    req.resume(); // drain and discard any body: the app receives nothing
  }

  function unavailable(req: IncomingMessage, res: ServerResponse, err: unknown) {
    deps.onStoreError(err);
    req.resume();
    const html = (req.headers.accept ?? '').includes('text/html');
    res.setHeader('retry-after', '5');
    if (html) send(res, 503, deps.errorPage(503, 'Temporarily unavailable', 'We cannot check your sign-in right now. Please try again in a moment.'), 'text/html; charset=utf-8');
    else send(res, 503, UNAVAILABLE, 'application/json');
  }

  /** Decides, from settings only, whether this request may pass without a session. */
  function passesWithoutSession(req: IncomingMessage): boolean {
    const s = deps.settings.current();
    if (s.mode === 'off') return true;
    if (s.mode === 'hybrid' && isLoopback(req.socket.remoteAddress)) return true; // the TCP peer, never a header
    return isPublicPath(req.url ?? '/', s.publicPaths);
  }

  /** No valid session cookie: an API key, a public path, an open mode — or 302/401. */
  function withoutSession(req: IncomingMessage, res: ServerResponse) {
    const key = bearerApiKey(req.headers.authorization);
    if (key) {
      const meta = { ip: deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']), userAgent: req.headers['user-agent'] ?? null };
      deps.apiKeys.resolve(key, meta).then(
        (s) => (s ? forward(req, res, s, true) : refusedKey(req, res)),
        (err) => (passesWithoutSession(req) ? forward(req, res, null, true) : unavailable(req, res, err)),
      );
      return;
    }
    if (passesWithoutSession(req)) return forward(req, res, null);
    deny(req, res);
  }

  /** A presented key that is not valid: counted per client IP; past the limit, 429 instead of 401. */
  async function refusedKey(req: IncomingMessage, res: ServerResponse) {
    const ip = deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    deps.audit.record('api-key.refused', { ip, userAgent: req.headers['user-agent'] ?? null });
    try {
      const verdict = await deps.limits.check('api-key', ip);
      if (!verdict.ok) {
        req.resume();
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(verdict.retryAfterSec), 'cache-control': 'no-store' });
        res.end(JSON.stringify({ error: 'rate_limited' }));
        return;
      }
    } catch (err) {
      return unavailable(req, res, err);
    }
    if (passesWithoutSession(req)) forward(req, res, null, true);
    else deny(req, res);
  }

  const handle: RequestListener = (req, res) => {
    const url = req.url ?? '/';
    const refusal = malformed(req);
    if (refusal) return sendPlain(res, refusal[0], refusal[1], req);
    if (isAuthRoute(url)) {
      void deps.authApp(req, res);
      return;
    }
    const cookie = readCookie(req.headers.cookie, deps.cookies.session);
    if (cookie) {
      const cached = deps.sessions.peek(cookie);
      if (cached) return forward(req, res, cached);
      if (cached === undefined) {
        deps.sessions.resolve(cookie).then(
          (s) => (s ? forward(req, res, s) : withoutSession(req, res)),
          (err) => (passesWithoutSession(req) ? forward(req, res, null) : unavailable(req, res, err)),
        );
        return;
      }
    }
    withoutSession(req, res);
  };

  function refuseUpgrade(socket: Duplex, status: number, reason: string) {
    const body = status === 401 ? UNAUTHENTICATED : UNAVAILABLE;
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const refusal = malformed(req);
    if (refusal) return socket.end(`HTTP/1.1 ${refusal[0]} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    const fwd = deps.forwarder;
    if (isAuthRoute(url) || !fwd) return refuseUpgrade(socket, 404 as number, 'Not Found');
    const go = (s: ResolvedSession | null) => fwd.upgrade(req, socket, head, upstreamHeaders(req, context(req, true), s ? identityOf(s) : null));
    const cookie = readCookie(req.headers.cookie, deps.cookies.session);
    if (!cookie) return passesWithoutSession(req) ? go(null) : refuseUpgrade(socket, 401, 'Unauthorized');
    deps.sessions.resolve(cookie).then(
      (s) => (s ? go(s) : passesWithoutSession(req) ? go(null) : refuseUpgrade(socket, 401, 'Unauthorized')),
      (err) => {
        deps.onStoreError(err);
        refuseUpgrade(socket, 503, 'Service Unavailable');
      },
    );
  }

  return { handle, upgrade };
}

const MAX_URL = 8192;
const MAX_HEADERS = 100;

/** Requests refused before anything else looks at them: [status, message], or null. */
function malformed(req: IncomingMessage): [number, string] | null {
  const url = req.url ?? '';
  if (url.length > MAX_URL) return [414, 'URI too long'];
  if (!url.startsWith('/')) return [400, 'bad request target']; // absolute-form, "*" and the like
  const raw = req.rawHeaders;
  if (raw.length / 2 > MAX_HEADERS) return [431, 'too many headers'];
  // Exactly one non-empty Host (RFC 9112 §3.2): two hosts are how proxies and apps get told different stories.
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host' && ++hosts > 1) return [400, 'more than one Host header'];
  if (!req.headers.host) return [400, 'missing Host header'];
  if (req.method === 'TRACE' || req.method === 'TRACK' || req.method === 'CONNECT') return [405, 'method not allowed'];
  return null;
}

function sendPlain(res: ServerResponse, status: number, message: string, req: IncomingMessage) {
  req.resume();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close', 'content-length': Buffer.byteLength(message) + 1 });
  res.end(message + '\n');
}

function send(res: ServerResponse, status: number, body: string, type: string) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of SECURITY_HEADERS) res.setHeader(k, v);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
