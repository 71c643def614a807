// What every decision of the gate shares (gate.ts, gate-upgrade.ts): its dependencies, the answers it
// writes itself, and the per-session caches — built once when the gate is made, never per request.
import type { IncomingMessage, RequestListener } from 'node:http';
import type { SettingsSource } from '../config/settings.js';
import type { CookieNames } from '../session/cookies.js';
import type { Principal, ResolvedSession, SessionService } from '../session/sessions.js';
import type { TrustedProxies } from '../security/client-ip.js';
import type { AdmissionRequest, Door } from '../admission/door.js';
import type { IdentitySigner } from '../access/identity-signer.js';
import type { OAuthTokenService } from '../oauth/tokens.js';
import { identityHeaders } from './headers.js';
import type { Forwarder } from './forward.js';
import { createHostPolicy, type HostPolicy } from './hosts.js';
import { createTokenStreams, type TokenStreams } from './token-streams.js';
import { createAnswers, type Answers } from './answers.js';
import { createAssertionCache, type WithAssertion } from './assertions.js';

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

/** What every decision below shares: the dependencies, the answers, and the per-session caches. */
export interface GateCore {
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

export function createCore(deps: GateDeps, limits: TunnelLimits): GateCore {
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
export const asked = (req: IncomingMessage): AdmissionRequest => ({
  method: req.method ?? 'GET',
  url: req.url ?? '/',
  headers: req.headers,
  peer: req.socket.remoteAddress,
});
