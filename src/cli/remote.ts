// The remote CLI (architecture.md#devices): `gatehouse login --remote URL --token T` checks an administrator's token
// (without --token, one from the device grant, approved in the browser: deviceLogin) against that server's admin API and keeps {url, token}
// (a device login also its refresh token, which renews the hour-long access token when it expires) in $GATEHOUSE_CONFIG_DIR/credentials.json
// (default ~/.config/gatehouse; the file 0600 in a 0700 directory, written atomically);
// `gatehouse --remote URL users|keys|access …` then act on that server with the same output as the
// local commands; `gatehouse logout --remote URL` revokes the token and forgets it.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { describeRule, parseRules, type StoredRule } from '../access/rules.js';
import { isLoopback } from '../security/client-ip.js';
import { CommandError, subcommandIn, type Subcommands, UsageError, type Io } from './common.js';
import { keyLine, type KeyListRow } from './keys.js';
import { userLine } from './users.js';

export const REMOTE_HELP = `gatehouse login --remote URL                       sign in through the browser (device grant, RFC 8628)
gatehouse login --remote URL --token TOKEN        keep an admin's token for that server (checked first)
gatehouse logout --remote URL                     revoke that token and forget it
gatehouse --remote URL users list|show|disable|enable|set-role|groups …   the same commands, on that server
gatehouse --remote URL keys list|create|revoke … · gatehouse --remote URL access list [--json]`;

interface Remote {
  url: string;
  token: string;
  /** Device logins only: trades for a fresh pair when the hour-long access token has expired. */
  refreshToken?: string;
}

/** A login in use: `renew` (device logins) replaces an expired access token once, and keeps the new pair. */
interface Login extends Remote {
  renew?: () => Promise<boolean>;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.GATEHOUSE_CONFIG_DIR) return env.GATEHOUSE_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'gatehouse');
}

const credentialsFile = (env: NodeJS.ProcessEnv) => join(configDir(env), 'credentials.json');

function readRemotes(env: NodeJS.ProcessEnv): Remote[] {
  const file = credentialsFile(env);
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { remotes?: Remote[] };
    return Array.isArray(parsed.remotes) ? parsed.remotes.filter((r) => typeof r?.url === 'string' && typeof r?.token === 'string') : [];
  } catch {
    throw new CommandError(`${file} is not valid JSON; remove it and log in again`);
  }
}

/** Tokens are secrets: the directory is 0700 and the file 0600 before a byte of it is written. */
function writeRemotes(env: NodeJS.ProcessEnv, remotes: Remote[]): void {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = credentialsFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ remotes }, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** A server as the credentials file keys it: its origin. */
export function remoteOrigin(url: string | undefined): string {
  if (!url) throw new UsageError('--remote needs the server\'s URL, e.g. --remote https://app.example.com');
  const u = URL.canParse(url) ? new URL(url) : null;
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) throw new UsageError(`--remote "${url}" must be an http:// or https:// URL`);
  if (u.protocol === 'http:' && !isLoopbackHost(u)) {
    const only = 'plain http only to 127.0.0.1, ::1 or localhost';
    throw new UsageError(`--remote ${u.origin} would send an admin token in clear: use https:// (${only})`);
  }
  return u.origin;
}

/** This machine: the only place plain http cannot be read or changed on the way (127.0.0.0/8, ::1, localhost). */
function isLoopbackHost(u: URL): boolean {
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || isLoopback(host);
}

