// `gatehouse auth …`: turn the login screen on (auth-enable.ts) or off, show what is configured, rotate
// the session secret or the assertion signing key; `auth mode|passphrase` and `auth providers` have
// their own modules.
import { dropLegacyKeys, rotateSigningKey } from '../access/signing-keys.js';
import { loadMasterKey } from '../config/secrets.js';
import { readState, updateState, type Scope, type StoredState } from '../config/state.js';
import { describeStore, enableAuth, ENV_STORE, rotateSecret } from '../config/auth-state.js';
import { openStoreFor } from '../store/open.js';
import { setupOrigin } from '../auth/setup-link.js';
import { PROVIDERS_HELP, providersCommand } from './providers.js';
import { withEnvProviders } from '../config/env-providers.js';
import { parseCommand, scopeFrom, subcommandOf, type Subcommands, UsageError, type Io } from './common.js';
import { modeCommand, PASSPHRASE_HELP, passphraseCommand } from './passphrase.js';
import { currentChoice, enable } from './auth-enable.js';

const ROTATE_SIGNING_KEY_USAGE =
  'gatehouse auth rotate-signing-key                   ' +
  'new key for X-Forwarded-Assertion: signs in 1 minute; the old one stays 10 more';

export const AUTH_HELP = `gatehouse auth enable [--db NAME|embedded] [--skip-fitness]   turn the login screen on
                    [--public-url URL] [--host H] [--port N]   where the printed setup link points
gatehouse auth disable                              pass traffic straight through (users are kept)
gatehouse auth status [--json]                      show what is configured
gatehouse auth rotate-secret                        new signing secret: every session ends
${ROTATE_SIGNING_KEY_USAGE}
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
  const run = subcommandOf(AUTH_SUBCOMMANDS, 'auth', sub, AUTH_HELP);
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
  const where = `server "${scope.server}" (profile "${scope.profile}")`;
  io.out(`auth: DISABLED on ${where} — traffic passes straight through; users are kept`);
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

/** The status line for the sign-in mode: who it admits, and whether a variable overrides it. */
function modeLine(mode: string, state: StoredState, env: NodeJS.ProcessEnv): string {
  const passphrase = env.GATEHOUSE_PASSPHRASE_HASH
    ? 'from GATEHOUSE_PASSPHRASE_HASH'
    : state.auth.passphrase
      ? '<set>'
      : '<not set>';
  const detail =
    mode === 'passphrase'
      ? ` (passphrase ${passphrase})`
      : mode === 'org-only'
        ? ` (${state.auth.allowedDomains.join(', ')})`
        : '';
  const override = env.GATEHOUSE_AUTH_MODE ? ` — GATEHOUSE_AUTH_MODE=${env.GATEHOUSE_AUTH_MODE} overrides it` : '';
  return `  mode:        ${mode}${detail}${override}`;
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
  if (choice?.source === 'binding' && io.env.GATEHOUSE_DATABASE_URL)
    io.out(`               (${ENV_STORE} is set but not used: the binding takes precedence)`);
  io.out(`  AUTH_SECRET: ${info.authSecret}`);
  io.out(`  providers:   ${info.providers.length ? info.providers.join(', ') : 'none'}`);
  if (enabled) io.out(modeLine(info.mode, state!, io.env));
  return 0;
}
