// `gatehouse migrate-users`: copies the accounts of one store into another, so moving auth to a new
// database (`auth enable --db NAME`) does not leave everyone behind. Users keep their ids (the app knows
// them by X-Forwarded-User), password hashes, roles and flags; linked social logins, API keys and open
// invitations come along. Sessions do not: everyone signs in again on the new store.
import { existsSync } from 'node:fs';
import { loadMasterKey, isSealed, unseal } from '../config/secrets.js';
import { emptyState, readState, type Scope, type StoredState } from '../config/state.js';
import { describeStore, embeddedChoice, ENV_STORE, type StoreChoice } from '../config/auth-state.js';
import { openStoreAt } from '../store/open.js';
import { detailOf } from '../store/fitness.js';
import { isStoreError, type Store, type User } from '../store/types.js';
import { CommandError, parseCommand, scopeFrom, UsageError, type Io } from './common.js';

export const MIGRATE_HELP = `gatehouse migrate-users --from embedded|NAME --to embedded|NAME [--dry-run]
                    copy users (same ids, passwords), social logins, API keys and invitations into a
                    store without users; sessions are not copied (everyone signs in again)`;

const DB_KINDS = new Set(['postgres', 'mysql', 'mongodb']);
const PAGE = 500;

/** What has been copied so far; printed as it stands when a copy stops half-way. */
interface Copied {
  users: number;
  identities: number;
  keys: number;
  invitations: number;
  passkeys?: number;
  factors: number; // second factors (authenticator apps with their recovery codes)
}

