// The live part of the configuration: what `auth enable/disable`, profiles and env vars decide, re-read
// while `gatehouse serve` runs. Everything here can change without a restart.
import type { AuthMode, SignUpPolicy, StoredState } from './state.js';
import { isSealed, unseal } from './secrets.js';

export interface LiveSettings {
  mode: AuthMode; // 'off' also when auth is disabled
  secret: Buffer; // session + CSRF signing secret
  signUp: SignUpPolicy;
  allowedDomains: string[];
  publicPaths: string[];
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
    mode: !state.auth.enabled ? 'off' : (envMode ?? state.auth.mode),
    secret,
    signUp: (env.GATEHOUSE_SIGN_UP as SignUpPolicy | undefined) ?? state.auth.signUp,
    allowedDomains: env.GATEHOUSE_ALLOWED_DOMAINS ? splitList(env.GATEHOUSE_ALLOWED_DOMAINS) : state.auth.allowedDomains,
    publicPaths: env.GATEHOUSE_PUBLIC_PATHS ? splitList(env.GATEHOUSE_PUBLIC_PATHS) : state.auth.publicPaths,
  };
}

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface SettingsSource {
  current(): LiveSettings;
}
