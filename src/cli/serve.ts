import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { loadMasterKey } from '../config/secrets.js';
import { KNOWN_ENV, readState, type Scope } from '../config/state.js';
import { openConfiguredStore } from '../config/auth-state.js';
import { setupLinkLine } from '../auth/setup-link.js';
import { splitList } from '../config/settings.js';
import { checkEnvironment, checkLiveSettings } from '../config/validate.js';
import { isProviderVariable, providersFromEnv } from '../config/env-providers.js';
import { prepareState, startGatehouse } from '../main.js';
import { parseLimits } from '../security/rate-limit.js';
import { execApp } from '../exec-app.js';
import { CommandError, parseDuration, SCOPE_OPTIONS, scopeFrom, UsageError, type Io } from './common.js';

export const SERVE_HELP = `gatehouse serve [--upstream URL] [--port 4180] [--host 127.0.0.1] [--public-url URL] [--demo]
                [--exec "CMD"] [--app-name NAME] [--trusted-proxies CIDR,…] [--workers N]
                [--server NAME] [--profile NAME]

Serves the login layer. Without --upstream or --demo only the /auth routes are served (forward-auth).
Every option can also be set as an environment variable: GATEHOUSE_UPSTREAM, GATEHOUSE_PORT,
GATEHOUSE_HOST, GATEHOUSE_PUBLIC_URL, GATEHOUSE_APP_NAME, GATEHOUSE_TRUSTED_PROXIES,
GATEHOUSE_SESSION_IDLE (7d), GATEHOUSE_SESSION_ABSOLUTE (30d), GATEHOUSE_WORKERS (1).
--workers N runs N processes sharing the port, for machines with more cores.
--exec "CMD" starts the app as a child with PORT set to an internal port (one-container deployments);
Gatehouse forwards SIGTERM and exits with the app.`;

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...SCOPE_OPTIONS,
      upstream: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      demo: { type: 'boolean' },
      'app-name': { type: 'string' },
      'trusted-proxies': { type: 'string' },
      workers: { type: 'string' },
      exec: { type: 'string' },
    },
  });
  if (values.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  const env = io.env;
  const scope = scopeFrom(values, env);

  // Collect every problem, then fail once (oauth2-proxy's validation style).
  const problems: string[] = [];
  const portText = values.port ?? env.GATEHOUSE_PORT ?? '4180';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) problems.push(`port "${portText}" must be a number from 0 to 65535`);
  const upstream = values.upstream ?? env.GATEHOUSE_UPSTREAM ?? null;
  if (upstream !== null && !/^http:\/\/[^/?#]+\/?$/.test(upstream)) problems.push(`upstream "${upstream}" must look like http://host:port`);
  let publicUrl: URL | null = null;
  const publicText = values['public-url'] ?? env.GATEHOUSE_PUBLIC_URL;
  if (publicText) {
    try {
      publicUrl = new URL(publicText);
      if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:') throw new Error();
    } catch {
      problems.push(`public URL "${publicText}" must be an http:// or https:// URL`);
    }
  }
  const idle = parseDuration(env.GATEHOUSE_SESSION_IDLE ?? '7d');
  const absolute = parseDuration(env.GATEHOUSE_SESSION_ABSOLUTE ?? '30d');
  if (idle === null) problems.push('GATEHOUSE_SESSION_IDLE must be a duration such as 7d or 12h');
  else if (idle < 5 * 60_000) problems.push('GATEHOUSE_SESSION_IDLE must be at least 5m (a shorter idle limit signs people out while they read a page)');
  if (absolute === null) problems.push('GATEHOUSE_SESSION_ABSOLUTE must be a duration such as 30d');
  if (idle !== null && absolute !== null && idle > absolute) problems.push('GATEHOUSE_SESSION_IDLE must not be longer than GATEHOUSE_SESSION_ABSOLUTE');
  const allowedHosts = splitList(env.GATEHOUSE_ALLOWED_HOSTS ?? '');
  for (const h of allowedHosts) if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(h)) problems.push(`GATEHOUSE_ALLOWED_HOSTS: "${h}" is not a host or host:port`);
  const allowedOrigins = splitList(env.GATEHOUSE_WS_ORIGINS ?? '');
  for (const o of allowedOrigins) if (!isOrigin(o)) problems.push(`GATEHOUSE_WS_ORIGINS: "${o}" is not an origin such as https://app.example.com`);
  const trustedProxies = splitList(values['trusted-proxies'] ?? env.GATEHOUSE_TRUSTED_PROXIES ?? '');
  try {
    const { parseTrustedProxies } = await import('../security/client-ip.js');
    parseTrustedProxies(trustedProxies);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const workersText = values.workers ?? env.GATEHOUSE_WORKERS ?? '1';
  const workers = Number(workersText);
  if (!/^\d+$/.test(workersText) || workers < 1 || workers > 64) problems.push(`workers "${workersText}" must be a number from 1 to 64`);
  const execCommand = values.exec ?? env.GATEHOUSE_EXEC ?? null;
  if (execCommand !== null && (upstream !== null || values.demo)) problems.push('--exec starts the app itself: use it without --upstream or --demo');
  if (execCommand !== null && workers > 1) problems.push('--exec runs one app process: use it without --workers');
  const limits = parseLimits(env.GATEHOUSE_RATE_LIMITS);
  problems.push(...limits.problems);
  for (const name of Object.keys(env)) if (name.startsWith('GATEHOUSE_') && !KNOWN_ENV.has(name) && !isProviderVariable(name)) problems.push(`unknown environment variable ${name}`);
  problems.push(...providersFromEnv(env).problems);
  const mode = env.GATEHOUSE_AUTH_MODE;
  if (mode !== undefined && !['on', 'off', 'hybrid'].includes(mode)) problems.push(`GATEHOUSE_AUTH_MODE must be on, off or hybrid, not "${mode}"`);
  const signUp = env.GATEHOUSE_SIGN_UP;
  if (signUp !== undefined && !['open', 'invite', 'domains'].includes(signUp)) problems.push(`GATEHOUSE_SIGN_UP must be open, invite or domains, not "${signUp}"`);
  if (env.GATEHOUSE_HASH_RATE !== undefined && !(Number(env.GATEHOUSE_HASH_RATE) > 0)) problems.push('GATEHOUSE_HASH_RATE must be a positive number of hashes per second');
  problems.push(...checkEnvironment(env));
  try {
    problems.push(...checkLiveSettings(readState(scope), env));
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length) throw new UsageError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);

  const host = values.host ?? env.GATEHOUSE_HOST ?? '127.0.0.1';
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers, scope, io, publicUrl?.origin ?? `http://${host}:${port}`);

  const app = execCommand ? await execApp(execCommand, env).catch((err: Error) => {
    throw new CommandError(err.message);
  }) : null;

  const running = await startGatehouse({
    scope,
    host,
    port,
    upstream: app?.upstream ?? upstream,
    demo: values.demo ?? false,
    publicUrl,
    trustedProxies,
    appName: values['app-name'] ?? env.GATEHOUSE_APP_NAME ?? (values.demo ? 'Gatehouse demo' : 'your app'),
    prefix: '/auth',
    sessionIdleMs: idle!,
    sessionAbsoluteMs: absolute!,
    env,
    log: (line) => io.err(`gatehouse: ${line}`),
    auditLine: (line) => io.err(line),
    announceSetup: cluster.isPrimary,
    allowedHosts,
    allowedOrigins,
    limits: limits.rules,
  }).catch(async (err: Error) => {
    await app?.stop();
    throw new CommandError(`could not start: ${err.message}`);
  });
  const target = app ? `"${execCommand}" (exec, ${app.upstream})` : (upstream ?? (values.demo ? 'the built-in demo app' : 'no upstream (forward-auth only)'));
  if (cluster.isPrimary) io.err(`gatehouse: listening on ${running.url} → ${target} (server "${scope.server}", profile "${scope.profile}")`);
  else process.send?.({ listening: running.url, target });

  // SIGTERM / SIGINT: stop accepting, drain in-flight requests, then stop the app (exec mode). If the
  // app exits on its own, Gatehouse drains and exits with the app's code.
  const code = await new Promise<number>((resolve) => {
    let closing = false;
    const stop = (reason: string, exitCode: number) => {
      if (closing) return;
      closing = true;
      io.err(`gatehouse: ${reason}: draining connections, then exiting`);
      running
        .close()
        .catch(() => {})
        .then(async () => {
          const appCode = await app?.stop();
          // Asked to stop: a clean exit (the app ending on our SIGTERM is expected). The app quit on
          // its own: its code.
          resolve(exitCode ?? appCode ?? 0);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM', 0));
    process.once('SIGINT', () => stop('SIGINT', 0));
    void app?.exited.then((c) => stop(`the app exited (${c})`, c));
  });
  cluster.worker?.disconnect(); // the IPC channel to the primary would keep a drained worker alive
  return code;
}

/**
 * --workers N: the primary prepares the state once (so every worker shares one signing secret), then
 * forks N workers that share the listening socket; it restarts a worker that dies and, on SIGTERM,
 * lets every worker drain before exiting.
 */
async function runPrimary(workers: number, scope: Scope, io: Io, origin: string): Promise<number> {
  const masterKey = loadMasterKey(scope.home, io.env);
  const state = prepareState(scope, masterKey, (line) => io.err(`gatehouse: ${line}`), io.env);
  if (state.auth.enabled) {
    const store = await openConfiguredStore(scope, state, masterKey, io.env);
    try {
      await store.migrate();
      const line = await setupLinkLine(store, origin, '/auth', Date.now());
      if (line) io.err(`gatehouse: ${line}`);
    } finally {
      await store.close();
    }
  }
  // The kernel spreads connections across workers; round-robin through the primary costs an IPC hop.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let announced = false;
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: { listening?: string; target?: string }) => {
      if (m.listening && !announced) {
        announced = true;
        io.err(`gatehouse: listening on ${m.listening} → ${m.target} with ${workers} workers (server "${scope.server}", profile "${scope.profile}")`);
      }
    });
  };
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (w, code) => {
    if (stopping) return;
    io.err(`gatehouse: worker ${w.id} exited (${code}); starting another`);
    fork();
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      io.err(`gatehouse: ${signal}: draining ${workers} workers, then exiting`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
      const check = () => (Object.keys(cluster.workers ?? {}).length === 0 ? resolve() : setTimeout(check, 50));
      check();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** scheme://host[:port] and nothing more. */
function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value.replace(/\/$/, '').toLowerCase();
  } catch {
    return false;
  }
}
