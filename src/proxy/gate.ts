// The hot path. Every request that is not for /auth lands here: find the session (from memory when
// possible), then forward with identity headers — or answer 302 / 401 / 403 and send the app nothing.
// Requests under the auth prefix go to the Hono app instead. The parts: `request-checks.ts` (framing
// refused outright, the forwarding context), `answers.ts` (what the gate writes itself),
// `assertions.ts` (the signed identity, cached per session), and below, the decisions.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SettingsSource } from '../config/settings.js';
import { readCookie, type CookieNames } from '../session/cookies.js';
import type { Principal, ResolvedSession, SessionService } from '../session/sessions.js';
import { bearerApiKey, type ApiKeyService } from '../session/api-keys.js';
import type { RateLimiter } from '../security/rate-limit.js';
import type { AuditLog } from '../audit.js';
import { isLoopback, type TrustedProxies } from '../security/client-ip.js';
import { identityHeaders, upstreamHeaders } from './headers.js';
import type { Forwarder } from './forward.js';
import { policyOf } from '../access/policy.js';
import { decide, normalisedPath, subjectOf, type Decision } from '../access/rules.js';
import type { IdentitySigner } from '../access/identity-signer.js';
import { createHostPolicy, type HostPolicy } from './hosts.js';
import { createTokenStreams, type TokenStreams } from './token-streams.js';
import { createTunnelWatch, type TunnelWatch } from './tunnels.js';
import { createAnswers, FORBIDDEN, MFA_REQUIRED, type Answers } from './answers.js';
import { createAssertionCache, type WithAssertion } from './assertions.js';
import { foreignOrigin, forwardContext, hasBody, malformed, pathOf } from './request-checks.js';
import { mustEnrol } from '../mfa/policy.js';
import { bearerOAuthToken, looksLikeOAuthBearer, type OAuthTokenService, type ResolvedToken } from '../oauth/tokens.js';
import { resourceFor, tokenOpens, type McpResource } from '../oauth/resources.js';
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
  /** The assertion could not be signed (the request was answered 503). */
  onSigningError?(err: unknown): void;
  /** A request for a host that is not ours was refused or redirected (for the log). */
  onMisdirected?(host: string): void;
  /** OAuth access tokens: for MCP resources (SPEC §11), or for the whole app from the device grant (SPEC §12). */
  oauthTokens?: OAuthTokenService;
}

