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
import { gateAnswerHeaders, HSTS, SECURITY_HEADERS } from '../security/headers.js';
import { identityHeaders, upstreamHeaders, type ForwardContext } from './headers.js';
import type { Forwarder, UpstreamFailure } from './forward.js';
import { policyOf } from '../access/policy.js';
import { decide, normalisedPath, subjectOf, type Decision } from '../access/rules.js';
import type { Principal } from '../session/sessions.js';
import type { IdentitySigner } from '../access/identity-signer.js';
import { createHostPolicy, type HostPolicy } from './hosts.js';
import { createTunnelWatch } from './tunnels.js';
import { bearerOAuthToken, looksLikeOAuthBearer, type OAuthTokenService, type ResolvedToken } from '../oauth/tokens.js';
import { resourceFor, resourceUrl, type McpResource } from '../oauth/resources.js';
import { bearerChallenge, isDiscoveryPath, WELL_KNOWN } from '../oauth/metadata.js';

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
  /** Hosts besides the public URL's that may be served (host, or host:port). */
  allowedHosts?: readonly string[];
  /** Origins besides the public URL's that may open WebSockets (https://app.example.com). */
  allowedOrigins?: readonly string[];
  /** Tunnel limits (ms): handshake answer, idle, half-close grace, session re-check cadence. */
  tunnels?: Partial<TunnelLimits>;
  /** Renders one of Gatehouse's error pages (HTML) for the 5xx answers the gate gives itself. */
  errorPage(status: number, heading: string, message: string): string;
  /** Signs X-Forwarded-Assertion (architecture.md#access); absent when turned off. */
  signer?: IdentitySigner | null;
  /** The 403 page for a signed-in user an access rule refuses. */
  forbiddenPage(principal: Principal, path: string): string;
  onStoreError(err: unknown): void;
  /** A request for a host that is not ours was refused or redirected (for the log). */
  onMisdirected?(host: string): void;
  /** OAuth access tokens for MCP resources (SPEC §11); used only while a resource is configured. */
  oauthTokens?: OAuthTokenService;
}

export interface Gate {
  handle: RequestListener;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Open tunnels (WebSockets) now. */
  readonly tunnels: number;
  /** Closes every open tunnel (shutdown). */
  close(): void;
}

export interface TunnelLimits {
  handshakeMs: number;
  idleMs: number;
  halfCloseMs: number;
  /** How often a tunnel's session is checked again: a session ended anywhere closes it within this
   *  plus the session cache's 2 s. */
  recheckMs: number;
}

export const DEFAULT_TUNNEL_LIMITS: TunnelLimits = { handshakeMs: 60_000, idleMs: 300_000, halfCloseMs: 10_000, recheckMs: 1_000 };

const UNAUTHENTICATED = JSON.stringify({ error: 'unauthenticated' });
const UNAVAILABLE = JSON.stringify({ error: 'unavailable' });
const FORBIDDEN_ORIGIN = JSON.stringify({ error: 'forbidden', reason: 'origin' });
const FORBIDDEN = JSON.stringify({ error: 'forbidden' });
const MFA_REQUIRED = JSON.stringify({ error: 'mfa_required' });


function pathOf(url: string): string {
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).slice(0, 200);
}

