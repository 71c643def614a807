// The composition root: config → store → services → HTTP server. The only place (with cli/) that reads
// the environment; everything below receives its dependencies as arguments.
import { createServer, type Server } from 'node:http';
import { watchFile, unwatchFile } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { createAuditLog, type AuditLog } from './audit.js';
import { createAuthApp } from './auth/routes.js';
import { liveSettings, type LiveSettings } from './config/settings.js';
import { ensureHome } from './config/files.js';
import { loadMasterKey } from './config/secrets.js';
import { readState, stateFile, updateState, type Scope, type StoredState } from './config/state.js';
import { describeStore, enableAuth, openConfiguredStore, smtpBindingOf, storeChoiceFor, storeUrlFor } from './config/auth-state.js';
import { createSwitchableStore } from './store/switchable.js';
import { createSmtpMailer, type Mailer } from './mail/mailer.js';
import { providersFromState } from './oidc/providers.js';
import { withEnvProviders } from './config/env-providers.js';
import { createForwarder, type Forwarder } from './proxy/forward.js';
import { createGate, type TunnelLimits } from './proxy/gate.js';
import { createRenderer } from './render.js';
import { parseTrustedProxies } from './security/client-ip.js';
import { createPasswordHasher, type PasswordHasher } from './security/password.js';
import { setupLinkLine } from './auth/setup-link.js';
import { ALL_OWN_COOKIES, cookieNames } from './session/cookies.js';
import { createSessionService, type SessionService } from './session/sessions.js';
import { createApiKeyService, type ApiKeyService } from './session/api-keys.js';
import { createRateLimiter, DEFAULT_LIMITS, type LimitRules } from './security/rate-limit.js';
import { createLockout, DEFAULT_LOCKOUT, type LockoutPolicy } from './security/lockout.js';
import type { Store } from './store/types.js';

export const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));

export interface ServeOptions {
  scope: Scope;
  host: string;
  port: number;
  upstream: string | null;
  demo: boolean;
  publicUrl: URL | null;
  trustedProxies: string[];
  appName: string;
  prefix: string;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Audit lines (JSON); default: the log. */
  auditLine?: (line: string) => void;
  /** Slow-client and upstream timeouts (ms); defaults in DEFAULT_TIMEOUTS. */
  timeouts?: Partial<typeof DEFAULT_TIMEOUTS>;
  /** Hosts besides the public URL's that are served (GATEHOUSE_ALLOWED_HOSTS). */
  allowedHosts?: string[];
  /** Origins besides the public URL's that may open WebSockets (GATEHOUSE_WS_ORIGINS). */
  allowedOrigins?: string[];
  /** WebSocket tunnel limits (tests shorten them). */
  tunnels?: Partial<TunnelLimits>;
  /** Rate limits and lockout policy (defaults: security/rate-limit.ts). */
  limits?: LimitRules;
  lockout?: LockoutPolicy;
  /** Print a one-time setup link while there are no users (false in --workers processes: the primary prints it). */
  announceSetup?: boolean;

  now?: () => number;
}

export interface RunningGatehouse {
  url: string;
  server: Server;
  store: Store;
  sessions: SessionService;
  apiKeys: ApiKeyService;
  hasher: PasswordHasher;
  forwarder: Forwarder | null;
  audit: AuditLog;
  /** Re-reads the state file now (the watcher does this within a second by itself). */
  reload(): void;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** One sentence an operator can act on, instead of Node's "listen EADDRINUSE: address already in use …". */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const sentence =
    err.code === 'EADDRINUSE' ? `port ${port} is already in use (EADDRINUSE)`
    : err.code === 'EACCES' ? `port ${port} needs more privileges than this process has (EACCES)`
    : err.code === 'EADDRNOTAVAIL' ? `address ${host} is not available on this machine (EADDRNOTAVAIL)`
    : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? `host "${host}" could not be resolved (${err.code})`
    : `could not listen on ${host}:${port}: ${err.message}`;
  return Object.assign(new Error(sentence), { code: err.code });
}

/** The stored state, created on the first start: safe by default, that turns the login screen on. */
export function prepareState(scope: Scope, masterKey: Buffer, log: (line: string) => void, env: NodeJS.ProcessEnv = {}): StoredState {
  const needsSetup = (s: StoredState | null) => !s || (s.auth.enabled && !s.auth.secret);
  let state = readState(scope);
  if (needsSetup(state)) {
    // Under the state file's lock, and decided again on the latest file: a CLI command may be writing.
    state = updateState(scope, (current) => (needsSetup(current) ? enableAuth(current, masterKey, null) : current!));
    log(`auth: enabled for this server/profile on first start (users in ${describeStore(storeChoiceFor(scope, state, masterKey, env))})`);
  }
  return state!;
}