export interface Gate {
  handle: RequestListener;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Whether a signed-in GET of `url` by `principal` would reach the app (warm-up.ts keeps clear of refusals). */
  wouldForward(principal: Principal, url: string): boolean;
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

export function createGate(deps: GateDeps): Gate {
  const limits: TunnelLimits = { ...DEFAULT_TUNNEL_LIMITS, ...deps.tunnels };
  const core = createCore(deps, limits);
  const watch = createTunnelWatch(limits.recheckMs);
  return {
    handle: (req, res) => handle(core, req, res),
    upgrade: (req, socket, head) => upgrade(core, watch, limits, req, socket, head),
    wouldForward(principal, url) {
      if (core.deps.settings.current().mode === 'off' || !core.deps.forwarder || lacksRequiredFactor(core, principal)) return false;
      return passes(verdict(core, 'GET', url, principal));
    },
    get tunnels() {
      return watch.size;
    },
    close: () => {
      watch.closeAll();
      core.tokenStreams.closeAll();
    },
  };
}

/** What every decision below shares: the dependencies, the answers, and the per-session caches. */
interface GateCore {
  deps: GateDeps;
  answers: Answers;
  hosts: HostPolicy;
  withAssertion: WithAssertion;
  /** The identity headers of a resolved session, built once per resolution. */
  identityOf(s: ResolvedSession): string[];
  isAuthRoute(url: string): boolean;
  clientIp(req: IncomingMessage): string;
  /** Answers given to OAuth tokens, ended when the token is revoked. */
  tokenStreams: TokenStreams;
}

function createCore(deps: GateDeps, limits: TunnelLimits): GateCore {
  const prefix = deps.prefix;
  const identityCache = new WeakMap<ResolvedSession, string[]>();
  return {
    deps,
    answers: createAnswers({ prefix, secure: deps.publicUrl?.protocol === 'https:', errorPage: deps.errorPage }),
    hosts: createHostPolicy(deps.publicUrl, deps.allowedHosts ?? [], deps.trusted),
    withAssertion: createAssertionCache(deps.signer),
    identityOf(s) {
      let h = identityCache.get(s);
      if (!h) identityCache.set(s, (h = identityHeaders(s.principal)));
      return h;
    },
    isAuthRoute: (url) => url.startsWith(prefix) && (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?'),
    clientIp: (req) => deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    // Answers to OAuth tokens (SPEC §11) are watched like tunnels: a revoked token ends an open stream (SSE) too.
    tokenStreams: createTokenStreams(limits.recheckMs, async (token) => (await deps.oauthTokens?.resolve(token)) != null),
  };
}

function handle(core: GateCore, req: IncomingMessage, res: ServerResponse): void {
  const { deps, answers } = core;
  const url = req.url ?? '/';
  const refusal = malformed(req);
  if (refusal) return answers.refuse(req, res, refusal[0], refusal[1]);
  const elsewhere = core.hosts.misdirected(req, core.isAuthRoute(url) ? url.slice(deps.prefix.length) : null);
  if (elsewhere) {
    deps.onMisdirected?.(req.headers.host ?? '');
    return answers.answer(req, res, elsewhere.status, elsewhere.headers, elsewhere.body);
  }
  if (core.isAuthRoute(url)) return void deps.authApp(req, res);
  // Auth off means off: no identity reaches the app, even from a browser that still holds a session,
  // so an app can never mistake a pass-through for a sign-in.
  if (deps.settings.current().mode === 'off') return forward(core, req, res, null);
  if (oauthRoute(core, req, res, url)) return;
  const cookie = readCookie(req.headers.cookie, deps.cookies.session);
  if (cookie) {
    const cached = deps.sessions.peek(cookie);
    if (cached) return admit(core, req, res, cached);
    if (cached === undefined) {
      deps.sessions.resolve(cookie).then(
        (s) => (s ? admit(core, req, res, s) : withoutSession(core, req, res)),
        (err) => storeFailed(core, req, res, err),
      );
      return;
    }
  }
  withoutSession(core, req, res);
}

function forward(core: GateCore, req: IncomingMessage, res: ServerResponse, session: ResolvedSession | null): void {
  const fwd = core.deps.forwarder;
  if (!fwd) return core.answers.notFound(res);
  const headers = upstreamHeaders(req, forwardContext(req, false, core.deps.trusted, core.deps.publicUrl), session ? core.identityOf(session) : null);
  core.withAssertion(
    session,
    headers,
    () => fwd.forward(req, res, headers, (kind) => core.answers.upstreamFailed(res, kind)),
    (err) => {
      core.deps.onSigningError?.(err);
      core.answers.unavailable(req, res);
    },
  );
}

/** The store failed while finding who is asking: open paths still pass, anything else is 503. */
function storeFailed(core: GateCore, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (passesWithoutSession(core, req)) return forward(core, req, res, null);
  core.deps.onStoreError(err);
  core.answers.unavailable(req, res);
}

/** Decides, from settings only, whether this request may pass without a session. */
function passesWithoutSession(core: GateCore, req: IncomingMessage): boolean {
  const s = core.deps.settings.current();
  if (s.mode === 'off') return true;
  if (s.mode === 'hybrid' && isLoopback(req.socket.remoteAddress)) return true; // the TCP peer, never a header
  const { rules } = policyOf(s);
  return rules.length > 0 && decide(rules, req.method ?? 'GET', req.url ?? '/', null).outcome === 'public';
}

/** The access rules' verdict on a signed-in request; null when no rule can refuse anyone (hot path). */
function verdict(core: GateCore, method: string | undefined, url: string | undefined, p: Principal): Decision | null {
  const policy = policyOf(core.deps.settings.current());
  if (!policy.restricts) return null;
  return decide(policy.rules, method ?? 'GET', url ?? '/', subjectOf(p));
}

/** Whether a verdict lets the request through (null: no rule can refuse anyone). */
function passes(d: Decision | null): d is null | (Decision & { outcome: 'allow' | 'public' }) {
  return !d || d.outcome === 'allow' || d.outcome === 'public';
}

/** GATEHOUSE_MFA asks this principal for a factor its session was made without (one string compare when optional). */
function lacksRequiredFactor(core: GateCore, p: Principal): boolean {
  const policy = core.deps.settings.current().mfa;
  return policy !== 'optional' && mustEnrol(policy, p);
}

/** A browser goes to `page` (enrolment or step-up) and comes back; anything else gets 403 mfa_required. */
function askForFactor(core: GateCore, req: IncomingMessage, res: ServerResponse, page: string): void {
  const html = (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
  if (html) return core.answers.answer(req, res, 302, { location: `${core.deps.prefix}/${page}?return_to=${encodeURIComponent(req.url ?? '/')}` });
  core.answers.answer(req, res, 403, { 'content-type': 'application/json' }, MFA_REQUIRED);
}

/** A signed-in request: forwarded, or refused by an access rule with 403 (the app receives nothing). */
function admit(core: GateCore, req: IncomingMessage, res: ServerResponse, s: ResolvedSession): void {
  const { deps, answers } = core;
  if (lacksRequiredFactor(core, s.principal)) return askForFactor(core, req, res, 'account/totp');
  const d = verdict(core, req.method, req.url, s.principal);
  if (passes(d)) return forward(core, req, res, s);
  if (d.outcome === 'malformed') return answers.refuse(req, res, 400, 'ambiguous path');
  deps.audit.record('access.denied', { userId: s.principal.userId, email: s.principal.email, ip: core.clientIp(req), userAgent: req.headers['user-agent'] ?? null, detail: `${req.method} ${(req.url ?? '').slice(0, 200)}: ${d.reason}` });
  const html = (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
  if (html && d.outcome === 'deny') return void (req.resume(), answers.page(res, 403, deps.forbiddenPage(s.principal, pathOf(req.url ?? '/'))));
  if (d.outcome === 'mfa') return askForFactor(core, req, res, 'step-up');
  answers.answer(req, res, 403, { 'content-type': 'application/json' }, FORBIDDEN);
}

/** No valid session cookie: an API key, a public path, an open mode — or 302/401. */
function withoutSession(core: GateCore, req: IncomingMessage, res: ServerResponse): void {
  const { deps } = core;
  const key = bearerApiKey(req.headers.authorization);
  if (key) {
    deps.apiKeys.resolve(key, { ip: core.clientIp(req), userAgent: req.headers['user-agent'] ?? null }).then(
      (s) => (s ? admit(core, req, res, s) : refusedKey(core, req, res)),
      (err) => storeFailed(core, req, res, err),
    );
    return;
  }
  if (passesWithoutSession(core, req)) return forward(core, req, res, null);
  // With rules in force, an ambiguous path is refused outright rather than guessed at (architecture.md#access).
  if (policyOf(deps.settings.current()).rules.length && normalisedPath(req.url ?? '/') === null) return core.answers.refuse(req, res, 400, 'ambiguous path');
  core.answers.signInFirst(req, res, oauthChallenge(core, req));
}

/** A presented key that is not valid: counted per client IP; past the limit, 429 instead of 401. */
async function refusedKey(core: GateCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ip = core.clientIp(req);
  core.deps.audit.record('api-key.refused', { ip, userAgent: req.headers['user-agent'] ?? null });
  try {
    const verdict = await core.deps.limits.check('api-key', ip);
    if (!verdict.ok) {
      return core.answers.answer(req, res, 429, { 'content-type': 'application/json', 'retry-after': String(verdict.retryAfterSec) }, JSON.stringify({ error: 'rate_limited' }));
    }
  } catch (err) {
    core.deps.onStoreError(err);
    return core.answers.unavailable(req, res);
  }
  if (passesWithoutSession(core, req)) forward(core, req, res, null);
  else core.answers.signInFirst(req, res, oauthChallenge(core, req));
}

/**
 * An `Upgrade:` request (WebSocket): the same decisions as `handle`, then a tunnel that lives only as
 * long as its session — checked again on the session's cadence (tunnels.ts).
 */
function upgrade(core: GateCore, watch: TunnelWatch, limits: TunnelLimits, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const { deps, answers } = core;
  socket.on('error', () => socket.destroy());
  const refusal = malformed(req);
  if (refusal) return answers.refuseUpgrade(socket, refusal[0], 'Refused', '');
  const elsewhere = core.hosts.misdirected(req, null);
  if (elsewhere) return answers.refuseUpgrade(socket, 421, 'Misdirected Request', elsewhere.body);
  const fwd = deps.forwarder;
  if (core.isAuthRoute(req.url ?? '/') || !fwd) return answers.refuseUpgrade(socket, 404, 'Not Found', '');
  // A handshake has no body; one with a body would hold it until a 101 that cannot come.
  if (hasBody(req)) return answers.refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'upgrade_with_body' }));
  const off = deps.settings.current().mode === 'off';
  if (!off && foreignOrigin(req, deps.publicUrl, deps.allowedOrigins ?? [])) return answers.refuseUpgrade(socket, 403, 'Forbidden');
  const go = (s: ResolvedSession | null, stillValid: (() => Promise<boolean>) | null) => {
    const headers = upstreamHeaders(req, forwardContext(req, true, deps.trusted, deps.publicUrl), s ? core.identityOf(s) : null);
    const opened = (close: () => void) => watch.add(close, stillValid);
    const open = () => fwd.upgrade(req, socket, head, headers, { handshakeTimeoutMs: limits.handshakeMs, idleMs: limits.idleMs, halfCloseMs: limits.halfCloseMs, opened });
    core.withAssertion(s, headers, open, (err) => {
      deps.onSigningError?.(err);
      answers.refuseUpgrade(socket, 503, 'Service Unavailable');
    });
  };
  if (!off && deps.oauthTokens && looksLikeOAuthBearer(req.headers.authorization)) {
    return tokenUpgrade(core, req, socket, deps.oauthTokens, go);
  }
  const anonymous = () => (passesWithoutSession(core, req) ? go(null, null) : answers.refuseUpgrade(socket, 401, 'Unauthorized'));
  const cookie = off ? undefined : readCookie(req.headers.cookie, deps.cookies.session);
  if (!cookie) return anonymous();
  deps.sessions.resolve(cookie).then(
    (s) => {
      if (!s) return anonymous();
      if (lacksRequiredFactor(core, s.principal)) return answers.refuseUpgrade(socket, 403, 'Forbidden', MFA_REQUIRED);
      const d = verdict(core, req.method, req.url, s.principal);
      if (d?.outcome === 'malformed') return answers.refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'ambiguous_path' }));
      if (!passes(d)) return answers.refuseUpgrade(socket, 403, 'Forbidden', d.outcome === 'mfa' ? MFA_REQUIRED : FORBIDDEN);
      go(s, async () => (await deps.sessions.resolve(cookie)) !== null);
    },
    (err) => {
      deps.onStoreError(err);
      answers.refuseUpgrade(socket, 503, 'Service Unavailable');
    },
  );
}

