import { resetFactors } from '../mfa/factors.js';
import { userRow } from '../accounts/user-row.js';
import { normalizeEmail } from '../accounts/email.js';
import { createLockout } from '../security/lockout.js';
import { GROUP_NAME, ROLE_NAME, type Store, type User } from '../store/types.js';
import { createInvite, inviteLink, InviteError } from '../session/invites.js';
import {
  CommandError,
  parseCommand,
  parseDuration,
  scopeFrom,
  subcommandOf,
  type Subcommands,
  UsageError,
  withStore,
  type Io,
} from './common.js';
import { createAuditLog } from '../security/audit-log.js';
import { smtpBindingOf } from '../config/auth-state.js';
import { loadMasterKey } from '../config/secrets.js';
import { emptyState, readState, type Scope } from '../config/state.js';
import { createSmtpMailer } from '../mail/mailer.js';
import { factorChangedMail } from '../mfa/mail.js';

const RESET_MFA_USAGE =
  'gatehouse users reset-mfa EMAIL                  ' +
  'remove their authenticator app, recovery codes and passkeys; end their sessions';

export const USERS_HELP = `gatehouse users list [--json]
gatehouse users show EMAIL
gatehouse users disable EMAIL · users enable EMAIL · users delete EMAIL
gatehouse users set-role EMAIL ROLE               admin, member, or any name such as operator (a-z, 0-9, -)
gatehouse users groups EMAIL [--add G]… [--remove G]…   groups for access rules, sent as X-Forwarded-Groups
gatehouse users invite EMAIL [--role R] [--expires 7d]   a single-use sign-up link (works with sign-up "invite")
${RESET_MFA_USAGE}`;

/** One user in `users list`, locally and with --remote alike. */
export const userLine = (u: { email: string; role: string; disabled: boolean; name: string }) =>
  `${u.email.padEnd(32)} ${u.role.padEnd(7)} ${u.disabled ? 'disabled' : 'active  '} ${u.name}`;

export const USERS_OPTIONS = {
  json: { type: 'boolean' },
  expires: { type: 'string' },
  role: { type: 'string' },
  add: { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
} as const;

export async function usersCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, { help: USERS_HELP, words: 1, positionals: true, options: USERS_OPTIONS });
  if (typeof parsed === 'number') return parsed;
  const {
    words: [sub = ''],
    values,
    positionals,
  } = parsed;
  const scope = scopeFrom(values, io.env);
  return withStore(scope, io, async (store) => {
    const now = new Date();
    const run = subcommandOf(USERS_SUBCOMMANDS, 'users', sub, USERS_HELP);
    return run({ sub, values, positionals, scope, store, io, now });
  });
}

/** The flags `users` takes beyond --server/--profile. */
interface UsersFlags {
  json?: boolean;
  expires?: string;
  role?: string;
  add?: string[];
  remove?: string[];
}

/** What one `users SUB …` gets: the words and flags typed, and the store, opened for it. */
interface UsersContext {
  sub: string;
  values: UsersFlags;
  positionals: string[];
  scope: Scope;
  store: Store;
  io: Io;
  now: Date;
}

/** The user the EMAIL argument names, or why there is none. */
async function namedUser({ sub, positionals, store }: UsersContext): Promise<User> {
  const email = normalizeEmail(positionals[0]);
  if (!email) throw new UsageError(`users ${sub} needs an EMAIL`);
  const user = await store.findUserByEmail(email);
  if (!user) throw new CommandError(`there is no user ${email}`);
  return user;
}

/** Where links in messages point: GATEHOUSE_PUBLIC_URL, else this machine at GATEHOUSE_PORT (default 4180). */
const publicOrigin = (env: NodeJS.ProcessEnv) =>
  env.GATEHOUSE_PUBLIC_URL?.replace(/\/$/, '') ?? `http://127.0.0.1:${env.GATEHOUSE_PORT ?? 4180}`;

async function listUsers({ store, values, io }: UsersContext): Promise<number> {
  const users: User[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await store.listUsers({ limit: 500, offset });
    users.push(...page);
    if (page.length < 500) break;
  }
  if (values.json) io.out(JSON.stringify(users.map(userRow), null, 2));
  else if (!users.length) io.out('no users yet');
  else for (const u of users) io.out(userLine(u));
  return 0;
}

async function showUser(c: UsersContext): Promise<number> {
  const u = await namedUser(c);
  const { store } = c;
  const [sessions, totp, recoveryCodes] = await Promise.all([
    store.listUserSessions(u.id),
    store.findTotp(u.id),
    store.countRecoveryCodes(u.id),
  ]);
  c.io.out(
    JSON.stringify(
      { ...userRow(u), sessions: sessions.length, secondFactor: totp?.confirmed ? { app: true, recoveryCodes } : null },
      null,
      2,
    ),
  );
  return 0;
}

async function disableUser(c: UsersContext): Promise<number> {
  const u = await namedUser(c);
  await c.store.updateUser(u.id, { disabled: true }, c.now);
  const ended = await c.store.deleteUserSessions(u.id);
  c.io.out(`✓ ${u.email} disabled; ${ended} session(s) ended (running servers notice within 2 s)`);
  return 0;
}