export const DEFAULT_TIMEOUTS = {
  headers: 20_000, // the whole request head must arrive within this (slowloris)
  idle: 300_000, // a connection with no traffic either way is closed (long polls and SSE keep talking)
  keepAlive: 5_000, // idle keep-alive between requests
  upstreamHeaders: 60_000, // the app must start answering within this → 504
  checkInterval: 1_000, // how often Node checks the request timeouts
};

export async function startGatehouse(opts: ServeOptions): Promise<RunningGatehouse> {
  const now = opts.now ?? Date.now;
  ensureHome(opts.scope.home);
  const masterKey = loadMasterKey(opts.scope.home, opts.env);

  const state = prepareState(opts.scope, masterKey, opts.log, opts.env);

  const firstStore = await openConfiguredStore(opts.scope, state, masterKey, opts.env);
  await firstStore.migrate();
  // Switchable: `auth enable --db other` moves a running server to another database.
  const switchable = createSwitchableStore(firstStore);
  const store = switchable.store;
  let storeUrl = storeUrlFor(opts.scope, state, masterKey, opts.env);
  let switchingTo: string | null = null;

  let settings: LiveSettings = liveSettings(state, masterKey, opts.env);
  const settingsSource = { current: () => settings };
  const secure = opts.publicUrl?.protocol === 'https:';
  const cookies = cookieNames(secure);
  const sessions = createSessionService(store, settings.secret, { idleMs: opts.sessionIdleMs, absoluteMs: opts.sessionAbsoluteMs, now });
  const audit = createAuditLog(opts.auditLine ?? opts.log, now);
  const apiKeys = createApiKeyService(store, {
    now,
    onUse: (key, user, meta) => audit.record('api-key.used', { userId: user.id, email: user.email, ip: meta?.ip, userAgent: meta?.userAgent, detail: key.id }),
  });
  const hasher = createPasswordHasher({ perSecond: opts.env.GATEHOUSE_HASH_RATE ? Number(opts.env.GATEHOUSE_HASH_RATE) : undefined });
  const limits = createRateLimiter(store, opts.limits ?? DEFAULT_LIMITS, now);
  const lockout = createLockout(store, opts.lockout ?? DEFAULT_LOCKOUT, now);
  const trusted = parseTrustedProxies(opts.trustedProxies);
  const renderer = createRenderer(VIEWS_DIR);

  let demoApp: { url: string; close(): Promise<void> } | null = null;
  let upstream = opts.upstream;
  if (opts.demo && !upstream) {
    const { startDemoApp } = await import('./demo/whoami.js');
    demoApp = await startDemoApp({ host: '127.0.0.1', port: 0 });
    upstream = demoApp.url;
  }
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  // Both spellings of every Gatehouse cookie: the app may set none of them.
  const forwarder = upstream
    ? createForwarder({
        upstream,
        headersTimeoutMs: timeouts.upstreamHeaders,
        ownCookies: ALL_OWN_COOKIES,
        onReachable: (up) => opts.log(up ? `app: ${upstream} answers again` : `app: ${upstream} is not reachable; answering 502 until it is`),
      })
    : null;

  // The mailer follows the smtp binding, so `gatehouse bind smtp …` switches reset on while running.
  let mailer: Mailer | null = null;
  let mailerUrl: string | null = null;
  const applyMailer = async (binding: { url: string; from: string } | null) => {
    const key = binding ? `${binding.url} ${binding.from}` : null;
    if (key === mailerUrl) return;
    mailerUrl = key;
    const next = binding ? await createSmtpMailer(binding) : null;
    mailer?.close();
    mailer = next;
  };
  await applyMailer(smtpBindingOf(state, masterKey, opts.env));
  let listeningUrl = '';
  const warn = (m: string) => opts.log(`providers: ${m}`);
  // GATEHOUSE_GOOGLE_CLIENT_ID … in the environment lay over the state file's entries.
  let providers = providersFromState(withEnvProviders(state.providers, opts.env), masterKey, warn);

  const authApp = createAuthApp({
    store,
    sessions,
    apiKeys,
    limits,
    lockout,
    hasher,
    settings: settingsSource,
    renderer,
    cookies,
    trusted,
    audit,
    appName: opts.appName,
    prefix: opts.prefix,
    publicOrigin: opts.publicUrl?.origin ?? null,
    viewsDir: VIEWS_DIR,
    demo: opts.demo,
    mailer: () => mailer,
    providers: () => providers,
    linkOrigin: () => opts.publicUrl?.origin ?? listeningUrl,
    now,
  });
  let storeDownLogged = 0;
  let misdirectedLogged = -Infinity;
  const gate = createGate({
    prefix: opts.prefix,
    authApp: getRequestListener(authApp.fetch, { overrideGlobalObjects: false }),
    forwarder,
    sessions,
    apiKeys,
    limits,
    audit,
    settings: settingsSource,
    cookies,
    trusted,
    publicUrl: opts.publicUrl,
    allowedHosts: opts.allowedHosts,
    allowedOrigins: opts.allowedOrigins,
    tunnels: { handshakeMs: timeouts.upstreamHeaders, idleMs: timeouts.idle, ...opts.tunnels },
    errorPage: (status, heading, message) =>
      renderer.render('error', { appName: opts.appName, prefix: opts.prefix, title: heading, status, heading, message, retryAfter: null }),
    onMisdirected(host) {
      // Once a minute at most: a crawler hammering a wrong name must not flood the log.
      if (now() - misdirectedLogged < 60_000) return;
      misdirectedLogged = now();
      opts.log(`host: a request for "${host.slice(0, 100)}" was sent to ${opts.publicUrl?.origin} instead (not the public URL's host; list it in GATEHOUSE_ALLOWED_HOSTS if it is yours)`);
    },
    onStoreError(err) {
      if (now() - storeDownLogged > 10_000) {
        storeDownLogged = now();
        opts.log(`store: unavailable (${(err as Error).message}); answering 503 until it returns`);
      }
    },
  });

  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      headersTimeout: timeouts.headers,
      requestTimeout: 0, // a 1 GiB upload may take long; idle sockets are cut by `timeout` below instead
      keepAliveTimeout: timeouts.keepAlive,
      connectionsCheckingInterval: timeouts.checkInterval,
    },
    gate.handle,
  );
  server.timeout = timeouts.idle;
  server.on('upgrade', gate.upgrade);
  // Gatehouse is no forward proxy: CONNECT gets a plain refusal instead of a silent close.
  server.on('connect', (_req, socket) => {
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err.code === 'ECONNRESET')) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  // What a stop releases after the server: also what a failed start must release, since the demo
  // app's socket, the upstream agent, the mailer and the store would keep the process alive — an
  // error printed, and a process that never exits.
  const release = async () => {
    await forwarder?.close();
    mailer?.close();
    await demoApp?.close();
    await switchable.current().close();
  };
  await forwarder?.warm().catch(() => {}); // before listening: the first visitors do not pay for cold code (forward.ts)
  try {
    await listen(server, opts.port, opts.host);
  } catch (err) {
    await release();
    throw listenError(err as NodeJS.ErrnoException, opts.host, opts.port);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  listeningUrl = url;

  // Live switching: `gatehouse auth enable/disable` from another process rewrites the state file.
  const file = stateFile(opts.scope);
  const reload = () => {
    try {
      const next = readState(opts.scope);
      if (!next) return;
      const before = settings.mode;
      settings = liveSettings(next, masterKey, opts.env);
      if (settings.mode !== before) opts.log(settings.mode === 'off' ? 'auth: switched off (requests pass through, no identity headers)' : `auth: switched on (mode ${settings.mode})`);
      sessions.setSecret(settings.secret);
      applyMailer(smtpBindingOf(next, masterKey, opts.env)).catch((err: Error) => opts.log(`mail: ${err.message}`));
      const nextUrl = storeUrlFor(opts.scope, next, masterKey, opts.env);
      if (nextUrl !== storeUrl && nextUrl !== switchingTo) {
        switchingTo = nextUrl;
        openConfiguredStore(opts.scope, next, masterKey, opts.env)
          .then((s) => switchable.switchTo(s))
          .then(
            () => {
              storeUrl = nextUrl;
              opts.log(`store: now using ${describeStore(storeChoiceFor(opts.scope, next, masterKey, opts.env))}`);
            },
            (err: Error) => opts.log(`store: could not switch to the new database, kept the old one: ${err.message}`),
          )
          .finally(() => (switchingTo = null));
      }
      providers = providersFromState(withEnvProviders(next.providers, opts.env), masterKey, warn);
    } catch (err) {
      opts.log(`config: kept the previous settings: ${(err as Error).message}`);
    }
  };
  watchFile(file, { interval: 500 }, reload);

  if (opts.announceSetup !== false && settings.mode !== 'off') {
    const line = await setupLinkLine(store, opts.publicUrl?.origin ?? url, opts.prefix, now());
    if (line) opts.log(line);
  }

  const sweep = setInterval(() => store.deleteExpiredSessions(new Date(now()), opts.sessionIdleMs).catch(() => {}), 10 * 60_000);
  sweep.unref();

  return {
    url,
    server,
    store,
    sessions,
    apiKeys,
    hasher,
    forwarder,
    audit,
    reload,
    async close() {
      clearInterval(sweep);
      unwatchFile(file, reload);
      gate.close(); // tunnels are no longer the HTTP server's connections: close them ourselves
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await release();
    },
  };
}
