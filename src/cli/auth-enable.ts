// `gatehouse auth enable`: which store auth keeps its users in (--db, else the one it already uses, else
// the first database binding that passes the fitness check, else the embedded store), the check itself,
// and the state written only once that store opened — a refused enable changes nothing.
import { existsSync } from 'node:fs';
import { AUTH_PREFIX } from '../config/prefix.js';
import { isSealed, unseal } from '../config/secrets.js';
import { checkFitness, detailOf, redactUrl } from '../store/fitness.js';
import { emptyState, updateState, type Scope, type StoredState } from '../config/state.js';
import {
  describeStore,
  embeddedChoice,
  enableAuth,
  ENV_STORE,
  storeChoiceFor,
  type StoreChoice,
} from '../config/auth-state.js';
import { openStoreAt } from '../store/open.js';
import type { Store } from '../store/types.js';
import { setupLinkLine } from '../auth/setup-link.js';
import { withEnvProviders } from '../config/env-providers.js';
import { UsageError, type Io } from './common.js';

const DB_KINDS = new Set(['postgres', 'mysql', 'mongodb']);

const isDbBinding = (bindings: StoredState['bindings'], name: string): boolean =>
  !!bindings[name] && DB_KINDS.has(bindings[name]!.kind);

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

export async function enable(
  scope: Scope,
  state: StoredState | null,
  masterKey: Buffer,
  db: string | null,
  skipFitness: boolean,
  origin: string,
  io: Io,
): Promise<number> {
  const bindings = state?.bindings ?? {};
  // --db embedded: back to the built-in SQLite store even while database bindings exist.
  if (db === 'embedded')
    return (await fitEmbedded(scope, skipFitness, io))
      ? finishEnable(scope, state, masterKey, null, origin, io)
      : refused(scope, state, masterKey, io);
  if (db && !isDbBinding(bindings, db))
    throw new UsageError(`there is no database binding named "${db}" (see \`gatehouse bindings\`)`);
  // --db, else the database auth already keeps its users in (re-enabling, or binding a database after
  // the quick start, must not move to another database and leave every account behind), else — on a
  // setup that never ran auth — the first database binding that passes, else the embedded store.
  const kept = db ? undefined : keptDb(state, io.env);
  if (kept !== undefined) io.out(keptLine(scope, state, masterKey, kept, io.env));
  if (kept === null && !io.env.GATEHOUSE_DATABASE_URL && !(await fitEmbedded(scope, skipFitness, io)))
    return refused(scope, state, masterKey, io);
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
    io.err(notChanged('no database binding passed the fitness check', stillLine(scope, state, masterKey, io.env)));
    return 1;
  }
  if (!chosen && !io.env.GATEHOUSE_DATABASE_URL && !(await fitEmbedded(scope, skipFitness, io)))
    return refused(scope, state, masterKey, io);
  return finishEnable(scope, state, masterKey, chosen, origin, io);
}

/** The embedded store's fitness check (same steps as a bound database); true when it passed or was skipped. */
async function fitEmbedded(scope: Scope, skip: boolean, io: Io): Promise<boolean> {
  return skip || fit('embedded', embeddedChoice(scope).url, io);
}

function refused(scope: Scope, state: StoredState | null, masterKey: Buffer, io: Io): number {
  io.err(notChanged('the embedded store failed its fitness check', stillLine(scope, state, masterKey, io.env)));
  return 1;
}

/** "users stay in …", and how to move them elsewhere when other databases are bound. */
function keptLine(
  scope: Scope,
  state: StoredState | null,
  masterKey: Buffer,
  kept: string | null,
  env: NodeJS.ProcessEnv,
): string {
  const others = Object.keys(state?.bindings ?? {}).filter((n) => n !== kept && isDbBinding(state!.bindings, n));
  if (kept) return `users stay in "${kept}" (another database: \`gatehouse auth enable --db NAME\`)`;
  const here = describeStore(storeChoiceFor(scope, state ?? emptyState(), masterKey, env));
  if (!others.length) return `users stay in ${here}`;
  const from = env.GATEHOUSE_DATABASE_URL ? ENV_STORE : 'embedded';
  const move = `\`gatehouse migrate-users --from ${from} --to ${others[0]}\``;
  const enable = `\`gatehouse auth enable --db ${others[0]}\``;
  return `users stay in ${here}; to keep them in "${others[0]}" instead: ${move}, then ${enable}`;
}

