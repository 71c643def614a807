// The composition root: config → store → services → HTTP server. The only place (with cli/) that reads
// the environment; everything below receives its dependencies as arguments. Each step is a named part:
// live-config.ts (the watched state file), live-store.ts (the store that follows it), services.ts,
// front-door.ts (upstream, /auth routes, gate) and http-server.ts.
import { policyOf } from './access/policy.js';
import { startIdentitySigner, type FollowedSigner } from './access/key-follower.js';
import { dropLegacyKeys } from './access/signing-keys.js';
import type { Server } from 'node:http';
import type { AuditLog } from './security/audit-log.js';
import { setupLinkLine } from './auth/setup-link.js';
import { describeStore, enableAuth, storeChoiceFor } from './config/auth-state.js';
import { ensureHome } from './config/files.js';
import { envSetting } from './config/schema.js';
import { loadMasterKey } from './config/secrets.js';
import { readState, updateState, type Scope, type StoredState } from './config/state.js';
import { buildGate, startUpstream } from './front-door.js';
import { closeServer, createHttpServer, DEFAULT_TIMEOUTS, listen, listeningUrl } from './http-server.js';
import { createLiveConfig, type LiveConfig } from './live-config.js';
import { openLiveStore } from './live-store.js';
import type { Forwarder } from './proxy/forward.js';
import type { Gate } from './proxy/gate.js';
import { warmUp, type WarmUpReport } from './warm-up.js';
import { releaseYoungGeneration } from './young-generation.js';
import { startReplicaHeartbeat } from './replicas.js';
import type { PasswordHasher } from './security/password.js';
import type { ServeOptions } from './serve-options.js';
import { buildServices, startSessionSweep, type Services } from './services.js';
import type { ApiKeyService } from './session/api-keys.js';
import type { SessionService } from './session/sessions.js';
import type { Store } from './store/types.js';
import type { OAuthTokenService } from './oauth/tokens.js';

export { DEFAULT_TIMEOUTS } from './http-server.js';
export { VIEWS_DIR } from './views-dir.js';
export type { ServeOptions } from './serve-options.js';

export interface RunningGatehouse {
  url: string;
  server: Server;
  store: Store;
  sessions: SessionService;
  apiKeys: ApiKeyService;
  /** OAuth tokens for MCP resources (architecture.md#oauth). */
  oauthTokens: OAuthTokenService;
  hasher: PasswordHasher;
  forwarder: Forwarder | null;
  /** What the warm-up before listening did (warm-up.ts); null without an app to forward to. */
  warmedUp: WarmUpReport | null;
  audit: AuditLog;
  /** Re-reads the state file, and the signing keys in the store, now (the watchers do within seconds by themselves). */
  reload(): void;
  close(): Promise<void>;
}

/** The stored state, created on the first start: safe by default, that turns the login screen on. */
export function prepareState(
  scope: Scope,
  masterKey: Buffer,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = {},
): StoredState {
  const needsSetup = (s: StoredState | null) =>
    !s || s.auth.enabled === undefined || (s.auth.enabled && !s.auth.secret);
  let state = readState(scope);
  if (needsSetup(state)) {
    // Under the state file's lock, and decided again on the latest file: a CLI command may be writing.
    state = updateState(scope, (current) => (needsSetup(current) ? enableAuth(current, masterKey, null) : current!));
    const users = describeStore(storeChoiceFor(scope, state, masterKey, env));
    log(`auth: enabled for this server/profile on first start (users in ${users})`);
  }
  return state!;
}

