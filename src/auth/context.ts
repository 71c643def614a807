// What every /auth route needs, assembled once in the composition root.
import type { IncomingMessage } from 'node:http';
import type { SettingsSource } from '../config/settings.js';
import type { CookieNames } from '../session/cookies.js';
import type { SessionService } from '../session/sessions.js';
import type { PasswordHasher } from '../security/password.js';
import type { TrustedProxies } from '../security/client-ip.js';
import type { Store } from '../store/types.js';
import type { AuditLog } from '../audit.js';

export interface Renderer {
  render(view: string, data: Record<string, unknown>): string;
}

export interface AuthDeps {
  store: Store;
  sessions: SessionService;
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
  now: () => number;
}

/** The origin the client used: the configured public URL, else (local development only) the Host header. */
export function ourOrigin(deps: Pick<AuthDeps, 'publicOrigin' | 'cookies'>, req: IncomingMessage): string {
  if (deps.publicOrigin) return deps.publicOrigin;
  return `${deps.cookies.secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
}
