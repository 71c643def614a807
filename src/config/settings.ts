// The live part of the configuration: what `auth enable/disable`, profiles and env vars decide, re-read
// while `gatehouse serve` runs. Everything here can change without a restart.
import { authIsOn, type AuthMode, type SignUpPolicy, type StoredState } from './state.js';
import type { MfaPolicy } from './choices.js';
import type { EffectiveMode } from './choices.js';
import { parseRules, type AccessDefault, type AccessRule, type StoredRule } from '../access/rules.js';
import { isSealed, unseal } from './secrets.js';
import { resourcesFrom, type McpResource } from '../oauth/resources.js';

export interface LiveSettings {
  mode: EffectiveMode; // 'off' also when auth is disabled, and for `public`
  /** The shared passphrase's argon2id hash (mode `passphrase`): GATEHOUSE_PASSPHRASE_HASH, else the state file's. */
  passphraseHash: string | null;
  secret: Buffer; // session + CSRF signing secret
  signUp: SignUpPolicy;
  allowedDomains: string[];
  publicPaths: string[];
  /** Access rules (architecture.md#access), in order; public paths are not among them (see access/policy.ts). */
  access: AccessRule[];
  /** Who must have a second factor (GATEHOUSE_MFA, else the state file; architecture.md#mfa). */
  mfa: MfaPolicy;
  /** Where no access rule applies (GATEHOUSE_ACCESS_DEFAULT, else the state file): allow or deny. */
  accessDefault: AccessDefault;
  /** MCP resources (architecture.md#oauth), from GATEHOUSE_MCP or the state file; empty: no OAuth anywhere. */
  mcp: McpResource[];
}

export function liveSettings(state: StoredState, masterKey: Buffer, env: NodeJS.ProcessEnv): LiveSettings {
  const fromEnv = env.GATEHOUSE_AUTH_SECRET ?? env.AUTH_SECRET;
  const stored = state.auth.secret;
  let secret: Buffer;
  if (fromEnv) secret = Buffer.from(fromEnv, 'utf8');
  else if (stored) secret = Buffer.from(isSealed(stored) ? unseal(stored, masterKey) : stored, 'base64url');
  else secret = Buffer.alloc(0);
  const envMode = env.GATEHOUSE_AUTH_MODE as AuthMode | undefined;
  return {
    mode: effectiveMode(!authIsOn(state) ? 'off' : (envMode ?? state.auth.mode)),
    accessDefault: (env.GATEHOUSE_ACCESS_DEFAULT as AccessDefault | undefined) || state.auth.accessDefault || 'allow',
    passphraseHash: env.GATEHOUSE_PASSPHRASE_HASH || state.auth.passphrase || null,
    secret,
    signUp: (env.GATEHOUSE_SIGN_UP as SignUpPolicy | undefined) ?? state.auth.signUp,
    allowedDomains: env.GATEHOUSE_ALLOWED_DOMAINS
      ? splitList(env.GATEHOUSE_ALLOWED_DOMAINS)
      : state.auth.allowedDomains,
    publicPaths: env.GATEHOUSE_PUBLIC_PATHS ? splitList(env.GATEHOUSE_PUBLIC_PATHS) : state.auth.publicPaths,
    access: rulesFrom(env.GATEHOUSE_ACCESS, state.access),
    mfa: (env.GATEHOUSE_MFA as MfaPolicy | undefined) || state.auth.mfa || 'optional',
    mcp: resourcesFrom(env.GATEHOUSE_MCP, state.mcp),
  };
}

/** `public` is `off` in the vocabulary operators use (architecture.md#access). */
export function effectiveMode(mode: AuthMode): EffectiveMode {
  return mode === 'public' ? 'off' : mode;
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface SettingsSource {
  current(): LiveSettings;
  /** The settings as the state file says them now (re-read), where a snapshot up to one poll of the file
   *  old is not good enough: deciding whether a credential is the current one. Without it, current(). */
  latest?(): LiveSettings;
}

/** GATEHOUSE_ACCESS (JSON) when set, else the state file's rules; problems were refused at start-up. */
export function rulesFrom(envJson: string | undefined, stored: StoredRule[] | undefined): AccessRule[] {
  const { rules, problems } = accessProblems(envJson, stored);
  if (problems.length) throw new Error(problems.join('; '));
  return rules;
}

export function accessProblems(
  envJson: string | undefined,
  stored: StoredRule[] | undefined,
): { rules: AccessRule[]; problems: string[] } {
  if (envJson === undefined || envJson === '') return parseRules(stored ?? [], 'access');
  let parsed: unknown;
  try {
    parsed = JSON.parse(envJson);
  } catch {
    return {
      rules: [],
      problems: [
        'GATEHOUSE_ACCESS must be JSON: a list of rules such as [{"pattern":"/admin/*","allow":["role:admin"]}]',
      ],
    };
  }
  return parseRules(parsed, 'GATEHOUSE_ACCESS');
}
