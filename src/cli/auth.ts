import { dropLegacyKeys, rotateSigningKey } from '../access/signing-keys.js';
import { AUTH_PREFIX } from '../config/prefix.js';
import { isSealed, loadMasterKey, unseal } from '../config/secrets.js';
import { existsSync } from 'node:fs';
import { checkFitness, detailOf, redactUrl } from '../store/fitness.js';
import { emptyState, readState, updateState, type Scope, type StoredState } from '../config/state.js';
import { describeStore, embeddedChoice, enableAuth, ENV_STORE, rotateSecret, storeChoiceFor, type StoreChoice } from '../config/auth-state.js';
import { openStoreAt, openStoreFor } from '../store/open.js';
import type { Store } from '../store/types.js';
import { setupLinkLine, setupOrigin } from '../auth/setup-link.js';
import { PROVIDERS_HELP, providersCommand } from './providers.js';
import { withEnvProviders } from '../config/env-providers.js';
import { parseCommand, scopeFrom, subcommandIn, type Subcommands, UsageError, type Io } from './common.js';
import { modeCommand, PASSPHRASE_HELP, passphraseCommand } from './passphrase.js';

export const AUTH_HELP = `gatehouse auth enable [--db NAME|embedded] [--skip-fitness]   turn the login screen on
                    [--public-url URL] [--host H] [--port N]   where the printed setup link points
gatehouse auth disable                              pass traffic straight through (users are kept)
gatehouse auth status [--json]                      show what is configured
gatehouse auth rotate-secret                        new signing secret: every session ends
gatehouse auth rotate-signing-key                   new key for X-Forwarded-Assertion: signs in 1 minute; the old one stays 10 more
${PASSPHRASE_HELP}
${PROVIDERS_HELP}`;

