// The request-independent services every route and the gate share, built over one store. Which
// services exist and how they are configured is decided here; main.ts only wires them to the server.
import { createAuditLog, EVENTS_KEPT, type AuditLog } from './security/audit-log.js';
import { envSetting } from './config/schema.js';
import type { SettingsSource } from './config/settings.js';
import { createRenderer } from './render.js';
import type { ServeOptions } from './serve-options.js';
import { parseTrustedProxies, type TrustedProxies } from './security/client-ip.js';
import { createLockout, DEFAULT_LOCKOUT, type Lockout } from './security/lockout.js';
import { createPasswordHasher, type PasswordHasher } from './security/password.js';
import { createRateLimiter, DEFAULT_LIMITS, type RateLimiter } from './security/rate-limit.js';
import { createApiKeyService, type ApiKeyService } from './session/api-keys.js';
import { cookieNames, type CookieNames } from './session/cookies.js';
import { createSessionService, type SessionService } from './session/sessions.js';
import type { Store, User } from './store/types.js';
import { createMfaService, type MfaService } from './mfa/factors.js';
import { isPassphraseUser, passphraseUserId } from './session/passphrase.js';
import { createOAuthTokenService, type OAuthTokenService } from './oauth/tokens.js';
import { UNUSED_CLIENT_MS } from './oauth/clients.js';
import type { Renderer } from './render.js';
import { VIEWS_DIR } from './views-dir.js';

export interface Services {
  store: Store;
  sessions: SessionService;
  apiKeys: ApiKeyService;
  audit: AuditLog;
  hasher: PasswordHasher;
  limits: RateLimiter;
  lockout: Lockout;
  trusted: TrustedProxies;
  renderer: Renderer;
  cookies: CookieNames;
  /** Second factors (architecture.md#mfa); TOTP secrets are sealed with the master key. */
  mfa: MfaService;
  oauthTokens: OAuthTokenService;
}

export function buildServices(
  opts: ServeOptions,
  store: Store,
  settings: SettingsSource,
  now: () => number,
  masterKey: Buffer,
): Services {
  const audit = createAuditLog(opts.auditLine ?? opts.log, now, store);
  return {
    store,
    sessions: createSessionService(store, settings.current().secret, {
      idleMs: opts.sessionIdleMs,
      absoluteMs: opts.sessionAbsoluteMs,
      now,
      accepts: (user) => passphraseAccepts(settings, user),
    }),
    apiKeys: createApiKeyService(store, {
      now,
      onUse: (key, user, meta) =>
        audit.record('api-key.used', {
          userId: user.id,
          email: user.email,
          ip: meta?.ip,
          userAgent: meta?.userAgent,
          detail: key.id,
        }),
    }),
    audit,
    hasher: createPasswordHasher({ perSecond: envSetting('hashRate', opts.env) }),
    limits: createRateLimiter(store, opts.limits ?? DEFAULT_LIMITS, now),
    lockout: createLockout(store, opts.lockout ?? DEFAULT_LOCKOUT, now),
    trusted: parseTrustedProxies(opts.trustedProxies),
    renderer: createRenderer(VIEWS_DIR),
    cookies: cookieNames(opts.publicUrl?.protocol === 'https:'),
    mfa: createMfaService(store, masterKey, now),
    oauthTokens: createOAuthTokenService(store, { now }),
  };
}

/** A passphrase session lives only while its passphrase is the current one, in mode passphrase. */
function passphraseAccepts(settings: SettingsSource, user: User): boolean {
  if (!isPassphraseUser(user.id)) return true;
  const s = settings.current();
  return s.mode === 'passphrase' && s.passphraseHash !== null && user.id === passphraseUserId(s.passphraseHash);
}

/**
 * Deletes expired sessions every ten minutes. A failure is logged (at most once an hour, so a store
 * that stays down does not flood the log) instead of being swallowed: a sweep that never succeeds
 * lets the sessions table grow without bound. Returns the function that stops it.
 */
export function startSessionSweep(
  store: Store,
  idleMs: number,
  now: () => number,
  log: (line: string) => void,
  everyMs = 10 * 60_000,
): () => void {
  let lastLogged = -Infinity;
  const sweep = () =>
    store
      .deleteExpiredSessions(new Date(now()), idleMs)
      // OAuth (architecture.md#oauth): dead codes and tokens, and registrations nobody ever used.
      .then(() => store.deleteExpiredOAuthTokens(new Date(now())))
      .then(() => store.deleteUnusedOAuthClients(new Date(now() - UNUSED_CLIENT_MS)))
      // Device grant (architecture.md#devices): codes nobody approved (or exchanged) within their 10 minutes.
      .then(() => store.deleteExpiredDeviceAuthorizations(new Date(now())))
      // Recent security events stay bounded (audit.ts).
      .then(() => store.pruneEvents(new Date(now() - EVENTS_KEPT.maxAgeMs), EVENTS_KEPT.max))
      .catch((err: Error) => {
        if (now() - lastLogged < 60 * 60_000) return;
        lastLogged = now();
        log(`sessions: could not delete expired sessions (${err.message}); will try again`);
      });
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
