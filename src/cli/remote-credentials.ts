// Where the remote CLI keeps its logins (architecture.md#devices): {url, token} per server — a device login
// also its refresh token — in $GATEHOUSE_CONFIG_DIR/credentials.json (default ~/.config/gatehouse; the file
// 0600 in a 0700 directory, written atomically), keyed by the server's origin.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isLoopback } from '../security/client-ip.js';
import { CommandError, UsageError } from './common.js';

export interface Remote {
  url: string;
  token: string;
  /** Device logins only: trades for a fresh pair when the hour-long access token has expired. */
  refreshToken?: string;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.GATEHOUSE_CONFIG_DIR) return env.GATEHOUSE_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'gatehouse');
}

export const credentialsFile = (env: NodeJS.ProcessEnv) => join(configDir(env), 'credentials.json');

export function readRemotes(env: NodeJS.ProcessEnv): Remote[] {
  const file = credentialsFile(env);
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { remotes?: Remote[] };
    return Array.isArray(parsed.remotes)
      ? parsed.remotes.filter((r) => typeof r?.url === 'string' && typeof r?.token === 'string')
      : [];
  } catch {
    throw new CommandError(`${file} is not valid JSON; remove it and log in again`);
  }
}

/** Tokens are secrets: the directory is 0700 and the file 0600 before a byte of it is written. */
export function writeRemotes(env: NodeJS.ProcessEnv, remotes: Remote[]): void {
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
  if (!url) throw new UsageError("--remote needs the server's URL, e.g. --remote https://app.example.com");
  const u = URL.canParse(url) ? new URL(url) : null;
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:'))
    throw new UsageError(`--remote "${url}" must be an http:// or https:// URL`);
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

/** The credentials file with this server's login replaced. */
export function keepLogin(env: NodeJS.ProcessEnv, login: Remote): void {
  writeRemotes(env, [...readRemotes(env).filter((r) => r.url !== login.url), login]);
}