/** Runs and prints the fitness check of one binding; true when every step passed. */
async function fit(name: string, url: string, io: Io): Promise<boolean> {
  io.out(`fitness check: ${name} (${redactUrl(url).replace('****', '<set>')})`);
  const result = await checkFitness(url);
  for (const s of result.steps)
    io.out(`  ${s.ok ? '✓' : '✗'} ${s.step}${s.ok ? '' : ` — ${s.detail}${s.hint ? `\n      hint: ${s.hint}` : ''}`}`);
  return result.ok;
}

/** What `auth status` still says after a refused enable: on or off, and which store. */
function stillLine(scope: Scope, state: StoredState | null, masterKey: Buffer, env: NodeJS.ProcessEnv): string {
  const where = currentChoice(scope, state, masterKey, env);
  const users = where ? ` with users in ${describeStore(where)}` : '';
  return `it is still ${state?.auth.enabled ? 'ENABLED' : 'DISABLED'}${users}`;
}

/** A refused enable: what went wrong, that nothing was written, and what `auth status` still says. */
function notChanged(problem: string, still: string): string {
  return `gatehouse: ${problem}; auth was not changed (${still})`;
}

/** The store the current state points at; null when that cannot be told (a binding gone from the file). */
export function currentChoice(
  scope: Scope,
  state: StoredState | null,
  masterKey: Buffer,
  env: NodeJS.ProcessEnv,
): StoreChoice | null {
  try {
    return storeChoiceFor(scope, state ?? emptyState(), masterKey, env);
  } catch {
    return null;
  }
}

async function finishEnable(
  scope: Scope,
  state: StoredState | null,
  masterKey: Buffer,
  chosen: string | null,
  origin: string,
  io: Io,
): Promise<number> {
  const next = enableAuth(state, masterKey, chosen);
  const target = storeChoiceFor(scope, next, masterKey, io.env);
  let store: Store;
  try {
    store = await openStoreAt(target.url, io.env);
    await store.migrate();
  } catch (err) {
    // Nothing was written: status keeps naming the store auth really uses.
    const problem = `could not open ${describeStore(target)} (${detailOf(err, target.url)})`;
    io.err(notChanged(problem, stillLine(scope, state, masterKey, io.env)));
    return 1;
  }
  try {
    // Re-read under the lock: a binding or provider added while the fitness check ran is kept.
    const written = updateState(scope, (current) => enableAuth(current, masterKey, chosen));
    next.providers = written.providers;
    next.bindings = written.bindings;
    const where = chosen
      ? `"${chosen}" (${next.bindings[chosen]!.kind})`
      : target.source === 'env'
        ? describeStore(target)
        : 'the embedded store';
    io.out(`auth: ENABLED on server "${scope.server}" (profile "${scope.profile}") — users in ${where}`);
    await warnIfLeftBehind(scope, state, masterKey, target, store, io);
    io.out('✓ email + password sign-in, sessions');
    const smtp = Object.values(next.bindings).some((b) => b.kind === 'smtp');
    io.out(
      smtp
        ? '✓ password reset and email verification (smtp bound)'
        : '– password reset: bind smtp to enable → `gatehouse bind smtp smtp://…`',
    );
    const providers = withEnvProviders(next.providers, io.env).map((p) => p.name);
    io.out(
      providers.length
        ? `✓ social login: ${providers.join(', ')}`
        : '– social login:   `gatehouse auth providers add google …`',
    );
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
async function warnIfLeftBehind(
  scope: Scope,
  state: StoredState | null,
  masterKey: Buffer,
  target: StoreChoice,
  store: Store,
  io: Io,
): Promise<void> {
  const before = state?.auth.secret ? currentChoice(scope, state, masterKey, io.env) : null;
  if (!before || before.url === target.url || (await store.countUsers()) > 0) return;
  const left = await countUsersAt(before, io.env);
  if (!left) return;
  const copy = `\`gatehouse migrate-users --from ${before.name} --to ${target.name}\``;
  io.err(
    `gatehouse: warning: ${describeStore(target)} has no users yet, while ${left} user(s) stay behind in ` +
      `${describeStore(before)}: copy them with ${copy} (everyone signs in again)`,
  );
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

function unsealIfNeeded(value: string, key: Buffer): string {
  return isSealed(value) ? unseal(value, key) : value;
}
