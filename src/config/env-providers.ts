// Social login providers from the environment, so a container needs no writable state file:
//   GATEHOUSE_GOOGLE_CLIENT_ID / _CLIENT_SECRET [/ _SCOPES / _ISSUER]     (likewise GITHUB, MICROSOFT, APPLE)
//   GATEHOUSE_OIDC_<NAME>_CLIENT_ID / _CLIENT_SECRET / _ISSUER [/ _SCOPES] any OpenID Connect provider
// An entry from the environment replaces a state-file entry of the same name. Secrets here are plain
// (the environment is the operator's secret store), the same shape as ProviderConfig otherwise.
import { isAllowedIssuer } from './issuer.js';
import type { ProviderConfig, ProviderKind } from './state.js';
import { RESERVED_PROVIDER_NAMES } from './choices.js';

const PRESET = /^GATEHOUSE_(GOOGLE|GITHUB|MICROSOFT|APPLE)_(CLIENT_ID|CLIENT_SECRET|ISSUER|SCOPES)$/;
const CUSTOM = /^GATEHOUSE_OIDC_([A-Z0-9][A-Z0-9_]*?)_(CLIENT_ID|CLIENT_SECRET|ISSUER|SCOPES)$/;
const FIELD = { CLIENT_ID: 'clientId', CLIENT_SECRET: 'clientSecret', ISSUER: 'issuer', SCOPES: 'scopes' } as const;

/** Whether a GATEHOUSE_* variable name is one of the provider variables above. */
export function isProviderVariable(name: string): boolean {
  return PRESET.test(name) || CUSTOM.test(name);
}

export function providersFromEnv(env: NodeJS.ProcessEnv): { providers: ProviderConfig[]; problems: string[] } {
  const found = new Map<
    string,
    { kind: ProviderKind; prefix: string; fields: Partial<Record<(typeof FIELD)[keyof typeof FIELD], string>> }
  >();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const preset = PRESET.exec(name);
    const custom = preset ? null : CUSTOM.exec(name);
    const m = preset ?? custom;
    if (!m) continue;
    const kind = preset ? (m[1]!.toLowerCase() as ProviderKind) : 'oidc';
    const entryName = m[1]!.toLowerCase();
    const entry = found.get(entryName) ?? {
      kind,
      prefix: preset ? `GATEHOUSE_${m[1]}` : `GATEHOUSE_OIDC_${m[1]}`,
      fields: {},
    };
    entry.fields[FIELD[m[2] as keyof typeof FIELD]] = value;
    found.set(entryName, entry);
  }
  const providers: ProviderConfig[] = [];
  const problems: string[] = [];
  for (const [name, { kind, prefix, fields }] of found) {
    const needed: Array<keyof typeof FIELD> = [
      'CLIENT_ID',
      'CLIENT_SECRET',
      ...(kind === 'oidc' || kind === 'microsoft' ? (['ISSUER'] as const) : []),
    ];
    const missing = needed.filter((v) => !fields[FIELD[v]]);
    if (missing.length) {
      problems.push(
        `social login "${name}" from the environment also needs ${missing.map((v) => `${prefix}_${v}`).join(' and ')}`,
      );
      continue;
    }
    if (RESERVED_PROVIDER_NAMES.includes(name)) {
      problems.push(`${prefix}_*: "${name}" is how Gatehouse names its own sign-ins; choose another name`);
      continue;
    }
    if (fields.issuer && !isAllowedIssuer(fields.issuer)) {
      problems.push(`${prefix}_ISSUER "${fields.issuer}" must be https:// (http:// only for 127.0.0.1 or localhost)`);
      continue;
    }
    providers.push({
      name,
      kind,
      clientId: fields.clientId!,
      clientSecret: fields.clientSecret!,
      ...(fields.issuer ? { issuer: fields.issuer } : {}),
      ...(fields.scopes ? { scopes: fields.scopes } : {}),
    });
  }
  return { providers, problems };
}

/** The state file's providers with the environment's laid over them (same name: the environment wins). */
export function withEnvProviders(stored: readonly ProviderConfig[], env: NodeJS.ProcessEnv): ProviderConfig[] {
  const fromEnv = providersFromEnv(env).providers;
  if (!fromEnv.length) return [...stored];
  const names = new Set(fromEnv.map((p) => p.name));
  return [...stored.filter((p) => !names.has(p.name)), ...fromEnv];
}