export async function migrateCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, {
    help: MIGRATE_HELP,
    options: { from: { type: 'string' }, to: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.from || !values.to) throw new UsageError(`migrate-users needs --from and --to\n${MIGRATE_HELP}`);
  const scope = scopeFrom(values, io.env);
  const masterKey = loadMasterKey(scope.home, io.env);
  const state = readState(scope) ?? emptyState();
  const from = resolveStore(scope, state, masterKey, values.from, io.env);
  const to = resolveStore(scope, state, masterKey, values.to, io.env);
  if (from.url === to.url) throw new UsageError(`--from and --to name the same store (${describeStore(from)})`);
  // Opening the embedded store creates its file; an absent file means there is nothing to copy.
  if (from.source === 'embedded' && !existsSync(from.url.slice('sqlite:'.length)))
    throw new CommandError(`${describeStore(from)} does not exist yet: there are no users to copy`);

  const source = await openMigrated(from, io.env);
  try {
    const target = await openMigrated(to, io.env);
    try {
      return await migrate(source, target, from, to, values['dry-run'] ?? false, io);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** `embedded`, `GATEHOUSE_DATABASE_URL` (when set) or a database binding's name → the store it means. */
function resolveStore(
  scope: Scope,
  state: StoredState,
  masterKey: Buffer,
  name: string,
  env: NodeJS.ProcessEnv,
): StoreChoice {
  if (name === 'embedded') return embeddedChoice(scope);
  if (name === ENV_STORE) {
    if (!env.GATEHOUSE_DATABASE_URL) throw new UsageError(`${ENV_STORE} is not set`);
    return { source: 'env', name, url: env.GATEHOUSE_DATABASE_URL };
  }
  const binding = state.bindings[name];
  if (!binding || !DB_KINDS.has(binding.kind))
    throw new UsageError(`there is no database binding named "${name}" (see \`gatehouse bindings\`; or embedded)`);
  return { source: 'binding', name, url: isSealed(binding.url) ? unseal(binding.url, masterKey) : binding.url };
}

/** Opens a store and brings its schema up to date (an old source must be readable; a new target needs tables). */
async function openMigrated(choice: StoreChoice, env: NodeJS.ProcessEnv): Promise<Store> {
  let store: Store | undefined;
  try {
    store = await openStoreAt(choice.url, env);
    await store.migrate();
    return store;
  } catch (err) {
    await store?.close().catch(() => {});
    throw new CommandError(`could not open ${describeStore(choice)}: ${detailOf(err, choice.url)}`);
  }
}

/**
 * Kept in the target (as a counter, which every backend has) while a copy runs: a re-run that finds it
 * resumes the interrupted copy instead of refusing a store that holds only part of the accounts.
 */
const MARK = 'gatehouse:migrate-users:incomplete';
const MARK_MS = 10 * 365 * 86_400_000;

async function migrate(
  source: Store,
  target: Store,
  from: StoreChoice,
  to: StoreChoice,
  dryRun: boolean,
  io: Io,
): Promise<number> {
  const now = new Date();
  const users = await allUsers(source);
  // Only into an empty store (or one this command left half-done): merging two sets of accounts —
  // same email, different people or passwords — has no answer that is safe to pick for someone.
  const present = await target.countUsers();
  const resuming = present > 0 && (await target.peekCounter(MARK, now)) !== null;
  if (present > 0 && !resuming) {
    throw new CommandError(
      `${describeStore(to)} already has ${present} user(s); ` +
        'migrate-users only copies into a store without users, so nothing was copied',
    );
  }
  if (dryRun) {
    const keys = (await source.listApiKeys()).length;
    io.out(
      `dry run: would copy ${users.length} user(s) and their ${keys} API key(s), social logins and invitations ` +
        `from ${describeStore(from)} to ${describeStore(to)}; nothing was written`,
    );
    return 0;
  }
  if (resuming)
    io.out(`resuming an interrupted copy: the ${present} user(s) already in ${describeStore(to)} are skipped`);
  const copied: Copied = { users: 0, identities: 0, keys: 0, invitations: 0, factors: 0 };
  try {
    await target.hit(MARK, MARK_MS, now);
    await copyAll(source, target, users, copied);
    await target.clearCounter(MARK);
  } catch (err) {
    io.err(`gatehouse: the copy stopped half-way (${detailOf(err, to.url)}); copied so far: ${summary(copied)}`);
    io.err(
      `gatehouse: run the same command again to finish it: what is already in ${describeStore(to)} is skipped, ` +
        `and ${describeStore(from)} was not changed`,
    );
    return 1;
  }
  io.out(`✓ copied ${summary(copied)} from ${describeStore(from)} to ${describeStore(to)}`);
  io.out('  sessions were not copied: everyone signs in again (same email and password)');
  io.out(`  auth still uses the store it used before; to switch: \`gatehouse auth enable --db ${to.name}\``);
  return 0;
}

/** Users first (logins, keys and tokens refer to them); whatever a previous, interrupted run copied is skipped. */
async function copyAll(source: Store, target: Store, users: User[], copied: Copied): Promise<void> {
  for (const user of users) {
    if (!(await target.findUserById(user.id))) {
      await target.importUser(user);
      copied.users++;
    }
    for (const identity of await source.listIdentities(user.id))
      if (await skipDuplicate(() => target.linkIdentity(identity))) copied.identities++;
    // Passkeys keep working after the move: they are bound to the public URL, not to the database.
    for (const passkey of await source.listPasskeys(user.id))
      if (await skipDuplicate(() => target.createPasskey(passkey))) copied.passkeys = (copied.passkeys ?? 0) + 1;
    await copyFactors(source, target, user.id, copied);
  }
  for (const key of await source.listApiKeys()) {
    if (await skipDuplicate(() => target.createApiKey(key))) copied.keys++;
    // createApiKey stores a fresh key; carry over what happened to it since (both are idempotent).
    if (key.revoked) await target.revokeApiKey(key.id);
    if (key.lastUsedAt) await target.touchApiKey(key.id, key.lastUsedAt);
  }
  // Open invitations (bound to an email, not a user) still mean something on the new store; setup,
  // reset and verification links are short-lived and tied to the old one, so they are left behind.
  for (const token of await source.listTokens('invite', new Date()))
    if (await skipDuplicate(() => target.createToken(token))) copied.invitations++;
}

/**
 * A second factor goes with its user (a store switch must not quietly turn two-step sign-in off): the
 * sealed secret as it is (the master key is the same), its last used step, and the recovery-code hashes.
 */
async function copyFactors(source: Store, target: Store, userId: string, copied: Copied): Promise<void> {
  const totp = await source.findTotp(userId);
  if (!totp?.confirmed) return;
  if (await skipDuplicate(() => target.saveTotp(totp))) copied.factors++;
  await target.replaceRecoveryCodes(userId, await source.listRecoveryCodes(userId), new Date());
}

/** Runs one insert; false when the row is already there (copied by an earlier run). */
async function skipDuplicate(insert: () => Promise<void>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (err) {
    if (isStoreError(err, 'DUPLICATE')) return false;
    throw err;
  }
}

async function allUsers(store: Store): Promise<User[]> {
  const users: User[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.listUsers({ limit: PAGE, offset });
    users.push(...page);
    if (page.length < PAGE) return users;
  }
}

function summary(c: Copied): string {
  const parts = [`${c.users} user(s)`, `${c.identities} social login(s)`, `${c.keys} API key(s)`];
  parts.push(`${c.invitations} invitation(s)`);
  // Copied only where the source had any: older stores have none to speak of.
  if (c.passkeys) parts.push(`${c.passkeys} passkey(s)`);
  if (c.factors) parts.push(`${c.factors} second factor(s)`);
  return parts.join(', ');
}