export function createGate(deps: GateDeps): Gate {
  const prefix = deps.prefix;
  const secure = deps.publicUrl?.protocol === 'https:';
  const answerHeaders = gateAnswerHeaders(secure);
  const hosts: HostPolicy = createHostPolicy(deps.publicUrl, deps.allowedHosts ?? [], deps.trusted);
  const limits: TunnelLimits = { ...DEFAULT_TUNNEL_LIMITS, ...deps.tunnels };
  const watch = createTunnelWatch(limits.recheckMs);
  // Answers to OAuth tokens (SPEC §11) are watched like tunnels: a revoked token ends an open stream (SSE) too.
  const tokenStreams = createTunnelWatch(limits.recheckMs);
  const identityCache = new WeakMap<ResolvedSession, string[]>();

  const identityOf = (s: ResolvedSession) => {
    let h = identityCache.get(s);
    if (!h) identityCache.set(s, (h = identityHeaders(s.principal)));
    return h;
  };

  function isAuthRoute(url: string): boolean {
    return url.startsWith(prefix) && (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?');
  }

  function context(req: IncomingMessage, upgrade: boolean): ForwardContext {
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
      upgrade,
    };
  }

  function failed(res: ServerResponse, kind: UpstreamFailure) {
    const status = kind === 'timeout' ? 504 : 502;
    const heading = kind === 'timeout' ? 'The app took too long to answer' : 'The app is not reachable';
    page(res, status, deps.errorPage(status, heading, 'Gatehouse is running, but the app behind it did not answer. Please try again in a moment.'));
  }

  function forward(req: IncomingMessage, res: ServerResponse, session: ResolvedSession | null) {
    const fwd = deps.forwarder;
    if (!fwd) {
      page(res, 404, deps.errorPage(404, 'Page not found', 'Gatehouse serves only its own routes here.'));
      return;
    }
    const headers = upstreamHeaders(req, context(req, false), session ? identityOf(session) : null);
    withAssertion(session, headers, () => fwd.forward(req, res, headers, (kind) => failed(res, kind)), (err) => unavailable(req, res, err));
  }

  // The assertion of a resolved session, kept with it: a session is re-resolved every 2 s, so claims
  // (role, groups) are never staler than that, and signing happens at most once per 2 s per session.
  // Requests that arrive while it is being signed wait for that one signature (a burst of requests
  // for a fresh session must not sign hundreds of times at once).
  const assertions = new WeakMap<ResolvedSession, { pending: Promise<string>; jwt: string | null; until: number }>();
  let signings = 0;

  /** Adds X-Forwarded-Assertion to `headers` (synchronously when cached), then runs `go`. */
  function withAssertion(session: ResolvedSession | null, headers: string[], go: () => void, fail: (err: unknown) => void) {
    const signer = deps.signer;
    if (!session || !signer) return go();
    let entry = assertions.get(session);
    if (entry?.jwt && entry.until > Date.now()) {
      headers.push('x-forwarded-assertion', entry.jwt);
      return go();
    }
    if (!entry || entry.until <= Date.now()) {
      const pending = signer.sign(`${session.sessionId}#${++signings}`, session.principal);
      const made = { pending, jwt: null as string | null, until: Date.now() + 30_000 };
      pending.then((jwt) => (made.jwt = jwt), () => assertions.delete(session));
      assertions.set(session, (entry = made));
    }
    entry.pending.then((jwt) => {
      headers.push('x-forwarded-assertion', jwt);
      go();
    }, fail);
  }

  /** One of Gatehouse's HTML pages, with the headers every page of ours carries. */
  function page(res: ServerResponse, status: number, html: string) {
    if (res.headersSent) return void res.destroy();
    for (const [k, v] of SECURITY_HEADERS) res.setHeader(k, v);
    if (secure) res.setHeader(HSTS[0], HSTS[1]);
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    res.end(html);
  }

  /** A short answer the gate writes itself (JSON, plain text or an empty redirect). */
  function answer(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body = '') {
    req.resume(); // drain and discard any body: the app receives nothing
    if (res.headersSent) return void res.destroy();
    for (const [k, v] of answerHeaders) res.setHeader(k, v);
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  function deny(req: IncomingMessage, res: ServerResponse) {
    const method = req.method;
    const accept = req.headers.accept ?? '';
    if ((method === 'GET' || method === 'HEAD') && accept.includes('text/html')) {
      return answer(req, res, 302, { location: `${prefix}/sign-in?return_to=${encodeURIComponent(req.url ?? '/')}` });
    }
    // Under an MCP resource the challenge is OAuth's: a client discovers everything from it (SPEC §11).
    const r = resourceOf(req);
    const challenge = r ? bearerChallenge(originOf(req), r) : 'Cookie realm="gatehouse"';
    answer(req, res, 401, { 'content-type': 'application/json', 'www-authenticate': challenge }, UNAUTHENTICATED);
  }

  // --- OAuth for MCP resources (SPEC §11). Nothing below runs while no resource is configured. ---

  /** The public origin resource indicators are made of (as the /auth app computes it). */
  function originOf(req: IncomingMessage): string {
    if (deps.publicUrl) return deps.publicUrl.origin;
    const host = req.headers.host ?? '';
    // Without a public URL (local development) the Host names it; one that is no host name never reaches a header we write.
    return `http://${/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? host : 'localhost'}`;
  }

  function resourceOf(req: IncomingMessage): McpResource | undefined {
    const mcp = deps.settings.current().mcp;
    if (!mcp.length) return undefined;
    const path = normalisedPath(req.url ?? '/');
    return path === null ? undefined : resourceFor(mcp, path);
  }

  function refuseToken(req: IncomingMessage, res: ServerResponse, r: McpResource | undefined) {
    const challenge = r ? bearerChallenge(originOf(req), r, 'invalid_token') : 'Bearer error="invalid_token"';
    answer(req, res, 401, { 'content-type': 'application/json', 'www-authenticate': challenge }, JSON.stringify({ error: 'invalid_token' }));
  }

  /** A request with an OAuth bearer token: it opens only its own resource's path, and the app never sees it. */
  function withToken(req: IncomingMessage, res: ServerResponse, tokens: OAuthTokenService) {
    const path = normalisedPath(req.url ?? '/');
    if (path === null) return answer(req, res, 400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, 'ambiguous path\n');
    const r = resourceFor(deps.settings.current().mcp, path);
    const token = bearerOAuthToken(req.headers.authorization);
    if (!r || !token) return refuseToken(req, res, r);
    const admitToken = (t: ResolvedToken | null) => {
      if (!t || t.resource !== resourceUrl(originOf(req), r)) return refuseToken(req, res, r);
      res.once('close', tokenStreams.add(() => res.destroy(), async () => (await tokens.resolve(token)) !== null));
      admit(req, res, t.session);
    };
    const cached = tokens.peek(token);
    if (cached) return admitToken(cached);
    tokens.resolve(token).then(admitToken, (err) => unavailable(req, res, err));
  }

  /** Discovery documents and bearer tokens, while MCP resources exist; true when the request was taken. */
  function oauthRoute(req: IncomingMessage, res: ServerResponse, url: string): boolean {
    const tokens = deps.oauthTokens;
    if (!tokens || !deps.settings.current().mcp.length) return false;
    if (url.startsWith(WELL_KNOWN) && isDiscoveryPath(pathOf(url))) {
      void deps.authApp(req, res);
      return true;
    }
    if (!looksLikeOAuthBearer(req.headers.authorization)) return false;
    withToken(req, res, tokens);
    return true;
  }

  function unavailable(req: IncomingMessage, res: ServerResponse, err: unknown) {
    deps.onStoreError(err);
    req.resume();
    const html = (req.headers.accept ?? '').includes('text/html');
    res.setHeader('retry-after', '5');
    if (html) page(res, 503, deps.errorPage(503, 'Temporarily unavailable', 'We cannot check your sign-in right now. Please try again in a moment.'));
    else answer(req, res, 503, { 'content-type': 'application/json' }, UNAVAILABLE);
  }

  /** Decides, from settings only, whether this request may pass without a session. */
  function passesWithoutSession(req: IncomingMessage): boolean {
    const s = deps.settings.current();
    if (s.mode === 'off') return true;
    if (s.mode === 'hybrid' && isLoopback(req.socket.remoteAddress)) return true; // the TCP peer, never a header
    const { rules } = policyOf(s);
    return rules.length > 0 && decide(rules, req.method ?? 'GET', req.url ?? '/', null).outcome === 'public';
  }

  /** The access rules' verdict on a signed-in request; null when no rule can refuse anyone (hot path). */
  function verdict(req: IncomingMessage, s: ResolvedSession): Decision | null {
    const policy = policyOf(deps.settings.current());
    if (!policy.restricts) return null;
    return decide(policy.rules, req.method ?? 'GET', req.url ?? '/', subjectOf(s.principal));
  }

  /** A signed-in request: forwarded, or refused by an access rule with 403 (the app receives nothing). */
  function admit(req: IncomingMessage, res: ServerResponse, s: ResolvedSession) {
    const d = verdict(req, s);
    if (!d || d.outcome === 'allow' || d.outcome === 'public') return forward(req, res, s);
    if (d.outcome === 'malformed') return answer(req, res, 400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, 'ambiguous path\n');
    deps.audit.record('access.denied', { userId: s.principal.userId, email: s.principal.email, ip: deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']), userAgent: req.headers['user-agent'] ?? null, detail: `${req.method} ${(req.url ?? '').slice(0, 200)}: ${d.reason}` });
    const html = (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
    if (html && d.outcome === 'deny') return void (req.resume(), page(res, 403, deps.forbiddenPage(s.principal, pathOf(req.url ?? '/'))));
    answer(req, res, 403, { 'content-type': 'application/json' }, d.outcome === 'mfa' ? MFA_REQUIRED : FORBIDDEN);
  }

  /** No valid session cookie: an API key, a public path, an open mode — or 302/401. */
  function withoutSession(req: IncomingMessage, res: ServerResponse) {
    const key = bearerApiKey(req.headers.authorization);
    if (key) {
      const meta = { ip: deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']), userAgent: req.headers['user-agent'] ?? null };
      deps.apiKeys.resolve(key, meta).then(
        (s) => (s ? admit(req, res, s) : refusedKey(req, res)),
        (err) => (passesWithoutSession(req) ? forward(req, res, null) : unavailable(req, res, err)),
      );
      return;
    }
    if (passesWithoutSession(req)) return forward(req, res, null);
    // With rules in force, an ambiguous path is refused outright rather than guessed at (architecture.md#access).
    if (policyOf(deps.settings.current()).rules.length && normalisedPath(req.url ?? '/') === null) {
      return answer(req, res, 400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, 'ambiguous path\n');
    }
    deny(req, res);
  }

  /** A presented key that is not valid: counted per client IP; past the limit, 429 instead of 401. */
  async function refusedKey(req: IncomingMessage, res: ServerResponse) {
    const ip = deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']);
    deps.audit.record('api-key.refused', { ip, userAgent: req.headers['user-agent'] ?? null });
    try {
      const verdict = await deps.limits.check('api-key', ip);
      if (!verdict.ok) {
        return answer(req, res, 429, { 'content-type': 'application/json', 'retry-after': String(verdict.retryAfterSec) }, JSON.stringify({ error: 'rate_limited' }));
      }
    } catch (err) {
      return unavailable(req, res, err);
    }
    if (passesWithoutSession(req)) forward(req, res, null);
    else deny(req, res);
  }

  const handle: RequestListener = (req, res) => {
    const url = req.url ?? '/';
    const refusal = malformed(req);
    if (refusal) return answer(req, res, refusal[0], { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, refusal[1] + '\n');
    const elsewhere = hosts.misdirected(req, isAuthRoute(url) ? url.slice(prefix.length) : null);
    if (elsewhere) {
      deps.onMisdirected?.(req.headers.host ?? '');
      return answer(req, res, elsewhere.status, elsewhere.headers, elsewhere.body);
    }
    if (isAuthRoute(url)) {
      void deps.authApp(req, res);
      return;
    }
    // Auth off means off: no identity reaches the app, even from a browser that still holds a session,
    // so an app can never mistake a pass-through for a sign-in.
    if (deps.settings.current().mode === 'off') return forward(req, res, null);
    if (oauthRoute(req, res, url)) return;
    const cookie = readCookie(req.headers.cookie, deps.cookies.session);
    if (cookie) {
      const cached = deps.sessions.peek(cookie);
      if (cached) return admit(req, res, cached);
      if (cached === undefined) {
        deps.sessions.resolve(cookie).then(
          (s) => (s ? admit(req, res, s) : withoutSession(req, res)),
          (err) => (passesWithoutSession(req) ? forward(req, res, null) : unavailable(req, res, err)),
        );
        return;
      }
    }
    withoutSession(req, res);
  };

  function refuseUpgrade(socket: Duplex, status: number, reason: string, body = status === 401 ? UNAUTHENTICATED : status === 403 ? FORBIDDEN_ORIGIN : UNAVAILABLE) {
    let head = `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n`;
    for (const [k, v] of answerHeaders) head += `${k}: ${v}\r\n`;
    socket.end(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    // Ending is not enough: bytes the client sends after the refusal are never read, its close is
    // never seen, and the socket would stay half-open for good (found by the fuzzer).
    socket.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5_000).unref();
  }

  /**
   * Cross-site WebSocket hijacking: a browser sends the victim's cookie with an upgrade that any page
   * opens, and the Same-Origin Policy does not apply to WebSockets. A browser always sends Origin: it
   * must be ours (or one the operator listed). Clients that are no browser send none and pass.
   */
  function foreignOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const ours = deps.publicUrl ? deps.publicUrl.origin : `${'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'}://${req.headers.host ?? ''}`;
    const o = origin.toLowerCase();
    return o !== ours.toLowerCase() && !(deps.allowedOrigins ?? []).some((a) => a.toLowerCase() === o);
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const refusal = malformed(req);
    if (refusal) return refuseUpgrade(socket, refusal[0], 'Refused', '');
    const elsewhere = hosts.misdirected(req, null);
    if (elsewhere) return refuseUpgrade(socket, 421, 'Misdirected Request', elsewhere.body);
    const fwd = deps.forwarder;
    if (isAuthRoute(url) || !fwd) return refuseUpgrade(socket, 404, 'Not Found', '');
    // A handshake has no body; one with a body would hold it until a 101 that cannot come.
    if (hasBody(req)) return refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'upgrade_with_body' }));
    if (deps.settings.current().mode !== 'off' && foreignOrigin(req)) return refuseUpgrade(socket, 403, 'Forbidden');
    const go = (s: ResolvedSession | null, stillValid: (() => Promise<boolean>) | null) => {
      const headers = upstreamHeaders(req, context(req, true), s ? identityOf(s) : null);
      const open = () =>
        fwd.upgrade(req, socket, head, headers, {
          handshakeTimeoutMs: limits.handshakeMs,
          idleMs: limits.idleMs,
          halfCloseMs: limits.halfCloseMs,
          opened: (close) => watch.add(close, stillValid),
        });
      withAssertion(s, headers, open, () => refuseUpgrade(socket, 503, 'Service Unavailable'));
    };
    if (deps.settings.current().mode !== 'off' && deps.oauthTokens && deps.settings.current().mcp.length && looksLikeOAuthBearer(req.headers.authorization)) {
      return tokenUpgrade(req, socket, deps.oauthTokens, go);
    }
    const cookie = deps.settings.current().mode === 'off' ? undefined : readCookie(req.headers.cookie, deps.cookies.session);
    const passes = () => passesWithoutSession(req);
    if (!cookie) return passes() ? go(null, null) : refuseUpgrade(socket, 401, 'Unauthorized');
    deps.sessions.resolve(cookie).then(
      (s) => {
        // The tunnel lives only as long as the session: it is checked again on the session's cadence.
        if (s) {
          const d = verdict(req, s);
          if (d?.outcome === 'malformed') return refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'ambiguous_path' }));
          if (d && d.outcome !== 'allow' && d.outcome !== 'public') return refuseUpgrade(socket, 403, 'Forbidden', d.outcome === 'mfa' ? MFA_REQUIRED : FORBIDDEN);
          return go(s, async () => (await deps.sessions.resolve(cookie)) !== null);
        }
        return passes() ? go(null, null) : refuseUpgrade(socket, 401, 'Unauthorized');
      },
      (err) => {
        deps.onStoreError(err);
        refuseUpgrade(socket, 503, 'Service Unavailable');
      },
    );
  }

  /** A WebSocket opened with an OAuth token (SPEC §11): only on its resource's path, and only while the token lives. */
  function tokenUpgrade(req: IncomingMessage, socket: Duplex, tokens: OAuthTokenService, go: (s: ResolvedSession, stillValid: () => Promise<boolean>) => void) {
    const path = normalisedPath(req.url ?? '/');
    const r = path === null ? undefined : resourceFor(deps.settings.current().mcp, path);
    const token = bearerOAuthToken(req.headers.authorization);
    if (!r || !token) return refuseUpgrade(socket, 401, 'Unauthorized', JSON.stringify({ error: 'invalid_token' }));
    tokens.resolve(token).then(
      (t) => {
        if (!t || t.resource !== resourceUrl(originOf(req), r)) return refuseUpgrade(socket, 401, 'Unauthorized', JSON.stringify({ error: 'invalid_token' }));
        const d = verdict(req, t.session);
        if (d && d.outcome !== 'allow' && d.outcome !== 'public') return refuseUpgrade(socket, d.outcome === 'malformed' ? 400 : 403, 'Forbidden', FORBIDDEN);
        go(t.session, async () => (await tokens.resolve(token)) !== null);
      },
      (err) => {
        deps.onStoreError(err);
        refuseUpgrade(socket, 503, 'Service Unavailable');
      },
    );
  }

  return {
    handle,
    upgrade,
    get tunnels() {
      return watch.size;
    },
    close: () => {
      watch.closeAll();
      tokenStreams.closeAll();
    },
  };
}

const MAX_URL = 8192;

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}
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

