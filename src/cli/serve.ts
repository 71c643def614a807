// `gatehouse serve`: read and check every setting (schema.ts), then run one process, or a primary
// that forks --workers N processes sharing the port.
import cluster from 'node:cluster';
import { readState, type Scope } from '../config/state.js';
import { AUTH_PREFIX } from '../config/prefix.js';
import { SERVE_FLAGS, type ServeSettings } from '../config/schema.js';
import { readServeSettings } from '../config/serve-settings.js';
import { checkLiveSettings } from '../config/validate.js';
import { startGatehouse, type RunningGatehouse } from '../main.js';
import { execApp, type ExecutedApp } from '../exec-app.js';
import { CommandError, parseCommand, scopeFrom, UsageError, type Io } from './common.js';
import { runPrimary } from './serve-primary.js';
import { serveHelp } from './serve-help.js';

export const SERVE_HELP = serveHelp();

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, { help: SERVE_HELP, options: SERVE_FLAGS });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const env = io.env;
  const scope = scopeFrom(
    { server: values.server as string | undefined, profile: values.profile as string | undefined },
    env,
  );
  const settings = checkedSettings(values, scope, env);
  if (settings.workers > 1 && cluster.isPrimary) {
    return runPrimary(
      settings.workers,
      scope,
      io,
      settings.publicUrl?.origin ?? `http://${settings.host}:${settings.port}`,
    );
  }
  const app = settings.exec
    ? await execApp(settings.exec, env).catch((err: Error) => {
        throw new CommandError(err.message);
      })
    : null;
  const running = await start(settings, scope, io, app);
  const target = app
    ? `"${settings.exec}" (exec, ${app.upstream})`
    : (settings.upstream ?? (settings.demo ? 'the built-in demo app' : 'no upstream (forward-auth only)'));
  if (cluster.isPrimary)
    io.err(`gatehouse: listening on ${running.url} → ${target} (server "${scope.server}", profile "${scope.profile}")`);
  else process.send?.({ listening: running.url, target });
  const code = await untilStopped(running, app, io);
  cluster.worker?.disconnect(); // the IPC channel to the primary would keep a drained worker alive
  return code;
}

/** Every problem of options, environment and state file in one message (oauth2-proxy's style), exit 2. */
function checkedSettings(
  values: Record<string, string | boolean | undefined>,
  scope: Scope,
  env: NodeJS.ProcessEnv,
): ServeSettings {
  const read = readServeSettings(values, env);
  const problems = read.ok ? [] : [...read.problems];
  try {
    problems.push(...checkLiveSettings(readState(scope), env));
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (!read.ok || problems.length) throw new UsageError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return read.settings;
}

function start(s: ServeSettings, scope: Scope, io: Io, app: ExecutedApp | null): Promise<RunningGatehouse> {
  return startGatehouse({
    scope,
    host: s.host,
    port: s.port,
    upstream: app?.upstream ?? s.upstream,
    demo: s.demo,
    publicUrl: s.publicUrl,
    trustedProxies: s.trustedProxies,
    appName: s.appName ?? (s.demo ? 'Gatehouse demo' : 'your app'),
    prefix: AUTH_PREFIX,
    sessionIdleMs: s.sessionIdleMs,
    sessionAbsoluteMs: s.sessionAbsoluteMs,
    env: io.env,
    log: (line) => io.err(`gatehouse: ${line}`),
    auditLine: (line) => io.err(line),
    announceSetup: cluster.isPrimary,
    allowedHosts: s.allowedHosts,
    allowedOrigins: s.allowedOrigins,
    limits: s.limits,
  }).catch(async (err: Error) => {
    await app?.stop();
    throw new CommandError(`could not start: ${err.message}`);
  });
}

/**
 * SIGTERM / SIGINT: stop accepting, drain in-flight requests, then stop the app (exec mode). If the
 * app exits on its own, Gatehouse drains and exits with the app's code.
 */
function untilStopped(running: RunningGatehouse, app: ExecutedApp | null, io: Io): Promise<number> {
  return new Promise<number>((resolve) => {
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
}
