import { parseArgs } from 'node:util';
import { isSealed, loadMasterKey, unseal } from '../config/secrets.js';
import { checkFitness, redactUrl } from '../store/fitness.js';
import { readState, updateState, type Scope, type StoredState } from '../config/state.js';
import { enableAuth, rotateSecret, openConfiguredStore } from '../config/auth-state.js';
import { setupLinkLine, setupOrigin } from '../auth/setup-link.js';
import { PROVIDERS_HELP, providersCommand } from './providers.js';
import { withEnvProviders } from '../config/env-providers.js';
import { SCOPE_OPTIONS, scopeFrom, UsageError, type Io } from './common.js';

export const AUTH_HELP = `gatehouse auth enable [--db NAME|embedded] [--skip-fitness]   turn the login screen on
                    [--public-url URL] [--host H] [--port N]   where the printed setup link points
gatehouse auth disable                              pass traffic straight through (users are kept)
gatehouse auth status [--json]                      show what is configured
gatehouse auth rotate-secret                        new signing secret: every session ends
${PROVIDERS_HELP}`;

export async function authCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'providers') return providersCommand(rest, io);
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      ...SCOPE_OPTIONS,
      json: { type: 'boolean' },
      db: { type: 'string' },
      'skip-fitness': { type: 'boolean' },
      'public-url': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
    },
  });
  if (values.help || !sub) {
    io.out(AUTH_HELP);
    return sub ? 0 : 2;
  }
  const scope = scopeFrom(values, io.env);
  const masterKey = loadMasterKey(scope.home, io.env);
  const state = readState(scope);
  switch (sub) {
    case 'enable': {
      const origin = linkOrigin(values, io.env);
      return enable(scope, state, masterKey, values.db ?? null, values['skip-fitness'] ?? false, origin, io);
    }
    case 'disable': {
      updateState(scope, (current) => {
        const next = current ?? enableAuth(null, masterKey, null);
        next.auth.enabled = false;
        return next;
      });
      io.out(`auth: DISABLED on server "${scope.server}" (profile "${scope.profile}") — traffic passes straight through; users are kept`);
      return 0;
    }
    case 'status':
      return status(scope, state, io, values.json ?? false);
    case 'rotate-secret': {
      if (!state) throw new UsageError('auth was never enabled here; run `gatehouse auth enable` first');
      updateState(scope, (current) => rotateSecret(current ?? state, masterKey));
      const store = await openConfiguredStore(scope, state, masterKey, io.env);
      try {
        await store.migrate();
        const ended = await store.deleteAllSessions();
        io.out(`✓ new signing secret; ${ended} session(s) ended — everyone signs in again`);
      } finally {
        await store.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown auth command "${sub}"\n${AUTH_HELP}`);
  }
}

const DB_KINDS = new Set(['postgres', 'mysql', 'mongodb']);

async function enable(scope: Scope, state: StoredState | null, masterKey: Buffer, db: string | null, skipFitness: boolean, origin: string, io: Io): Promise<number> {
  const bindings = state?.bindings ?? {};
  // --db embedded: back to the built-in SQLite store even while database bindings exist.
  if (db === 'embedded') return finishEnable(scope, state, masterKey, null, bindings, origin, io);
  if (db && !(bindings[db] && DB_KINDS.has(bindings[db]!.kind))) throw new UsageError(`there is no database binding named "${db}" (see \`gatehouse bindings\`)`);
  // --db, else the database auth already keeps its users in (re-enabling after `auth disable` must
  // not move to another binding and leave every account behind), else the first database binding
  // that passes, else the embedded store.
  const current = state?.auth.db && bindings[state.auth.db] && DB_KINDS.has(bindings[state.auth.db]!.kind) ? state.auth.db : null;
  if (!db && current) io.out(`users stay in "${current}" (another database: \`gatehouse auth enable --db NAME\`)`);
  const candidates = db ? [db] : current ? [current] : Object.keys(bindings).filter((n) => DB_KINDS.has(bindings[n]!.kind));
  let chosen: string | null = null;
  for (const name of candidates) {
    const url = unsealIfNeeded(bindings[name]!.url, masterKey);
    if (skipFitness) {
      chosen = name;
      break;
    }
    io.out(`fitness check: ${name} (${redactUrl(url).replace('****', '<set>')})`);
    const result = await checkFitness(url);
    for (const s of result.steps) io.out(`  ${s.ok ? '✓' : '✗'} ${s.step}${s.ok ? '' : ` — ${s.detail}${s.hint ? `\n      hint: ${s.hint}` : ''}`}`);
    if (result.ok) {
      chosen = name;
      break;
    }
  }
  if (candidates.length && !chosen) {
    io.err(`gatehouse: no database binding passed the fitness check; auth was not enabled`);
    return 1;
  }

  return finishEnable(scope, state, masterKey, chosen, bindings, origin, io);
}

async function finishEnable(
  scope: Scope,
  state: StoredState | null,
  masterKey: Buffer,
  chosen: string | null,
  bindings: StoredState['bindings'],
  origin: string,
  io: Io,
): Promise<number> {
  const next = enableAuth(state, masterKey, chosen);
  const store = await openConfiguredStore(scope, next, masterKey, io.env);
  try {
    await store.migrate();
    // Re-read under the lock: a binding or provider added while the fitness check ran is kept.
    const written = updateState(scope, (current) => enableAuth(current, masterKey, chosen));
    next.providers = written.providers;
    next.bindings = written.bindings;
    io.out(`auth: ENABLED on server "${scope.server}" (profile "${scope.profile}") — users in ${chosen ? `"${chosen}" (${bindings[chosen]!.kind})` : 'the embedded store'}`);
    io.out('✓ email + password sign-in, sessions');
    const smtp = Object.values(next.bindings).some((b) => b.kind === 'smtp');
    io.out(smtp ? '✓ password reset and email verification (smtp bound)' : '– password reset: bind smtp to enable → `gatehouse bind smtp smtp://…`');
    const providers = withEnvProviders(next.providers, io.env).map((p) => p.name);
    io.out(providers.length ? `✓ social login: ${providers.join(', ')}` : '– social login:   `gatehouse auth providers add google …`');
    const line = await setupLinkLine(store, origin, '/auth', Date.now());
    if (line) io.out(line);
  } finally {
    await store.close();
  }
  return 0;
}

/**
 * Where the setup link points: the same flags and variables `gatehouse serve` reads, so the link
 * opens the server this profile will run (checked before anything is written).
 */
function linkOrigin(values: { 'public-url'?: string; host?: string; port?: string }, env: NodeJS.ProcessEnv): string {
  try {
    return setupOrigin({
      publicUrl: values['public-url'] ?? env.GATEHOUSE_PUBLIC_URL,
      host: values.host ?? env.GATEHOUSE_HOST,
      port: values.port ?? env.GATEHOUSE_PORT,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function unsealIfNeeded(value: string, key: Buffer): string {
  return isSealed(value) ? unseal(value, key) : value;
}

function status(scope: Scope, state: StoredState | null, io: Io, json: boolean): number {
  const enabled = state?.auth.enabled ?? false;
  const info = {
    server: scope.server,
    profile: scope.profile,
    enabled,
    mode: enabled ? state!.auth.mode : 'off',
    db: state?.auth.db ?? 'embedded',
    authSecret: state?.auth.secret ? '<set>' : '<not set>',
    providers: withEnvProviders(state?.providers ?? [], io.env).map((p) => p.name),
  };
  if (json) {
    io.out(JSON.stringify(info, null, 2));
    return 0;
  }
  io.out(`auth: ${enabled ? 'ENABLED' : 'DISABLED'} on server "${scope.server}" (profile "${scope.profile}")`);
  io.out(`  db binding: ${info.db}`);
  io.out(`  AUTH_SECRET: ${info.authSecret}`);
  io.out(`  providers:   ${info.providers.length ? info.providers.join(', ') : 'none'}`);
  return 0;
}
