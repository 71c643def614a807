// The hot path. Every request that is not for /auth lands here: find the session (from memory when
// possible), then forward with identity headers — or answer 302 / 401 / 403 and send the app nothing.
// Requests under the auth prefix go to the Hono app instead. Who may pass is decided by the door
// (admission/door.ts); the gate only translates its verdict into an answer. The parts: `request-checks.ts` (framing
// refused outright, the forwarding context), `answers.ts` (what the gate writes itself),
// `assertions.ts` (the signed identity, cached per session), and below, the decisions.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SettingsSource } from '../config/settings.js';
import type { CookieNames } from '../session/cookies.js';
import type { Principal, ResolvedSession, SessionService } from '../session/sessions.js';
import type { TrustedProxies } from '../security/client-ip.js';
import { identityHeaders, upstreamHeaders } from './headers.js';
import type { Forwarder } from './forward.js';
import type { AdmissionRequest, Door, Verdict } from '../admission/door.js';
import { isNavigation } from '../http/navigation.js';
import type { IdentitySigner } from '../access/identity-signer.js';
import { createHostPolicy, type HostPolicy } from './hosts.js';
import { createTokenStreams, type TokenStreams } from './token-streams.js';
import { createTunnelWatch, type TunnelWatch } from './tunnels.js';
import { createAnswers, FORBIDDEN, MFA_REQUIRED, type Answers } from './answers.js';
import { createAssertionCache, type WithAssertion } from './assertions.js';
import { foreignOrigin, forwardContext, hasBody, malformed, pathOf } from './request-checks.js';
import type { OAuthTokenService } from '../oauth/tokens.js';
import { isDiscoveryPath, WELL_KNOWN } from '../oauth/metadata.js';

