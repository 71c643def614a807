// Start-up validation of the settings that `serve` does not parse itself: the environment and the
// live settings of the state file. Every function returns every problem it finds (never throws), so
// `serve` can refuse to start with one message that lists them all (oauth2-proxy's style).
import { parseKey } from './secrets.js';
import type { StoredState } from './state.js';
import { accessProblems, splitList } from './settings.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const TABLE_PREFIX = /^[a-z0-9_]{0,32}$/;
const EMAIL_OR_NAMED = /^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/;
const DB_SCHEMES = ['postgres:', 'postgresql:', 'mysql:', 'mariadb:', 'mongodb:', 'mongodb+srv:', 'sqlite:', 'file:'];

/** A public-path pattern: an absolute path, optionally ending in "/*"; no query, fragment or other wildcard. */
export function publicPathProblem(pattern: string): string | null {
  if (!pattern.startsWith('/')) return `public path "${pattern}" must start with "/"`;
  if (/[?#\s\\]/.test(pattern)) return `public path "${pattern}" must be a plain path (public paths never match on the query)`;
  const star = pattern.indexOf('*');
  if (star !== -1 && !(pattern.endsWith('/*') && star === pattern.length - 1)) return `public path "${pattern}" may only end in "/*"`;
  return null;
}

function urlProblem(name: string, value: string, schemes: string[], example: string): string | null {
  try {
    if (schemes.includes(new URL(value).protocol)) return null;
  } catch {
    // fall through
  }
  return `${name} must be a URL such as ${example}`;
}

/** Problems in the GATEHOUSE_* variables that the other start-up checks do not cover. */
export function checkEnvironment(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const add = (problem: string | null) => void (problem && problems.push(problem));
  const value = (k: string) => (env[k] === undefined || env[k] === '' ? null : env[k]!);
  const paths = value('GATEHOUSE_PUBLIC_PATHS');
  if (paths) for (const p of splitList(paths)) add(prefixed('GATEHOUSE_PUBLIC_PATHS', publicPathProblem(p)));
  const domains = value('GATEHOUSE_ALLOWED_DOMAINS');
  if (domains) for (const d of splitList(domains)) add(DOMAIN.test(d) ? null : `GATEHOUSE_ALLOWED_DOMAINS: "${d}" is not a domain name`);
  const pool = value('GATEHOUSE_DB_POOL');
  if (pool !== null && !(/^\d{1,4}$/.test(pool) && Number(pool) >= 1 && Number(pool) <= 1000)) add('GATEHOUSE_DB_POOL must be a number from 1 to 1000');
  const prefix = value('GATEHOUSE_TABLE_PREFIX');
  if (prefix !== null && !TABLE_PREFIX.test(prefix)) add('GATEHOUSE_TABLE_PREFIX must be at most 32 lower-case letters, digits or "_"');
  const db = value('GATEHOUSE_DATABASE_URL');
  if (db) add(urlProblem('GATEHOUSE_DATABASE_URL', db, DB_SCHEMES, 'postgres://user:pass@host:5432/db'));
  const smtp = value('GATEHOUSE_SMTP_URL');
  if (smtp) add(urlProblem('GATEHOUSE_SMTP_URL', smtp, ['smtp:', 'smtps:'], 'smtp://user:pass@host:587'));
  const from = value('GATEHOUSE_SMTP_FROM');
  if (from && !EMAIL_OR_NAMED.test(from)) add('GATEHOUSE_SMTP_FROM must be an email address, e.g. "App <no-reply@example.com>"');
  if (from && !smtp) add('GATEHOUSE_SMTP_FROM is set without GATEHOUSE_SMTP_URL');
  const key = value('GATEHOUSE_MASTER_KEY');
  if (key) {
    try {
      parseKey(key.trim(), 'GATEHOUSE_MASTER_KEY');
    } catch (err) {
      add((err as Error).message);
    }
  }
  // A signing secret an attacker could guess forges every session: demand at least 32 characters.
  const secret = env.GATEHOUSE_AUTH_SECRET ?? env.AUTH_SECRET;
  if (secret !== undefined && secret.length < 32) add('GATEHOUSE_AUTH_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  return problems;
}

/** Problems in the live settings as they will apply: the state file's values, overridden by the environment. */
export function checkLiveSettings(state: StoredState | null, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const add = (problem: string | null) => void (problem && problems.push(problem));
  if (!env.GATEHOUSE_PUBLIC_PATHS) for (const p of state?.auth.publicPaths ?? []) add(prefixed('auth.publicPaths', publicPathProblem(p)));
  if (!env.GATEHOUSE_ALLOWED_DOMAINS) for (const d of state?.auth.allowedDomains ?? []) add(DOMAIN.test(d) ? null : `auth.allowedDomains: "${d}" is not a domain name`);
  const signUp = env.GATEHOUSE_SIGN_UP ?? state?.auth.signUp;
  const domains = env.GATEHOUSE_ALLOWED_DOMAINS ? splitList(env.GATEHOUSE_ALLOWED_DOMAINS) : (state?.auth.allowedDomains ?? []);
  if (signUp === 'domains' && domains.length === 0) add('sign-up "domains" needs GATEHOUSE_ALLOWED_DOMAINS (e.g. example.com,example.org)');
  problems.push(...accessProblems(env.GATEHOUSE_ACCESS, state?.access).problems);
  return problems;
}

function prefixed(where: string, problem: string | null): string | null {
  return problem && `${where}: ${problem}`;
}
