// The hot path. Every request that is not for /auth lands here: find the session (from memory when
// possible), then forward with identity headers — or answer 302 / 401 / 403 and send the app nothing.
// Requests under the auth prefix go to the Hono app instead. Who may pass is decided by the door
// (admission/door.ts); the gate only translates its verdict into an answer. The parts: `request-checks.ts`
// (framing refused outright, the forwarding context), `answers.ts` (what the gate writes itself),
// `assertions.ts` (the signed identity, cached per session), `gate-core.ts` (what every decision shares),
// `gate-upgrade.ts` (WebSockets), and below, the decisions.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Principal, ResolvedSession } from '../session/sessions.js';
import { upstreamHeaders } from './headers.js';
import type { Verdict } from '../admission/door.js';
import { isNavigation } from '../http/navigation.js';
import { createTunnelWatch } from './tunnels.js';
import { FORBIDDEN, MFA_REQUIRED } from './answers.js';
import { forwardContext, malformed, pathOf } from './request-checks.js';
import { isDiscoveryPath, WELL_KNOWN } from '../oauth/metadata.js';
import {
  asked,
  createCore,
  DEFAULT_TUNNEL_LIMITS,
  type GateCore,
  type GateDeps,
  type TunnelLimits,
} from './gate-core.js';
import { upgrade } from './gate-upgrade.js';

export { DEFAULT_TUNNEL_LIMITS, type GateDeps, type TunnelLimits } from './gate-core.js';

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