// --- OAuth for MCP resources (SPEC §11, architecture.md#oauth) and the device grant's whole-app tokens (SPEC §12). ---

/** The public origin resource indicators are made of (as the /auth app computes it). */
function originOf(core: GateCore, req: IncomingMessage): string {
  if (core.deps.publicUrl) return core.deps.publicUrl.origin;
  const host = req.headers.host ?? '';
  // Without a public URL (local development) the Host names it; one that is no host name never reaches a header we write.
  return `http://${/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? host : 'localhost'}`;
}

function resourceOf(core: GateCore, req: IncomingMessage): McpResource | undefined {
  const mcp = core.deps.settings.current().mcp;
  if (!mcp.length) return undefined;
  const path = normalisedPath(req.url ?? '/');
  return path === null ? undefined : resourceFor(mcp, path);
}

/** Under an MCP resource the 401's challenge is OAuth's: a client discovers everything from it. */
function oauthChallenge(core: GateCore, req: IncomingMessage): string | undefined {
  const r = resourceOf(core, req);
  return r ? bearerChallenge(originOf(core, req), r) : undefined;
}

function refuseToken(core: GateCore, req: IncomingMessage, res: ServerResponse, r: McpResource | undefined): void {
  const challenge = r ? bearerChallenge(originOf(core, req), r, 'invalid_token') : 'Bearer error="invalid_token"';
  core.answers.answer(req, res, 401, { 'content-type': 'application/json', 'www-authenticate': challenge }, JSON.stringify({ error: 'invalid_token' }));
}

