// Social login providers: presets for the well-known ones, any OpenID Connect issuer for the rest.
// Configuration comes from the state file (`gatehouse auth providers add …`), client secrets sealed.
import type * as Oidc from 'openid-client';

/** openid-client is loaded on first use: deployments without social login never pay for it. */
export const loadOidc = (): Promise<typeof Oidc> => import('openid-client');
import { isSealed, unseal } from '../config/secrets.js';
import { ENTRY_NAME, type ProviderKind } from '../config/choices.js';
import { isAllowedIssuer } from '../config/issuer.js';

export { isAllowedIssuer };

export type { ProviderKind } from '../config/choices.js';

export interface ProviderEntry {
  name: string; // route segment and X-Forwarded-Provider value
  kind: ProviderKind;
  clientId: string;
  clientSecret: string; // plaintext here; sealed in the state file
  issuer: string | null;
  scopes: string | null;
}

interface Preset {
  label: string;
  issuer: string | null;
  scopes: string;
  /** GitHub speaks OAuth 2.0 only: fixed endpoints and a REST call for the profile. */
  oauthOnly?: { authorization: string; token: string };
  formPost?: boolean; // Apple answers with a cross-site POST
}

export const PRESETS: Record<ProviderKind, Preset> = {
  google: { label: 'Google', issuer: 'https://accounts.google.com', scopes: 'openid email profile' },
  microsoft: { label: 'Microsoft', issuer: null, scopes: 'openid email profile' }, // needs the tenant's issuer
  apple: { label: 'Apple', issuer: 'https://appleid.apple.com', scopes: 'openid email name', formPost: true },
  github: {
    label: 'GitHub',
    issuer: 'https://github.com',
    scopes: 'read:user user:email',
    oauthOnly: {
      authorization: 'https://github.com/login/oauth/authorize',
      token: 'https://github.com/login/oauth/access_token',
    },
  },
  oidc: { label: 'Single sign-on', issuer: null, scopes: 'openid email profile' },
};

/** Provider entries from the state file, secrets unsealed; malformed entries are skipped with a reason. */
export function providersFromState(
  raw: ReadonlyArray<Record<string, unknown>>,
  masterKey: Buffer,
  warn: (m: string) => void,
): ProviderEntry[] {
  const out: ProviderEntry[] = [];
  for (const r of raw) {
    const kind = String(r.kind ?? r.type ?? 'oidc') as ProviderKind;
    const name = String(r.name ?? kind);
    const secret = String(r.clientSecret ?? '');
    const issuer = typeof r.issuer === 'string' && r.issuer ? r.issuer : (PRESETS[kind]?.issuer ?? null);
    if (!PRESETS[kind] || !ENTRY_NAME.test(name) || !r.clientId || !issuer || !isAllowedIssuer(issuer)) {
      warn(`provider "${name}" is not usable (kind, name, client id or issuer missing or invalid); skipped`);
      continue;
    }
    out.push({
      name,
      kind,
      clientId: String(r.clientId),
      clientSecret: isSealed(secret) ? unseal(secret, masterKey) : secret,
      issuer,
      scopes: typeof r.scopes === 'string' && r.scopes ? r.scopes : null,
    });
  }
  return out;
}

export function labelOf(p: ProviderEntry): string {
  return p.kind === 'oidc' ? p.name.charAt(0).toUpperCase() + p.name.slice(1) : PRESETS[p.kind].label;
}

/** Discovery (or fixed endpoints for GitHub), cached per provider entry. */
export async function configurationFor(p: ProviderEntry): Promise<Oidc.Configuration> {
  const oidc = await loadOidc();
  const preset = PRESETS[p.kind];
  const insecure = p.issuer!.startsWith('http:');
  let config: Oidc.Configuration;
  if (preset.oauthOnly) {
    config = new oidc.Configuration(
      {
        issuer: p.issuer!,
        authorization_endpoint: preset.oauthOnly.authorization,
        token_endpoint: preset.oauthOnly.token,
      },
      p.clientId,
      p.clientSecret,
    );
  } else {
    config = await oidc.discovery(
      new URL(p.issuer!),
      p.clientId,
      p.clientSecret,
      undefined,
      insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
  }
  if (insecure) oidc.allowInsecureRequests(config);
  return config;
}
