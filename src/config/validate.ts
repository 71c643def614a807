// Start-up validation helpers: value checks the settings schema (schema.ts) uses, and the check of the
// live settings as they will apply (state file overridden by the environment). Every function returns
// every problem it finds (never throws), so `serve` can refuse to start with one message that lists
// them all (oauth2-proxy's style).
import type { StoredState } from './state.js';
import { accessProblems, splitList } from './settings.js';
import { isDomainName } from './domains.js';
import { mcpProblems } from '../oauth/resources.js';

/** A public-path pattern: an absolute path, optionally ending in "/*"; no query, fragment or other wildcard. */
export function publicPathProblem(pattern: string): string | null {
  if (!pattern.startsWith('/')) return `public path "${pattern}" must start with "/"`;
  if (/[?#\s\\]/.test(pattern))
    return `public path "${pattern}" must be a plain path (public paths never match on the query)`;
  const star = pattern.indexOf('*');
  if (star !== -1 && !(pattern.endsWith('/*') && star === pattern.length - 1))
    return `public path "${pattern}" may only end in "/*"`;
  return null;
}

export function urlProblem(name: string, value: string, schemes: readonly string[], example: string): string[] {
  try {
    if (schemes.includes(new URL(value).protocol)) return [];
  } catch {
    // fall through
  }
  return [`${name} must be a URL such as ${example}`];
}

/** Problems in the live settings as they will apply: the state file's values, overridden by the environment. */
export function checkLiveSettings(state: StoredState | null, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const add = (problem: string | null) => void (problem && problems.push(problem));
  if (!env.GATEHOUSE_PUBLIC_PATHS)
    for (const p of state?.auth.publicPaths ?? []) add(prefixed('auth.publicPaths', publicPathProblem(p)));
  if (!env.GATEHOUSE_ALLOWED_DOMAINS)
    for (const d of state?.auth.allowedDomains ?? [])
      add(isDomainName(d) ? null : `auth.allowedDomains: "${d}" is not a domain name`);
  const signUp = env.GATEHOUSE_SIGN_UP ?? state?.auth.signUp;
  const domains = env.GATEHOUSE_ALLOWED_DOMAINS
    ? splitList(env.GATEHOUSE_ALLOWED_DOMAINS)
    : (state?.auth.allowedDomains ?? []);
  if (signUp === 'domains' && domains.length === 0)
    add('sign-up "domains" needs GATEHOUSE_ALLOWED_DOMAINS (e.g. example.com,example.org)');
  const mode = env.GATEHOUSE_AUTH_MODE || state?.auth.mode;
  if (mode === 'org-only' && domains.length === 0)
    add("mode org-only needs the organisation's email domains in GATEHOUSE_ALLOWED_DOMAINS (e.g. example.com)");
  if (mode === 'passphrase' && !env.GATEHOUSE_PASSPHRASE_HASH && !state?.auth.passphrase)
    add('mode passphrase needs a passphrase: run `gatehouse auth passphrase set` (or set GATEHOUSE_PASSPHRASE_HASH)');
  problems.push(...accessProblems(env.GATEHOUSE_ACCESS, state?.access).problems);
  problems.push(...mcpProblems(env.GATEHOUSE_MCP, state?.mcp).problems);
  return problems;
}

function prefixed(where: string, problem: string | null): string | null {
  return problem && `${where}: ${problem}`;
}
