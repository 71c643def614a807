// What every /auth route needs, assembled once in the composition root, and the request variables the
// middleware (middleware/*.ts) sets for the routes.
import type { IdentitySigner } from '../access/identity-signer.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { ResolvedSession } from '../session/sessions.js';
import type { SettingsSource } from '../config/settings.js';
import type { CookieNames } from '../session/cookies.js';
import type { SessionService } from '../session/sessions.js';
import type { ApiKeyService } from '../session/api-keys.js';
import type { RateLimiter } from '../security/rate-limit.js';
import type { Lockout } from '../security/lockout.js';
import type { PasswordHasher } from '../security/password.js';
import type { TrustedProxies } from '../security/client-ip.js';
import type { OriginVerdict } from '../security/csrf.js';
import type { Store } from '../store/types.js';
import type { AuditLog } from '../security/audit-log.js';
import type { Mailer } from '../mail/mailer.js';
import type { ProviderEntry } from '../oidc/providers.js';
import type { Renderer } from '../render.js';
import type { MfaService } from '../mfa/factors.js';
import type { OAuthTokenService } from '../oauth/tokens.js';
import type { Door } from '../admission/door.js';

export interface AuthDeps {
  store: Store;
  sessions: SessionService;
  apiKeys: ApiKeyService;
  limits: RateLimiter;
  lockout: Lockout;
  hasher: PasswordHasher;
  settings: SettingsSource;
  renderer: Renderer;
  cookies: CookieNames;
  trusted: TrustedProxies;
  audit: AuditLog;
  appName: string;
  prefix: string; // "/auth"
  publicOrigin: string | null; // from --public-url; null → the request's own origin (local development)
  viewsDir: string;
  demo: boolean;
  /** The mailer of the current smtp binding; null when none is bound (reset and verification are off). */
  mailer: () => Mailer | null;
  /** Social login providers configured now (they change live with `gatehouse auth providers …`). */
  providers: () => ProviderEntry[];
  /** Origin for links in emails: the public URL, else the listening address. Never the Host header. */
  linkOrigin: () => string;
  now: () => number;
  /** Where unexpected failures are written, one line each; standard error when not given. */
  log?: (line: string) => void;
  /** Signs X-Forwarded-Assertion for /auth/check and publishes the JWKS; null when turned off. */
  signer?: IdentitySigner | null;
  /** Second factors (architecture.md#mfa). */
  mfa: MfaService;
  /** Who is asking and may they pass, shared with the gate (admission/door.ts); made from these deps when absent. */
  door?: Door;
  /** OAuth for MCP resources (docs/architecture.md#oauth); the routes answer only while a resource is configured. */
  oauthTokens: OAuthTokenService;
  /** Dynamic Client Registration (RFC 7591) allowed; GATEHOUSE_OAUTH_DCR=off refuses it. */
  oauthDcr?: boolean;
  /** How Client ID Metadata Documents are fetched (oauth/cimd.ts): loopback only when Gatehouse is on loopback. */
  oauthCimd?: { allowLoopback: boolean; ca?: string };
}

/** AuthDeps with its defaults filled in by createAuthApp: what the route modules are given. */
export interface AuthServices extends AuthDeps {
  log: (line: string) => void;
  door: Door;
}

export type AuthEnv = {
  Bindings: HttpBindings;
  Variables: {
    /** The services, so shared helpers (pages.ts, audit.ts, …) need only the context. */
    deps: AuthServices;
    /** The client's address: the socket peer, or the nearest untrusted X-Forwarded-For hop behind a trusted proxy. */
    ip: string;
    userAgent: string | null;
    /** The socket peer is this machine (before any proxy header is believed). */
    loopbackPeer: boolean;
    /** The request names a forwarding hop (X-Forwarded-For): a local reverse proxy, not a local client. */
    forwarded: boolean;
    /** The headers as Node parsed them: a repeated header is joined or dropped Node's way, as the proxy reads
     *  it too. */
    headers: IncomingHttpHeaders;
    /** The origin the client used, and whether the request came from it (Origin / Sec-Fetch-Site). */
    ourOrigin: string;
    origin: OriginVerdict;
    csrfCookie: string;
    session: ResolvedSession | null;
  };
};
export type AuthContext = Context<AuthEnv>;
