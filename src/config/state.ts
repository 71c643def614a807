// Persistent state of one server/profile: `<GATEHOUSE_HOME>/<server>.<profile>.json`, written atomically
// with mode 0600 by the CLI and read (and watched) by `gatehouse serve`.
import { parseRules, type AccessDefault, type StoredRule } from '../access/rules.js';
import { parseResources, type StoredMcpResource } from '../oauth/resources.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock, writeFileAtomic } from './files.js';
import {
  AUTH_MODES,
  BINDING_KINDS,
  ENTRY_NAME,
  isOneOf,
  MFA_POLICIES,
  orList,
  PROVIDER_KINDS,
  RESERVED_PROVIDER_NAMES,
  SIGN_UP_POLICIES,
  type AuthMode,
  type BindingKind,
  type MfaPolicy,
  type ProviderKind,
  type SignUpPolicy,
} from './choices.js';

export { AUTH_MODES, BINDING_KINDS, ENTRY_NAME, PROVIDER_KINDS, SIGN_UP_POLICIES };
export type { AuthMode, BindingKind, ProviderKind, SignUpPolicy } from './choices.js';
export { KNOWN_ENV } from './schema.js';

/** A binding as stored: `url` is sealed (it usually carries a password); `from` only for smtp. */
export type BindingConfig = { kind: BindingKind; url: string; from?: string };

/**
 * A social login provider as stored by `gatehouse auth providers add` (and read by src/oidc/).
 * `clientSecret` is sealed (enc:v1:…) in the file; `issuer` is absent for presets that know theirs
 * (google, github, apple); `name` is the route segment and the X-Forwarded-Provider value.
 * (A type alias, not an interface, so it stays assignable to Record<string, unknown>.)
 */
export type ProviderConfig = {
  name: string;
  kind: ProviderKind;
  clientId: string;
  clientSecret: string;
  issuer?: string;
  scopes?: string;
};

export interface StoredState {
  version: 1;
  auth: {
    /** Absent until `auth enable`, `auth disable` or the first `serve` decides: a state file another CLI
     *  command wrote first (`access add`, `mcp add`, `bind …`) must not leave the first start open. */
    enabled?: boolean;
    /** Where no access rule applies: any signed-in user passes (allow, the default) or no one (deny). */
    accessDefault?: AccessDefault;
    mode: AuthMode;
    secret: string | null; // sealed session / CSRF signing secret
    db: string | null; // binding name, or null for the embedded store
    signUp: SignUpPolicy;
    allowedDomains: string[];
    publicPaths: string[];
    /** Who must have a second factor; absent: optional (architecture.md#mfa). */
    mfa?: MfaPolicy;
    /** The shared passphrase's argon2id hash (mode `passphrase`); absent until `auth passphrase set`. */
    passphrase?: string;
  };
  bindings: Record<string, BindingConfig>;
  providers: ProviderConfig[];
  /** Access rules (architecture.md#access), in order; absent in files written before rules existed. */
  access?: StoredRule[];
  /** Signing keys written by versions before the keys moved to the store: the first start moves them there
   *  (kids kept) and removes them from this file (architecture.md#access). */
  signing?: { current: string; previous: string | null };
  /** MCP resources (architecture.md#oauth): paths that take OAuth 2.1 bearer tokens; absent before they existed. */
  mcp?: StoredMcpResource[];
}

/** Whether auth is on, or will be at the first `serve` (which turns an undecided state on). */
export const authIsOn = (state: StoredState): boolean => state.auth.enabled !== false;

export function emptyState(): StoredState {
  return {
    version: 1,
    auth: { mode: 'on', secret: null, db: null, signUp: 'open', allowedDomains: [], publicPaths: [] },
    bindings: {},
    providers: [],
  };
}

