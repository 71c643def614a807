// What `gatehouse --remote URL COMMAND SUB …` runs (architecture.md#devices): each a call to the server's
// admin API, printed with the local commands' own formatters so the output is the same.
import { describeRule, parseRules, type StoredRule } from '../access/rules.js';
import { UsageError, type Io, type Subcommands } from './common.js';
import { keyLine, type KeyListRow } from './keys.js';
import { api, type Login } from './remote-client.js';
import { userLine } from './users.js';

/** The flags the remote commands take. */
export interface RemoteFlags {
  json?: boolean;
  user?: string;
  name?: string;
  role?: string;
  expires?: string;
  scopes?: string;
  add?: string[];
  remove?: string[];
}

/** What one `--remote URL COMMAND SUB …` gets: the server and its token, and the words and flags typed. */
export interface RemoteContext {
  remote: Login;
  command: string | undefined;
  sub: string | undefined;
  values: RemoteFlags;
  positionals: string[];
  io: Io;
}

/** A required argument or flag, or the usage error that names it. */
function need({ command, sub }: RemoteContext, v: string | undefined, what: string): string {
  if (!v) throw new UsageError(`${command} ${sub} needs ${what}`);
  return v;
}

/** An email as the admin API's paths take it. */
const at = (text: string) => encodeURIComponent(text.trim().toLowerCase());

/** `/users/EMAIL` for the EMAIL argument. */
const userPath = (c: RemoteContext) => `/users/${at(need(c, c.positionals[0], 'an EMAIL'))}`;

async function listRemoteUsers({ remote, values, io }: RemoteContext): Promise<number> {
  const users: Array<Parameters<typeof userLine>[0]> = [];
  for (let offset = 0; ; offset += 500) {
    const page = await api(remote, 'GET', `/users?limit=500&offset=${offset}`);
    users.push(...page.users);
    if (page.users.length < 500) break;
  }
  if (values.json) io.out(JSON.stringify(users, null, 2));
  else if (!users.length) io.out('no users yet');
  else for (const u of users) io.out(userLine(u));
  return 0;
}

async function showRemoteUser(c: RemoteContext): Promise<number> {
  c.io.out(JSON.stringify(await api(c.remote, 'GET', userPath(c)), null, 2));
  return 0;
}

/** `users disable` and `users enable`: the API's path ends in the same word. */
async function disableOrEnableRemoteUser(c: RemoteContext): Promise<number> {
  const u = await api(c.remote, 'POST', `${userPath(c)}/${c.sub}`);
  c.io.out(
    c.sub === 'disable'
      ? `✓ ${u.email} disabled; their sessions ended`
      : `✓ ${u.email} enabled (and any lockout cleared)`,
  );
  return 0;
}

async function setRemoteUserRole(c: RemoteContext): Promise<number> {
  const u = await api(c.remote, 'POST', `${userPath(c)}/role`, { role: need(c, c.positionals[1], 'a ROLE') });
  c.io.out(`✓ ${u.email} is now ${u.role}; they sign in again`);
  return 0;
}

async function remoteUserGroups(c: RemoteContext): Promise<number> {
  const u = await api(c.remote, 'POST', `${userPath(c)}/groups`, {
    add: c.values.add ?? [],
    remove: c.values.remove ?? [],
  });
  c.io.out(
    c.values.json
      ? JSON.stringify({ email: u.email, groups: u.groups })
      : `${u.email}: ${u.groups.length ? u.groups.join(', ') : '(no groups)'}`,
  );
  return 0;
}

async function listRemoteKeys({ remote, values, io }: RemoteContext): Promise<number> {
  const { keys } = await api(remote, 'GET', `/keys${values.user ? `?user=${at(values.user)}` : ''}`);
  if (values.json) io.out(JSON.stringify(keys, null, 2));
  else if (!keys.length) io.out('no API keys');
  else for (const k of keys as KeyListRow[]) io.out(keyLine(k));
  return 0;
}

async function createRemoteKey(c: RemoteContext): Promise<number> {
  const { values, io } = c;
  const body = {
    user: need(c, values.user, '--user EMAIL'),
    name: need(c, values.name, '--name NAME'),
    role: values.role ?? 'member',
    expires: values.expires ?? null,
    scopes: values.scopes ?? '',
  };
  const { key, token } = await api(c.remote, 'POST', '/keys', body);
  const scoped = key.scopes.length ? `, scopes ${key.scopes.join(' ')}` : '';
  io.out(`✓ key ${key.id} for ${body.user} (${key.role}${scoped}${key.expiresAt ? `, expires ${key.expiresAt}` : ''})`);
  io.out(token);
  io.err('Store it now: it is shown only once. Send it as `Authorization: Bearer <key>`.');
  return 0;
}

async function revokeRemoteKey(c: RemoteContext): Promise<number> {
  const id = need(c, c.positionals[0], 'the key ID');
  await api(c.remote, 'POST', `/keys/${encodeURIComponent(id)}/revoke`);
  c.io.out(`✓ key ${id} revoked; running servers stop accepting it within 2 seconds`);
  return 0;
}

async function listRemoteAccess({ remote, values, io }: RemoteContext): Promise<number> {
  const { rules } = await api(remote, 'GET', '/access');
  if (values.json) {
    io.out(JSON.stringify(rules, null, 2));
    return 0;
  }
  const parsed = parseRules(rules as StoredRule[], 'remote').rules;
  if (!parsed.length)
    io.out('no access rules: every signed-in user reaches every path (add one with `gatehouse access add`)');
  parsed.forEach((r, i) => io.out(`${String(i + 1).padStart(3)}  ${describeRule(r)}`));
  return 0;
}

/** What `--remote` runs, by "COMMAND SUB": the same output as the local commands. */
export const REMOTE_SUBCOMMANDS: Subcommands<RemoteContext> = {
  'users list': listRemoteUsers,
  'users show': showRemoteUser,
  'users disable': disableOrEnableRemoteUser,
  'users enable': disableOrEnableRemoteUser,
  'users set-role': setRemoteUserRole,
  'users groups': remoteUserGroups,
  'keys list': listRemoteKeys,
  'keys create': createRemoteKey,
  'keys revoke': revokeRemoteKey,
  'access list': listRemoteAccess,
};