export async function authCommand(args: string[], io: Io): Promise<number> {
  const [sub = '', ...rest] = args;
  if (sub === 'providers') return providersCommand(rest, io);
  const parsed = parseCommand(args, io, {
    help: AUTH_HELP,
    words: 1,
    positionals: ['mode', 'passphrase'],
    options: {
      domain: { type: 'string' },
      json: { type: 'boolean' },
      db: { type: 'string' },
      'skip-fitness': { type: 'boolean' },
      'public-url': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const scope = scopeFrom(values, io.env);
  const masterKey = loadMasterKey(scope.home, io.env);
  const state = readState(scope);
  const run = subcommandIn(AUTH_SUBCOMMANDS, sub);
  if (!run) throw new UsageError(`unknown auth command "${sub}"\n${AUTH_HELP}`);
  return run({ scope, masterKey, state, values, positionals, io });
}

/** The flags `auth` subcommands take beyond --server/--profile. */
interface AuthFlags {
  domain?: string;
  json?: boolean;
  db?: string;
  'skip-fitness'?: boolean;
  'public-url'?: string;
  host?: string;
  port?: string;
}

/** What one `auth SUB …` gets: where it runs, that server's master key and state, and what was typed. */
interface AuthContext {
  scope: Scope;
  masterKey: Buffer;
  state: StoredState | null;
  values: AuthFlags;
  positionals: string[];
  io: Io;
}

const AUTH_SUBCOMMANDS: Subcommands<AuthContext> = {
  enable: ({ scope, state, masterKey, values, io }) => {
    const origin = linkOrigin(values, io.env);
    return enable(scope, state, masterKey, values.db ?? null, values['skip-fitness'] ?? false, origin, io);
  },
  disable: disableAuth,
  mode: ({ positionals, values, scope, io }) => modeCommand(positionals[0], values.domain, scope, io),
  passphrase: ({ positionals, scope, io }) => passphraseCommand(positionals[0], scope, io),
  status: ({ scope, state, masterKey, values, io }) => status(scope, state, masterKey, io, values.json ?? false),
  'rotate-secret': rotateAuthSecret,
  'rotate-signing-key': rotateAssertionKey,
};

function disableAuth({ scope, masterKey, io }: AuthContext): number {
  updateState(scope, (current) => {
    const next = current ?? enableAuth(null, masterKey, null);
    next.auth.enabled = false;
    return next;
  });
  io.out(`auth: DISABLED on server "${scope.server}" (profile "${scope.profile}") — traffic passes straight through; users are kept`);
  return 0;
}

const NEVER_ENABLED = 'auth was never enabled here; run `gatehouse auth enable` first';

async function rotateAuthSecret({ scope, state, masterKey, io }: AuthContext): Promise<number> {
  if (!state) throw new UsageError(NEVER_ENABLED);
  updateState(scope, (current) => rotateSecret(current ?? state, masterKey));
  const store = await openStoreFor(scope, state, masterKey, io.env);
  try {
    await store.migrate();
    const ended = await store.deleteAllSessions();
    io.out(`✓ new signing secret; ${ended} session(s) ended — everyone signs in again`);
  } finally {
    await store.close();
  }
  return 0;
}

/** The keys are in the store every replica reads (architecture.md#access): the new one is published by each
 *  within seconds and signs a minute from now, when every verifier may have fetched it. */
async function rotateAssertionKey({ scope, state, masterKey, io }: AuthContext): Promise<number> {
  if (!state) throw new UsageError(NEVER_ENABLED);
  const store = await openStoreFor(scope, state, masterKey, io.env);
  try {
    await store.migrate();
    const key = await rotateSigningKey(store, masterKey, state.signing ?? null);
    if (state.signing) dropLegacyKeys(scope);
    const at = new Date(key.signsFrom).toISOString();
    io.out(
      `✓ new assertion signing key ${key.kid}: running servers publish it within seconds and sign with it ` +
        `from ${at}; the previous key stays in the JWKS for 10 minutes after that`,
    );
  } finally {
    await store.close();
  }
  return 0;
}

const DB_KINDS = new Set(['postgres', 'mysql', 'mongodb']);

const isDbBinding = (bindings: StoredState['bindings'], name: string): boolean => !!bindings[name] && DB_KINDS.has(bindings[name]!.kind);

/**
 * The store auth already keeps its users in, as `auth.db` would say it: a binding name, or null for the
 * embedded store / GATEHOUSE_DATABASE_URL; undefined when auth was never set up here, so there is
 * nothing to keep. A null auth.db once auth has run (it has a signing secret) is a choice, not "not
 * chosen yet": reading it as the latter moved a quick-start admin to an empty new database. A set
 * GATEHOUSE_DATABASE_URL is an explicit choice too, which a binding added later must not override.
 */
function keptDb(state: StoredState | null, env: NodeJS.ProcessEnv): string | null | undefined {
  if (state?.auth.db && isDbBinding(state.bindings, state.auth.db)) return state.auth.db;
  if (state?.auth.secret || env.GATEHOUSE_DATABASE_URL) return null;
  return undefined;
}

async function enable(scope: Scope, state: StoredState | null, masterKey: Buffer, db: string | null, skipFitness: boolean, origin: string, io: Io): Promise<number> {
  const bindings = state?.bindings ?? {};
  // --db embedded: back to the built-in SQLite store even while database bindings exist.
  if (db === 'embedded') return (await fitEmbedded(scope, skipFitness, io)) ? finishEnable(scope, state, masterKey, null, origin, io) : refused(scope, state, masterKey, io);
  if (db && !isDbBinding(bindings, db)) throw new UsageError(`there is no database binding named "${db}" (see \`gatehouse bindings\`)`);
  // --db, else the database auth already keeps its users in (re-enabling, or binding a database after
  // the quick start, must not move to another database and leave every account behind), else — on a
  // setup that never ran auth — the first database binding that passes, else the embedded store.
  const kept = db ? undefined : keptDb(state, io.env);
  if (kept !== undefined) io.out(keptLine(scope, state, masterKey, kept, io.env));
  if (kept === null && !io.env.GATEHOUSE_DATABASE_URL && !(await fitEmbedded(scope, skipFitness, io))) return refused(scope, state, masterKey, io);
  if (kept === null) return finishEnable(scope, state, masterKey, null, origin, io);
  const candidates = db ? [db] : kept ? [kept] : Object.keys(bindings).filter((n) => isDbBinding(bindings, n));
  let chosen: string | null = null;
  for (const name of candidates) {
    if (skipFitness || (await fit(name, unsealIfNeeded(bindings[name]!.url, masterKey), io))) {
      chosen = name;
      break;
    }
  }
  if (candidates.length && !chosen) {
    io.err(`gatehouse: no database binding passed the fitness check; auth was not changed (${stillLine(scope, state, masterKey, io.env)})`);
    return 1;
  }
  if (!chosen && !io.env.GATEHOUSE_DATABASE_URL && !(await fitEmbedded(scope, skipFitness, io))) return refused(scope, state, masterKey, io);
  return finishEnable(scope, state, masterKey, chosen, origin, io);
}

/** The embedded store's fitness check (same steps as a bound database); true when it passed or was skipped. */
async function fitEmbedded(scope: Scope, skip: boolean, io: Io): Promise<boolean> {
  return skip || fit('embedded', embeddedChoice(scope).url, io);
}

function refused(scope: Scope, state: StoredState | null, masterKey: Buffer, io: Io): number {
  io.err(`gatehouse: the embedded store failed its fitness check; auth was not changed (${stillLine(scope, state, masterKey, io.env)})`);
  return 1;
}

/** "users stay in …", and how to move them elsewhere when other databases are bound. */
function keptLine(scope: Scope, state: StoredState | null, masterKey: Buffer, kept: string | null, env: NodeJS.ProcessEnv): string {
  const others = Object.keys(state?.bindings ?? {}).filter((n) => n !== kept && isDbBinding(state!.bindings, n));
  if (kept) return `users stay in "${kept}" (another database: \`gatehouse auth enable --db NAME\`)`;
  const here = describeStore(storeChoiceFor(scope, state ?? emptyState(), masterKey, env));
  if (!others.length) return `users stay in ${here}`;
  const from = env.GATEHOUSE_DATABASE_URL ? ENV_STORE : 'embedded';
  return `users stay in ${here}; to keep them in "${others[0]}" instead: \`gatehouse migrate-users --from ${from} --to ${others[0]}\`, then \`gatehouse auth enable --db ${others[0]}\``;
}

/** Runs and prints the fitness check of one binding; true when every step passed. */
async function fit(name: string, url: string, io: Io): Promise<boolean> {
  io.out(`fitness check: ${name} (${redactUrl(url).replace('****', '<set>')})`);
  const result = await checkFitness(url);
  for (const s of result.steps) io.out(`  ${s.ok ? '✓' : '✗'} ${s.step}${s.ok ? '' : ` — ${s.detail}${s.hint ? `\n      hint: ${s.hint}` : ''}`}`);
  return result.ok;
}

/** What `auth status` still says after a refused enable: on or off, and which store. */
function stillLine(scope: Scope, state: StoredState | null, masterKey: Buffer, env: NodeJS.ProcessEnv): string {
  const where = currentChoice(scope, state, masterKey, env);
  return `it is still ${state?.auth.enabled ? 'ENABLED' : 'DISABLED'}${where ? ` with users in ${describeStore(where)}` : ''}`;
}

/** The store the current state points at; null when that cannot be told (a binding gone from the file). */
function currentChoice(scope: Scope, state: StoredState | null, masterKey: Buffer, env: NodeJS.ProcessEnv): StoreChoice | null {
  try {
    return storeChoiceFor(scope, state ?? emptyState(), masterKey, env);
  } catch {
    return null;
  }
}

async function finishEnable(scope: Scope, state: StoredState | null, masterKey: Buffer, chosen: string | null, origin: string, io: Io): Promise<number> {
  const next = enableAuth(state, masterKey, chosen);
  const target = storeChoiceFor(scope, next, masterKey, io.env);
  let store: Store;
  try {
    store = await openStoreAt(target.url, io.env);
    await store.migrate();
  } catch (err) {
    // Nothing was written: status keeps naming the store auth really uses.
    io.err(`gatehouse: could not open ${describeStore(target)} (${detailOf(err, target.url)}); auth was not changed (${stillLine(scope, state, masterKey, io.env)})`);
    return 1;
  }
  try {
    // Re-read under the lock: a binding or provider added while the fitness check ran is kept.
    const written = updateState(scope, (current) => enableAuth(current, masterKey, chosen));
    next.providers = written.providers;
    next.bindings = written.bindings;
    const where = chosen ? `"${chosen}" (${next.bindings[chosen]!.kind})` : target.source === 'env' ? describeStore(target) : 'the embedded store';
    io.out(`auth: ENABLED on server "${scope.server}" (profile "${scope.profile}") — users in ${where}`);
    await warnIfLeftBehind(scope, state, masterKey, target, store, io);
    io.out('✓ email + password sign-in, sessions');
    const smtp = Object.values(next.bindings).some((b) => b.kind === 'smtp');
    io.out(smtp ? '✓ password reset and email verification (smtp bound)' : '– password reset: bind smtp to enable → `gatehouse bind smtp smtp://…`');
    const providers = withEnvProviders(next.providers, io.env).map((p) => p.name);
    io.out(providers.length ? `✓ social login: ${providers.join(', ')}` : '– social login:   `gatehouse auth providers add google …`');
    const line = await setupLinkLine(store, origin, AUTH_PREFIX, Date.now());
    if (line) io.out(line);
  } finally {
    await store.close();
  }
  return 0;
}

/**
 * After `--db` moved auth to another store: when the new one has no users and the old one has some,
 * say so and how to copy them — the accounts are not lost, but nobody can sign in with them here.
 */
async function warnIfLeftBehind(scope: Scope, state: StoredState | null, masterKey: Buffer, target: StoreChoice, store: Store, io: Io): Promise<void> {
  const before = state?.auth.secret ? currentChoice(scope, state, masterKey, io.env) : null;
  if (!before || before.url === target.url || (await store.countUsers()) > 0) return;
  const left = await countUsersAt(before, io.env);
  if (!left) return;
  io.err(`gatehouse: warning: ${describeStore(target)} has no users yet, while ${left} user(s) stay behind in ${describeStore(before)}: copy them with \`gatehouse migrate-users --from ${before.name} --to ${target.name}\` (everyone signs in again)`);
}

/** Users in a store, or 0 when it cannot be read (then there is nothing to warn about that we know of). */
async function countUsersAt(choice: StoreChoice, env: NodeJS.ProcessEnv): Promise<number> {
  // Opening the embedded store would create its file; a missing file holds no users.
  if (choice.source === 'embedded' && !existsSync(choice.url.slice('sqlite:'.length))) return 0;
  try {
    const store = await openStoreAt(choice.url, env);
    try {
      return await store.countUsers();
    } finally {
      await store.close();
    }
  } catch {
    return 0;
  }
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

function status(scope: Scope, state: StoredState | null, masterKey: Buffer, io: Io, json: boolean): number {
  const enabled = state?.auth.enabled ?? false;
  const choice = currentChoice(scope, state, masterKey, io.env);
  const info = {
    server: scope.server,
    profile: scope.profile,
    enabled,
    mode: enabled ? state!.auth.mode : 'off',
    db: choice?.name ?? state?.auth.db ?? 'embedded',
    database: choice ? describeStore(choice) : `binding "${state?.auth.db}" (missing from the state file)`,
    authSecret: state?.auth.secret ? '<set>' : '<not set>',
    providers: withEnvProviders(state?.providers ?? [], io.env).map((p) => p.name),
  };
  if (json) {
    io.out(JSON.stringify(info, null, 2));
    return 0;
  }
  io.out(`auth: ${enabled ? 'ENABLED' : 'DISABLED'} on server "${scope.server}" (profile "${scope.profile}")`);
  io.out(`  database:    ${info.database}`);
  // A binding wins over the variable; someone who set the variable expects it to be used.
  if (choice?.source === 'binding' && io.env.GATEHOUSE_DATABASE_URL) io.out(`               (${ENV_STORE} is set but not used: the binding takes precedence)`);
  io.out(`  AUTH_SECRET: ${info.authSecret}`);
  io.out(`  providers:   ${info.providers.length ? info.providers.join(', ') : 'none'}`);
  const passphrase = io.env.GATEHOUSE_PASSPHRASE_HASH ? 'from GATEHOUSE_PASSPHRASE_HASH' : state?.auth.passphrase ? '<set>' : '<not set>';
  if (enabled) io.out(`  mode:        ${info.mode}${info.mode === 'passphrase' ? ` (passphrase ${passphrase})` : info.mode === 'org-only' ? ` (${state!.auth.allowedDomains.join(', ')})` : ''}${io.env.GATEHOUSE_AUTH_MODE ? ` — GATEHOUSE_AUTH_MODE=${io.env.GATEHOUSE_AUTH_MODE} overrides it` : ''}`);
  return 0;
}