export interface Scope {
  home: string;
  server: string;
  profile: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

export function checkScope(scope: Scope): string[] {
  const problems: string[] = [];
  if (!NAME.test(scope.server)) problems.push(`server name "${scope.server}" must be letters, digits, "-" or "_"`);
  if (!NAME.test(scope.profile)) problems.push(`profile name "${scope.profile}" must be letters, digits, "-" or "_"`);
  return problems;
}

export function stateFile(scope: Scope): string {
  return join(scope.home, `${scope.server}.${scope.profile}.json`);
}

export function embeddedDbFile(scope: Scope): string {
  return join(scope.home, `${scope.server}.${scope.profile}.sqlite`);
}

/** The stored state, or null when this server/profile was never set up. Throws on a corrupt file. */
export function readState(scope: Scope): StoredState | null {
  const file = stateFile(scope);
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON`, { cause: err });
  }
  const problems = checkStateShape(parsed);
  if (problems.length) throw new Error(`${file} is invalid:\n  - ${problems.join('\n  - ')}`);
  const base = emptyState();
  const p = parsed as Partial<StoredState>;
  return { ...base, ...p, auth: { ...base.auth, ...(p.auth ?? {}) }, version: 1 };
}

const TOP_KEYS = ['version', 'auth', 'bindings', 'providers', 'access', 'signing', 'mcp'];
const AUTH_KEYS = [
  'enabled',
  'accessDefault',
  'mode',
  'secret',
  'db',
  'signUp',
  'allowedDomains',
  'publicPaths',
  'mfa',
  'passphrase',
];

/** Every problem of a state file at once: unknown keys are errors, so a typo never silently does nothing. */
export function checkStateShape(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['the file must hold a JSON object'];
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!TOP_KEYS.includes(k)) problems.push(`unknown key "${k}"`);
  if (v.version !== undefined && v.version !== 1)
    problems.push(`version ${JSON.stringify(v.version)} is not supported (1)`);
  const auth = (v.auth ?? {}) as Record<string, unknown>;
  if (typeof auth !== 'object' || Array.isArray(auth)) problems.push('"auth" must be an object');
  else {
    for (const k of Object.keys(auth)) if (!AUTH_KEYS.includes(k)) problems.push(`unknown key "auth.${k}"`);
    if (auth.enabled !== undefined && typeof auth.enabled !== 'boolean')
      problems.push('"auth.enabled" must be true or false');
    if (auth.accessDefault !== undefined && auth.accessDefault !== 'allow' && auth.accessDefault !== 'deny')
      problems.push('"auth.accessDefault" must be allow or deny');
    if (auth.mode !== undefined && !isOneOf(AUTH_MODES, auth.mode))
      problems.push(`"auth.mode" must be ${orList(AUTH_MODES)}`);
    if (auth.signUp !== undefined && !isOneOf(SIGN_UP_POLICIES, auth.signUp))
      problems.push(`"auth.signUp" must be ${orList(SIGN_UP_POLICIES)}`);
    if (auth.mfa !== undefined && !isOneOf(MFA_POLICIES, auth.mfa))
      problems.push(`"auth.mfa" must be ${orList(MFA_POLICIES)}`);
    if (
      auth.passphrase !== undefined &&
      !(typeof auth.passphrase === 'string' && auth.passphrase.startsWith('$argon2id$'))
    )
      problems.push('"auth.passphrase" must be an argon2id hash (set it with `gatehouse auth passphrase set`)');
    for (const k of ['allowedDomains', 'publicPaths']) {
      if (
        auth[k] !== undefined &&
        !(Array.isArray(auth[k]) && (auth[k] as unknown[]).every((x) => typeof x === 'string'))
      )
        problems.push(`"auth.${k}" must be a list of strings`);
    }
  }
  if (v.bindings !== undefined && (typeof v.bindings !== 'object' || v.bindings === null || Array.isArray(v.bindings)))
    problems.push('"bindings" must be an object');
  else
    for (const [name, b] of Object.entries((v.bindings ?? {}) as Record<string, unknown>))
      problems.push(...checkBinding(name, b));
  if (v.providers !== undefined && !Array.isArray(v.providers)) problems.push('"providers" must be a list');
  else ((v.providers ?? []) as unknown[]).forEach((p, i) => problems.push(...checkProvider(i, p)));
  if (v.access !== undefined) problems.push(...parseRules(v.access, '"access"').problems);
  if (v.mcp !== undefined) problems.push(...parseResources(v.mcp, '"mcp"').problems);
  if (v.signing !== undefined) {
    const sg = v.signing as Record<string, unknown> | null;
    if (
      typeof sg !== 'object' ||
      sg === null ||
      typeof sg.current !== 'string' ||
      !(sg.previous === null || sg.previous === undefined || typeof sg.previous === 'string')
    ) {
      problems.push('"signing" must be {"current": "<sealed key>", "previous": "<sealed key>" | null}');
    }
  }
  return problems;
}

const BINDING_KEYS = ['kind', 'url', 'from'];
const PROVIDER_KEYS = ['name', 'kind', 'clientId', 'clientSecret', 'issuer', 'scopes'];

function checkBinding(name: string, value: unknown): string[] {
  const at = `bindings.${name}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`"${at}" must be an object`];
  const b = value as Record<string, unknown>;
  const problems = Object.keys(b)
    .filter((k) => !BINDING_KEYS.includes(k))
    .map((k) => `unknown key "${at}.${k}"`);
  if (!ENTRY_NAME.test(name.toLowerCase())) problems.push(`binding name "${name}" must be letters, digits, "-" or "_"`);
  if (!isOneOf<BindingKind>(BINDING_KINDS, b.kind)) problems.push(`"${at}.kind" must be ${BINDING_KINDS.join(', ')}`);
  if (typeof b.url !== 'string' || !b.url) problems.push(`"${at}.url" must be a URL`);
  if (b.from !== undefined && typeof b.from !== 'string') problems.push(`"${at}.from" must be an email address`);
  return problems;
}