export interface GateDeps {
  prefix: string;
  authApp: RequestListener;
  forwarder: Forwarder | null; // null: only /auth routes are served (forward-auth deployments)
  /** Who is asking and may they pass (admission/door.ts): the one decision every entrance shares. */
  door: Door;
  sessions: Pick<SessionService, 'resolve'>;
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
  /** OAuth access tokens: an answer to a token ends when the token is revoked (architecture.md#oauth). */
  oauthTokens: Pick<OAuthTokenService, 'resolve'>;
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

export const DEFAULT_TUNNEL_LIMITS: TunnelLimits = {
  handshakeMs: 60_000,
  idleMs: 300_000,
  halfCloseMs: 10_000,
  recheckMs: 1_000,
};

export function createGate(deps: GateDeps): Gate {
  const limits: TunnelLimits = { ...DEFAULT_TUNNEL_LIMITS, ...deps.tunnels };
  const core = createCore(deps, limits);
  const watch = createTunnelWatch(limits.recheckMs);
  return {
    handle: (req, res) => handle(core, req, res),
    upgrade: (req, socket, head) => upgrade(core, watch, limits, req, socket, head),
    wouldForward(principal, url) {
      if (core.deps.settings.current().mode === 'off' || !core.deps.forwarder) return false;
      const session = { sessionId: 'warm-up', principal };
      return deps.door.admitSession(session, { method: 'GET', url, headers: {}, peer: undefined }).code === 'pass';
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
    isAuthRoute: (url) =>
      url.startsWith(prefix) &&
      (url.length === prefix.length || url[prefix.length] === '/' || url[prefix.length] === '?'),
    // Answers to OAuth tokens are watched like tunnels: a revoked token ends an open stream (SSE) too.
    tokenStreams: createTokenStreams(limits.recheckMs, async (t) => (await deps.oauthTokens.resolve(t)) != null),
  };
}

/** The request as the door reads it. */
const asked = (req: IncomingMessage): AdmissionRequest => ({
  method: req.method ?? 'GET',
  url: req.url ?? '/',
  headers: req.headers,
  peer: req.socket.remoteAddress,
});

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
  // OAuth discovery documents live at the root's /.well-known while MCP resources exist.
  const discovery = url.startsWith(WELL_KNOWN) && deps.settings.current().mcp.length && isDiscoveryPath(pathOf(url));
  if (discovery) return void deps.authApp(req, res);
  const v = deps.door.decide(asked(req), 'gate');
  if (!(v instanceof Promise)) return answer(core, req, res, v);
  v.then(
    (verdict) => answer(core, req, res, verdict),
    () => answers.unavailable(req, res),
  );
}

/** The door's verdict as the gate's answer: forwarded, or refused and the app receives nothing. */
function answer(core: GateCore, req: IncomingMessage, res: ServerResponse, v: Verdict): void {
  const { answers, deps } = core;
  switch (v.code) {
    case 'pass':
      if (v.token) core.tokenStreams.add(res, v.token);
      return forward(core, req, res, v.session);
    case 'ambiguous-path':
      return answers.refuse(req, res, 400, 'ambiguous path');
    case 'sign-in':
      return answers.signInFirst(req, res, v.challenge);
    case 'invalid-token':
      return answers.answer(
        req,
        res,
        401,
        { 'content-type': 'application/json', 'www-authenticate': v.challenge },
        JSON.stringify({ error: 'invalid_token' }),
      );
    case 'rate-limited':
      return answers.answer(
        req,
        res,
        429,
        { 'content-type': 'application/json', 'retry-after': String(v.retryAfterSec) },
        JSON.stringify({ error: 'rate_limited' }),
      );
    case 'forbidden':
      if (isNavigation(req.method, req.headers.accept))
        return void (
          req.resume(),
          answers.page(res, 403, deps.forbiddenPage(v.session.principal, pathOf(req.url ?? '/')))
        );
      return answers.answer(req, res, 403, { 'content-type': 'application/json' }, FORBIDDEN);
    case 'step-up':
      return askForFactor(core, req, res, 'step-up');
    case 'enrol':
      return askForFactor(core, req, res, 'account/totp');
    case 'unavailable':
      return answers.unavailable(req, res);
  }
}

function forward(core: GateCore, req: IncomingMessage, res: ServerResponse, session: ResolvedSession | null): void {
  const fwd = core.deps.forwarder;
  if (!fwd) return core.answers.notFound(res);
  const headers = upstreamHeaders(
    req,
    forwardContext(req, false, core.deps.trusted, core.deps.publicUrl),
    session ? core.identityOf(session) : null,
  );
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

/** A browser goes to `page` (enrolment or step-up) and comes back; anything else gets 403 mfa_required. */
function askForFactor(core: GateCore, req: IncomingMessage, res: ServerResponse, page: string): void {
  if (isNavigation(req.method, req.headers.accept))
    return core.answers.answer(req, res, 302, {
      location: `${core.deps.prefix}/${page}?return_to=${encodeURIComponent(req.url ?? '/')}`,
    });
  core.answers.answer(req, res, 403, { 'content-type': 'application/json' }, MFA_REQUIRED);
}

/**
 * An `Upgrade:` request (WebSocket): the door decides as for any request, then a tunnel that lives only
 * as long as the credential it was opened with — checked again on the session's cadence (tunnels.ts).
 */
function upgrade(
  core: GateCore,
  watch: TunnelWatch,
  limits: TunnelLimits,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const { deps, answers } = core;
  socket.on('error', () => socket.destroy());
  const refusal = malformed(req);
  if (refusal) return answers.refuseUpgrade(socket, refusal[0], 'Refused', '');
  const elsewhere = core.hosts.misdirected(req, null);
  if (elsewhere) return answers.refuseUpgrade(socket, 421, 'Misdirected Request', elsewhere.body);
  const fwd = deps.forwarder;
  if (core.isAuthRoute(req.url ?? '/') || !fwd) return answers.refuseUpgrade(socket, 404, 'Not Found', '');
  // A handshake has no body; one with a body would hold it until a 101 that cannot come.
  if (hasBody(req))
    return answers.refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'upgrade_with_body' }));
  const off = deps.settings.current().mode === 'off';
  if (!off && foreignOrigin(req, deps.publicUrl, deps.allowedOrigins ?? []))
    return answers.refuseUpgrade(socket, 403, 'Forbidden');
  const open = (v: Extract<Verdict, { code: 'pass' }>) => {
    const s = v.session;
    const headers = upstreamHeaders(
      req,
      forwardContext(req, true, deps.trusted, deps.publicUrl),
      s ? core.identityOf(s) : null,
    );
    const stillValid = s ? stillValidCheck(core, req) : null;
    const opened = (close: () => void) => watch.add(close, stillValid);
    const go = () =>
      fwd.upgrade(req, socket, head, headers, {
        handshakeTimeoutMs: limits.handshakeMs,
        idleMs: limits.idleMs,
        halfCloseMs: limits.halfCloseMs,
        opened,
      });
    core.withAssertion(s, headers, go, (err) => {
      deps.onSigningError?.(err);
      answers.refuseUpgrade(socket, 503, 'Service Unavailable');
    });
  };
  const decided = (v: Verdict) => (v.code === 'pass' ? open(v) : refuseUpgrade(core, socket, v));
  const v = deps.door.decide(asked(req), 'websocket');
  if (!(v instanceof Promise)) return decided(v);
  v.then(decided, () => answers.refuseUpgrade(socket, 503, 'Service Unavailable'));
}

/** An open tunnel is asked through the door again: a credential that ended, or a rule that now refuses,
 *  closes it (the session and token caches revalidate against the store every 2 s). */
function stillValidCheck(core: GateCore, req: IncomingMessage): () => Promise<boolean> {
  return async () => {
    const again = await core.deps.door.decide(asked(req), 'websocket');
    return again.code === 'pass' && again.session !== null;
  };
}

/** A refused handshake: the status line and JSON body the verdict calls for. */
function refuseUpgrade(core: GateCore, socket: Duplex, v: Exclude<Verdict, { code: 'pass' }>): void {
  const { answers } = core;
  switch (v.code) {
    case 'ambiguous-path':
      return answers.refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'ambiguous_path' }));
    case 'sign-in':
      return answers.refuseUpgrade(socket, 401, 'Unauthorized');
    case 'invalid-token':
      return answers.refuseUpgrade(socket, 401, 'Unauthorized', JSON.stringify({ error: 'invalid_token' }));
    case 'rate-limited':
      return answers.refuseUpgrade(socket, 429, 'Too Many Requests', JSON.stringify({ error: 'rate_limited' }));
    case 'forbidden':
      return answers.refuseUpgrade(socket, 403, 'Forbidden', FORBIDDEN);
    case 'step-up':
    case 'enrol':
      return answers.refuseUpgrade(socket, 403, 'Forbidden', MFA_REQUIRED);
    case 'unavailable':
      return answers.refuseUpgrade(socket, 503, 'Service Unavailable');
  }
}
