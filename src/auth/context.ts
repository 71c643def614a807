// What every /auth route needs, assembled once in the composition root.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { ResolvedSession } from '../session/sessions.js';
import type { User } from '../store/types.js';
import type { SettingsSource } from '../config/settings.js';
import type { CookieNames } from '../session/cookies.js';
import type { SessionService } from '../session/sessions.js';
import type { ApiKeyService } from '../session/api-keys.js';
import type { RateLimiter } from '../security/rate-limit.js';
import type { Lockout } from '../security/lockout.js';
import type { PasswordHasher } from '../security/password.js';
import type { TrustedProxies } from '../security/client-ip.js';
import type { Store } from '../store/types.js';
import type { AuditLog } from '../audit.js';
import type { Mailer } from '../mail/mailer.js';
import type { ProviderEntry } from '../oidc/providers.js';

export interface Renderer {
  render(view: string, data: Record<string, unknown>): string;
}

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
}

/** The origin the client used: the configured public URL, else (local development only) the Host header. */
export function ourOrigin(deps: Pick<AuthDeps, 'publicOrigin' | 'cookies'>, req: IncomingMessage): string {
  if (deps.publicOrigin) return deps.publicOrigin;
  return `${deps.cookies.secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
}

export type AuthEnv = {
  Bindings: HttpBindings;
  Variables: { csrfCookie: string; session: ResolvedSession | null; ip: string; userAgent: string | null };
};
export type AuthContext = Context<AuthEnv>;

/** Helpers every route module shares (built once in routes.ts). */
export interface AuthKit {
  page(c: AuthContext, view: string, title: string, data: Record<string, unknown>, status?: number): Response | Promise<Response>;
  errorPage(c: AuthContext, status: number, heading: string, message: string, retryAfter?: number | null): Response | Promise<Response>;
  /** Counts an attempt; a 429 page (with Retry-After) when over the limit, else null. */
  limited(c: AuthContext, kind: import('../security/rate-limit.js').LimitKind, account?: string): Promise<Response | null>;
  csrfField(c: AuthContext): string;
  /** Token plus origin check; the token is bound to the session unless `signedOutForm`. */
  csrfOk(c: AuthContext, form: Record<string, unknown>, signedOutForm?: boolean): boolean;
  /** A brand-new session (cookie set on c); any session the browser brought along ends. */
  startSession(c: AuthContext, user: User, provider: string): Promise<void>;
}