function checkProvider(index: number, value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`"providers[${index}]" must be an object`];
  const p = value as Record<string, unknown>;
  const at = `providers[${index}]${typeof p.name === 'string' ? ` (${p.name})` : ''}`;
  const problems = Object.keys(p)
    .filter((k) => !PROVIDER_KEYS.includes(k))
    .map((k) => `unknown key "${k}" in ${at}`);
  if (typeof p.name !== 'string' || !ENTRY_NAME.test(p.name))
    problems.push(`${at}: "name" must be lower-case letters, digits, "-" or "_"`);
  else if (RESERVED_PROVIDER_NAMES.includes(p.name))
    problems.push(`${at}: "name" ${p.name} is reserved for Gatehouse's own sign-ins`);
  if (!isOneOf<ProviderKind>(PROVIDER_KINDS, p.kind))
    problems.push(`${at}: "kind" must be ${PROVIDER_KINDS.join(', ')}`);
  for (const k of ['clientId', 'clientSecret'])
    if (typeof p[k] !== 'string' || !p[k]) problems.push(`${at}: "${k}" is required`);
  for (const k of ['issuer', 'scopes'])
    if (p[k] !== undefined && typeof p[k] !== 'string') problems.push(`${at}: "${k}" must be a string`);
  return problems;
}

export function writeState(scope: Scope, state: StoredState): void {
  writeFileAtomic(stateFile(scope), JSON.stringify(state, null, 2) + '\n');
}

/**
 * Read-modify-write under the state file's lock: `change` gets the latest state (a fresh copy, or an
 * empty one) and returns the next; what it throws leaves the file untouched.
 */
export function updateState(scope: Scope, change: (current: StoredState | null) => StoredState): StoredState {
  return withFileLock(stateFile(scope), () => {
    const next = change(readState(scope));
    writeState(scope, next);
    return next;
  });
}