/** A request with an OAuth bearer token: it opens only its own resource's path, and the app never sees it. */
function withToken(core: GateCore, req: IncomingMessage, res: ServerResponse, tokens: OAuthTokenService): void {
  const path = normalisedPath(req.url ?? '/');
  if (path === null) return core.answers.refuse(req, res, 400, 'ambiguous path');
  const r = resourceFor(core.deps.settings.current().mcp, path);
  const token = bearerOAuthToken(req.headers.authorization);
  if (!token) return refuseToken(core, req, res, r);
  const admitToken = (t: ResolvedToken | null) => {
    if (!t || !tokenOpens(t.resource, originOf(core, req), r)) return refuseToken(core, req, res, r);
    core.tokenStreams.add(res, token);
    admit(core, req, res, t.session);
  };
  const cached = tokens.peek(token);
  if (cached) return admitToken(cached);
  tokens.resolve(token).then(admitToken, (err) => {
    core.deps.onStoreError(err);
    core.answers.unavailable(req, res);
  });
}

/**
 * Discovery documents while MCP resources exist, and OAuth bearer tokens (which the device grant
 * issues with or without resources); true when the request was taken. Without a resource the cost
 * for everyone else is one look at the Authorization header.
 */
function oauthRoute(core: GateCore, req: IncomingMessage, res: ServerResponse, url: string): boolean {
  const tokens = core.deps.oauthTokens;
  if (!tokens) return false;
  if (core.deps.settings.current().mcp.length && url.startsWith(WELL_KNOWN) && isDiscoveryPath(pathOf(url))) {
    void core.deps.authApp(req, res);
    return true;
  }
  if (!looksLikeOAuthBearer(req.headers.authorization)) return false;
  withToken(core, req, res, tokens);
  return true;
}

