// Closed lists of setting values. Each `as const` array is both the type and the run-time check, so
// a new mode is added in one place and the state-file check, the env check and the type all follow.
// `public`, `org-only` and `passphrase` are the access modes of architecture.md#access: `public` is `off`
// in the operators' words (liveSettings reads it as `off`, so nothing else needs to know the alias).
export const AUTH_MODES = ['on', 'off', 'hybrid', 'public', 'org-only', 'passphrase'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
/** The modes a running server acts on: `public` has become `off`. */
export type EffectiveMode = Exclude<AuthMode, 'public'>;

export const SIGN_UP_POLICIES = ['open', 'invite', 'domains'] as const;
export type SignUpPolicy = (typeof SIGN_UP_POLICIES)[number];

/** GATEHOUSE_MFA: who must have a second factor (architecture.md#mfa). */
export const MFA_POLICIES = ['optional', 'admins', 'all'] as const;
export type MfaPolicy = (typeof MFA_POLICIES)[number];

export const BINDING_KINDS = ['postgres', 'mysql', 'mongodb', 'smtp'] as const;
export type BindingKind = (typeof BINDING_KINDS)[number];

export const PROVIDER_KINDS = ['google', 'github', 'microsoft', 'apple', 'oidc'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Binding and provider names: the route segment and X-Forwarded-Provider value of a provider. */
export const ENTRY_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** X-Forwarded-Provider values of Gatehouse's own sign-ins: no social provider may take one, or an app
 *  could mistake a provider's user for the passphrase mode's visitor (or a password sign-in). */
export const RESERVED_PROVIDER_NAMES: readonly string[] = [
  'password',
  'passphrase',
  'api-key',
  'passkey',
  'pairing',
  'handoff',
  'oauth',
];

export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return (list as readonly unknown[]).includes(value);
}

/** "on, off or hybrid": a list as a sentence names it. */
export function orList(list: readonly string[]): string {
  return list.length < 2 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
}