/** One admin API call: the JSON answer, or a CommandError with the server's own sentence. */
async function api(remote: Login, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  let res;
  try {
    res = await request(`${remote.url}/auth/api/v1${path}`, {
      method: method as 'GET',
      headers: { accept: 'application/json', authorization: `Bearer ${remote.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  } catch (err) {
    throw new CommandError(`cannot reach ${remote.url} (${(err as Error).message})`);
  }
  const text = await res.body.text();
  // An expired device login renews itself once (a refresh token rotates: the new pair is kept at once).
  if (res.statusCode === 401 && remote.renew && (await remote.renew())) return api({ ...remote, renew: undefined }, method, path, body);
  let json: Record<string, any> | null = null;
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    // not the admin API: said below
  }
  if (res.statusCode >= 200 && res.statusCode < 300 && json) return json;
  if (res.statusCode === 401) throw new CommandError(`${remote.url} no longer accepts this login${json?.message ? ` (${json.message})` : ''}: run \`gatehouse login --remote ${remote.url}\` again`);
  if (json && typeof json.message === 'string') throw new CommandError(`${remote.url} refused: ${json.message}`);
  throw new CommandError(`${remote.url} answered ${res.statusCode} without the admin API (is it a Gatehouse with /auth/api/v1?)`);
}

export async function loginCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { remote: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.out(REMOTE_HELP);
    return 0;
  }
  const url = remoteOrigin(values.remote);
  const given = values.token ?? io.env.GATEHOUSE_TOKEN;
  const { token, refreshToken } = given ? { token: given, refreshToken: undefined } : await deviceLogin(url, io);
  const me = await api({ url, token }, 'GET', '/me').catch(async (err: unknown) => {
    // A device token the admin API refuses (a member approved it) is not kept, nor left alive.
    if (!given) await oauthForm(url, 'revoke', { token, client_id: CLI_CLIENT }).catch(() => undefined);
    throw err;
  });
  keepLogin(io.env, { url, token, ...(refreshToken ? { refreshToken } : {}) });
  io.out(`✓ logged in to ${url} as ${me.email} (${me.role}); credentials in ${credentialsFile(io.env)}`);
  return 0;
}

/** The credentials file with this server's login replaced. */
function keepLogin(env: NodeJS.ProcessEnv, login: Remote): void {
  writeRemotes(env, [...readRemotes(env).filter((r) => r.url !== login.url), login]);
}

/** A kept login, ready to use: a device login can renew its access token with its refresh token. */
function loginFor(env: NodeJS.ProcessEnv, kept: Remote): Login {
  const login: Login = { ...kept };
  if (kept.refreshToken) {
    login.renew = async () => {
      const r = await oauthForm(kept.url, 'token', { grant_type: 'refresh_token', refresh_token: login.refreshToken!, client_id: CLI_CLIENT });
      if (r.status !== 200 || typeof r.json.access_token !== 'string' || typeof r.json.refresh_token !== 'string') return false;
      login.token = r.json.access_token;
      login.refreshToken = r.json.refresh_token;
      keepLogin(env, { url: kept.url, token: login.token, refreshToken: login.refreshToken });
      return true;
    };
  }
  return login;
}

const CLI_CLIENT = 'gatehouse-cli';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A form POST to the server's OAuth endpoints; the JSON answer, whatever the status. */
async function oauthForm(url: string, endpoint: string, form: Record<string, string>): Promise<{ status: number; json: Record<string, any> }> {
  let res;
  try {
    res = await request(`${url}/auth/oauth/${endpoint}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(form).toString(), headersTimeout: 15_000, bodyTimeout: 15_000,
    });
  } catch (err) {
    throw new CommandError(`cannot reach ${url} (${(err as Error).message})`);
  }
  const text = await res.body.text();
  try {
    return { status: res.statusCode, json: JSON.parse(text) as Record<string, any> };
  } catch {
    throw new CommandError(`${url} answered ${res.statusCode} without OAuth JSON (is it a Gatehouse with the device grant?)`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `gatehouse login --remote URL` without a token: the device grant (RFC 8628). Prints where to go and
 * the code to check, then polls at the server's interval (5 s more after each slow_down) until the
 * person approves in a signed-in browser, denies, or the code expires.
 */
async function deviceLogin(url: string, io: Io): Promise<{ token: string; refreshToken: string | undefined }> {
  const started = await oauthForm(url, 'device_authorization', { client_id: CLI_CLIENT });
  if (started.status !== 200) throw new CommandError(`${url} refused the device sign-in: ${started.json.error_description ?? started.json.error ?? started.status}`);
  const d = started.json as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; interval: number; expires_in: number };
  io.out(`To sign in, open ${d.verification_uri_complete}`);
  io.out(`(or go to ${d.verification_uri} and enter the code ${d.user_code}) and approve. Waiting…`);
  let interval = (d.interval || 5) * 1000;
  for (;;) {
    await sleep(interval);
    const r = await oauthForm(url, 'token', { grant_type: DEVICE_GRANT, device_code: d.device_code, client_id: CLI_CLIENT });
    if (r.status === 200 && typeof r.json.access_token === 'string') {
      return { token: r.json.access_token as string, refreshToken: typeof r.json.refresh_token === 'string' ? r.json.refresh_token : undefined };
    }
    switch (r.json.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5000;
        continue;
      case 'access_denied':
        throw new CommandError('the sign-in was denied in the browser');
      case 'expired_token':
        throw new CommandError('the code expired before it was approved; run `gatehouse login` again');
      default:
        throw new CommandError(`${url} refused: ${r.json.error_description ?? r.json.error ?? r.status}`);
    }
  }
}

export async function logoutCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { remote: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.out(REMOTE_HELP);
    return 0;
  }
  const url = remoteOrigin(values.remote);
  const remotes = readRemotes(io.env);
  const remote = remotes.find((r) => r.url === url);
  if (!remote) throw new CommandError(`not logged in to ${url}`, 'logout');
  let revoked = true;
  // A device login's token ends its whole grant, refresh token included; an expired one is renewed first.
  await api(loginFor(io.env, remote), 'POST', '/token/revoke').catch((err: Error) => {
    revoked = false;
    io.err(`gatehouse logout: could not revoke the token (${err.message}); revoke it on the server`);
  });
  writeRemotes(io.env, remotes.filter((r) => r.url !== url));
  io.out(`✓ logged out of ${url}${revoked ? '; the token is revoked' : ''}`);
  return 0;
}

/** `gatehouse --remote URL COMMAND …` */
export async function remoteCommand(url: string | undefined, argv: string[], io: Io): Promise<number> {
  const origin = remoteOrigin(url);
  const kept = readRemotes(io.env).find((r) => r.url === origin);
  if (!kept) throw new CommandError(`not logged in to ${origin}: run \`gatehouse login --remote ${origin} --token TOKEN\` first`);
  const remote = loginFor(io.env, kept);
  const [command, sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest, strict: true, allowPositionals: true,
    options: { json: { type: 'boolean' }, user: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, expires: { type: 'string' }, scopes: { type: 'string' }, add: { type: 'string', multiple: true }, remove: { type: 'string', multiple: true } },
  });
  const run = subcommandIn(REMOTE_SUBCOMMANDS, `${command} ${sub}`);
  if (!run) throw new UsageError(`--remote does not run "${argv.join(' ').slice(0, 60)}"\n${REMOTE_HELP}`);
  return run({ remote, command, sub, values, positionals, io });
}

/** The flags the remote commands take. */
interface RemoteFlags {
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
interface RemoteContext {
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
  c.io.out(c.sub === 'disable' ? `✓ ${u.email} disabled; their sessions ended` : `✓ ${u.email} enabled (and any lockout cleared)`);
  return 0;
}

async function setRemoteUserRole(c: RemoteContext): Promise<number> {
  const u = await api(c.remote, 'POST', `${userPath(c)}/role`, { role: need(c, c.positionals[1], 'a ROLE') });
  c.io.out(`✓ ${u.email} is now ${u.role}; they sign in again`);
  return 0;
}

async function remoteUserGroups(c: RemoteContext): Promise<number> {
  const u = await api(c.remote, 'POST', `${userPath(c)}/groups`, { add: c.values.add ?? [], remove: c.values.remove ?? [] });
  c.io.out(c.values.json ? JSON.stringify({ email: u.email, groups: u.groups }) : `${u.email}: ${u.groups.length ? u.groups.join(', ') : '(no groups)'}`);
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
  const body = { user: need(c, values.user, '--user EMAIL'), name: need(c, values.name, '--name NAME'), role: values.role ?? 'member', expires: values.expires ?? null, scopes: values.scopes ?? '' };
  const { key, token } = await api(c.remote, 'POST', '/keys', body);
  io.out(`✓ key ${key.id} for ${body.user} (${key.role}${key.scopes.length ? `, scopes ${key.scopes.join(' ')}` : ''}${key.expiresAt ? `, expires ${key.expiresAt}` : ''})`);
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
  if (!parsed.length) io.out('no access rules: every signed-in user reaches every path (add one with `gatehouse access add`)');
  parsed.forEach((r, i) => io.out(`${String(i + 1).padStart(3)}  ${describeRule(r)}`));
  return 0;
}

/** What `--remote` runs, by "COMMAND SUB": the same output as the local commands. */
const REMOTE_SUBCOMMANDS: Subcommands<RemoteContext> = {
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