async function enableUser(c: UsersContext): Promise<number> {
  const u = await namedUser(c);
  await c.store.updateUser(u.id, { disabled: false }, c.now);
  await createLockout(c.store).clear(u.email);
  c.io.out(`✓ ${u.email} enabled (and any lockout cleared)`);
  return 0;
}

async function deleteUser(c: UsersContext): Promise<number> {
  const u = await namedUser(c);
  await c.store.deleteUser(u.id);
  c.io.out(`✓ ${u.email} deleted with their sessions, keys and linked logins`);
  return 0;
}

async function inviteUser({ positionals, values, store, io, now }: UsersContext): Promise<number> {
  if (!positionals[0]) throw new UsageError('users invite needs an EMAIL');
  const ttl = parseDuration(values.expires ?? '7d');
  if (ttl === null) throw new UsageError('--expires must be a duration such as 7d or 12h');
  let made;
  try {
    made = await createInvite(store, { email: positionals[0], role: values.role, ttlMs: ttl }, now);
  } catch (err) {
    if (err instanceof InviteError)
      throw err.badInput
        ? new UsageError(`users invite: ${err.message}`)
        : new CommandError(`users invite: ${err.message}`);
    throw err;
  }
  const { email, role, expiresAt } = made.invite;
  io.out(`✓ invitation for ${email} (${role}), valid until ${expiresAt.toISOString()}, single use:`);
  io.out(inviteLink(publicOrigin(io.env), '/auth', made.secret, made.invite.email));
  return 0;
}

async function setUserRole(c: UsersContext): Promise<number> {
  const u = await namedUser(c);
  const role = c.positionals[1];
  if (!role || !ROLE_NAME.test(role))
    throw new UsageError(
      'set-role needs a ROLE: admin, member, or a name of a-z, 0-9 and "-" (up to 32, starting with a letter)',
    );
  await c.store.updateUser(u.id, { role }, c.now);
  await c.store.deleteUserSessions(u.id); // the new role applies from the next sign-in
  c.io.out(`✓ ${u.email} is now ${role}; they sign in again`);
  return 0;
}

async function userGroups(c: UsersContext): Promise<number> {
  const u = await namedUser(c);
  const add = c.values.add ?? [];
  const remove = c.values.remove ?? [];
  const bad = [...add, ...remove].filter((g) => !GROUP_NAME.test(g));
  if (bad.length)
    throw new UsageError(
      `users groups: "${bad[0]}" is not a group name ` +
        '(a-z, 0-9, ".", "_", "-"; up to 64, starting with a letter or digit)',
    );
  const next = [...new Set([...u.groups.filter((g) => !remove.includes(g)), ...add])].sort();
  // Running servers see the change within 2 s.
  if (add.length || remove.length) await c.store.updateUser(u.id, { groups: next }, c.now);
  c.io.out(
    c.values.json
      ? JSON.stringify({ email: u.email, groups: next })
      : `${u.email}: ${next.length ? next.join(', ') : '(no groups)'}`,
  );
  return 0;
}

async function resetUserMfa(c: UsersContext): Promise<number> {
  const { store, io } = c;
  const u = await namedUser(c);
  const had = await resetFactors(store, u.id);
  const ended = await store.deleteUserSessions(u.id);
  await store.deleteTokens('mfa', u.id); // sign-ins waiting for their second step
  // The same audit line and email as the admin console's reset (auth/admin.ts).
  createAuditLog(io.err, Date.now, store).record('mfa.reset', {
    userId: u.id,
    email: u.email,
    detail: 'by gatehouse users reset-mfa',
  });
  await mailFactorReset(c.scope, io, u);
  const factor = had ? 'second factor removed' : 'had no second factor';
  io.out(`✓ ${u.email}: ${factor}; ${ended} session(s) ended (running servers notice within 2 s)`);
  return 0;
}

const USERS_SUBCOMMANDS: Subcommands<UsersContext> = {
  list: listUsers,
  show: showUser,
  disable: disableUser,
  enable: enableUser,
  delete: deleteUser,
  invite: inviteUser,
  'set-role': setUserRole,
  groups: userGroups,
  'reset-mfa': resetUserMfa,
};

/** Tells the user their second factor was reset, when mail is set up; a failure is said, not fatal. */
async function mailFactorReset(scope: Scope, io: Io, u: User): Promise<void> {
  const binding = smtpBindingOf(readState(scope) ?? emptyState(), loadMasterKey(scope.home, io.env), io.env);
  if (!binding) return;
  const mailer = await createSmtpMailer(binding);
  try {
    await mailer.send(
      factorChangedMail(io.env.GATEHOUSE_APP_NAME ?? 'Gatehouse', u, 'reset', `${publicOrigin(io.env)}/auth/sign-in`),
    );
  } catch (err) {
    io.err(`gatehouse: could not email ${u.email}: ${(err as Error).message}`);
  } finally {
    mailer.close();
  }
}