export async function startGatehouse(opts: ServeOptions): Promise<RunningGatehouse> {
  const now = opts.now ?? Date.now;
  const { scope, env, log } = opts;
  ensureHome(scope.home);
  const masterKey = loadMasterKey(scope.home, env);
  const state = prepareState(scope, masterKey, log, env);
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };

  const liveStore = await openLiveStore({ scope, state, masterKey, env, log });
  // What a stop releases after the server: also what a failed start must release, since the demo
  // app's socket, the upstream agent, the mailer and the store would keep the process alive — an
  // error printed, and a process that never exits.
  const releases: Array<() => Promise<void>> = [() => liveStore.close()];
  const release = async () => {
    for (const fn of releases.reverse()) await fn();
  };
  try {
    const live = await createLiveConfig({ scope, state, masterKey, env, log });
    releases.push(() => live.close());
    let url = '';
    const upstream = await startUpstream(opts, timeouts, () => url);
    releases.push(() => upstream.close());

    const services = buildServices(opts, liveStore.store, { current: live.settings }, now, masterKey);
    live.onChange((settings, next) => {
      services.sessions.setSecret(settings.secret);
      liveStore.follow(next);
    });
    const origin = () => opts.publicUrl?.origin ?? url;
    const followed = await startSigner(opts, { store: services.store, masterKey, state }, origin, now, releases);
    const parts = { opts, services, live, timeouts, listeningOrigin: () => url, signer: followed?.signer ?? null, now };
    const gate = buildGate({ ...parts, forwarder: upstream.forwarder });
    const server = createHttpServer(gate, timeouts);
    const warmedUp = await warmThenListen(server, gate, upstream.forwarder, services, opts);
    url = listeningUrl(server, opts.host, opts.port);
    releases.push(startReplicaHeartbeat({ store: services.store, publicUrl: origin, log, now }).close);

    await announceSetupLink(opts, services.store, live, url, now);
    warnUntrustedForwardAuth(opts, services, live, upstream.forwarder);
    const stopSweep = startSessionSweep(services.store, opts.sessionIdleMs, now, log);

    return {
      url,
      server,
      ...services,
      forwarder: upstream.forwarder,
      warmedUp,
      reload: () => void (live.reload(), followed?.refresh()),
      async close() {
        stopSweep();
        gate.close(); // tunnels are no longer the HTTP server's connections: close them ourselves
        await closeServer(server);
        await release();
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Warms the path visitors will take (warm-up.ts), then listens; from then on V8's young generation
 *  may grow as traffic needs (young-generation.ts). */
async function warmThenListen(
  server: Server,
  gate: Gate,
  forwarder: Forwarder | null,
  services: Services,
  opts: ServeOptions,
): Promise<WarmUpReport | null> {
  const warmedUp = forwarder
    ? await warmUp({
        server,
        gate,
        forwarder,
        sessions: services.sessions,
        cookieName: services.cookies.session,
        host: opts.publicUrl?.host ?? null,
      })
    : null;
  await listen(server, opts.port, opts.host);
  releaseYoungGeneration();
  return warmedUp;
}

/** While nobody has signed up, the one-time link that makes the first account its admin. */
async function announceSetupLink(
  opts: ServeOptions,
  store: Store,
  live: LiveConfig,
  url: string,
  now: () => number,
): Promise<void> {
  if (opts.announceSetup === false || live.settings().mode === 'off') return;
  const line = await setupLinkLine(store, opts.publicUrl?.origin ?? url, opts.prefix, now());
  if (line) opts.log(line);
}

/** Forward-auth with rules but no trusted proxy cannot learn which request a proxy asks about: say so at start. */
function warnUntrustedForwardAuth(
  opts: ServeOptions,
  services: Services,
  live: LiveConfig,
  forwarder: Forwarder | null,
): void {
  if (forwarder || services.trusted.any || live.settings().mode === 'off' || !policyOf(live.settings()).rules.length)
    return;
  opts.log(
    'forward-auth: access rules are set but no trusted proxy (--trusted-proxies): /auth/check cannot believe ' +
      'the original URI a proxy names, and refuses every request that names one',
  );
}

/**
 * The identity assertion's signer (architecture.md#access), or null with GATEHOUSE_ASSERTION=off. Its keys are
 * the store's (the state file's move there on the first start); a rotation anywhere reaches it through the store.
 */
async function startSigner(
  opts: ServeOptions,
  keys: { store: Store; masterKey: Buffer; state: StoredState },
  origin: () => string,
  now: () => number,
  releases: Array<() => Promise<void>>,
): Promise<FollowedSigner | null> {
  if (!envSetting('assertion', opts.env)) return null;
  const { store, masterKey, state } = keys;
  const legacy = state.signing ?? null;
  const { prefix, log } = opts;
  const followed = await startIdentitySigner({ store, masterKey, legacy, origin, prefix, log, now });
  if (legacy) dropLegacyKeys(opts.scope); // the store has them now
  releases.push(followed.close);
  return followed;
}