/** A WebSocket opened with an OAuth token (SPEC §11): only on its resource's path, and only while the token lives. */
function tokenUpgrade(core: GateCore, req: IncomingMessage, socket: Duplex, tokens: OAuthTokenService, go: (s: ResolvedSession, stillValid: () => Promise<boolean>) => void): void {
  const { answers } = core;
  const path = normalisedPath(req.url ?? '/');
  const r = path === null ? undefined : resourceFor(core.deps.settings.current().mcp, path);
  const token = bearerOAuthToken(req.headers.authorization);
  const invalid = () => answers.refuseUpgrade(socket, 401, 'Unauthorized', JSON.stringify({ error: 'invalid_token' }));
  if (path === null || !token) return invalid();
  tokens.resolve(token).then(
    (t) => {
      if (!t || !tokenOpens(t.resource, originOf(core, req), r)) return invalid();
      const d = verdict(core, req.method, req.url, t.session.principal);
      if (!passes(d)) return answers.refuseUpgrade(socket, d.outcome === 'malformed' ? 400 : 403, 'Forbidden', FORBIDDEN);
      go(t.session, async () => (await tokens.resolve(token)) !== null);
    },
    (err) => {
      core.deps.onStoreError(err);
      answers.refuseUpgrade(socket, 503, 'Service Unavailable');
    },
  );
}
