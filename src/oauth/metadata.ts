// Discovery (architecture.md#oauth): protected resource metadata (RFC 9728) for each MCP resource, authorization
// server metadata (RFC 8414) and the OpenID discovery forms clients also try, and the 401 challenge
// that points at the first of them — an MCP client must find everything from that header alone.
//
// The issuer is the public origin + the auth prefix (as the identity assertion's `iss`), so the RFC
// 8414 document lives at /.well-known/oauth-authorization-server/auth. These well-known paths are
// taken from the app only while at least one MCP resource is configured (proxy/gate.ts).
import type { McpResource } from './resources.js';
import { resourceMetadataUrl, resourceUrl } from './resources.js';

export const WELL_KNOWN = '/.well-known/';
const PRM = '/.well-known/oauth-protected-resource';
const ASM = '/.well-known/oauth-authorization-server';
const OIDC = '/.well-known/openid-configuration';

export interface MetadataContext {
  origin: string; // public origin, no trailing slash
  prefix: string; // "/auth"
  resources: readonly McpResource[];
  dcr: boolean;
  cimd: boolean;
}

export const issuerOf = (origin: string, prefix: string) => origin + prefix;
export const endpoint = (
  origin: string,
  prefix: string,
  name: 'authorize' | 'token' | 'revoke' | 'register' | 'device_authorization',
) => `${origin}${prefix}/oauth/${name}`;

/** Whether a request path is one of the discovery documents Gatehouse answers (given MCP resources). */
export function isDiscoveryPath(path: string): boolean {
  return path.startsWith(PRM) || path.startsWith(ASM) || path.startsWith(OIDC);
}

/** The paths of the authorization server documents, for an issuer with path `prefix` (RFC 8414 §3.1,
 *  OIDC Discovery §4). */
export function authorizationServerPaths(prefix: string): string[] {
  return [`${ASM}${prefix}`, ASM, `${OIDC}${prefix}`, `${prefix}${OIDC}`, `${prefix}${ASM}`, OIDC];
}

/** The resource whose metadata a well-known path names, if any. */
export function resourceOfMetadataPath(path: string, resources: readonly McpResource[]): McpResource | undefined {
  if (!path.startsWith(PRM + '/')) return undefined;
  const rest = path.slice(PRM.length);
  return resources.find((r) => r.path === rest);
}

export function protectedResourceMetadata(ctx: MetadataContext, r: McpResource): Record<string, unknown> {
  return {
    resource: resourceUrl(ctx.origin, r),
    authorization_servers: [issuerOf(ctx.origin, ctx.prefix)],
    bearer_methods_supported: ['header'],
    resource_name: r.name,
    ...(r.scopes.length ? { scopes_supported: r.scopes } : {}),
  };
}

export function authorizationServerMetadata(ctx: MetadataContext, openid = false): Record<string, unknown> {
  const { origin, prefix } = ctx;
  const scopes = [...new Set(ctx.resources.flatMap((r) => r.scopes))];
  return {
    issuer: issuerOf(origin, prefix),
    authorization_endpoint: endpoint(origin, prefix, 'authorize'),
    token_endpoint: endpoint(origin, prefix, 'token'),
    revocation_endpoint: endpoint(origin, prefix, 'revoke'),
    device_authorization_endpoint: endpoint(origin, prefix, 'device_authorization'),
    ...(ctx.dcr ? { registration_endpoint: endpoint(origin, prefix, 'register') } : {}),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.cimd,
    ...(scopes.length ? { scopes_supported: scopes } : {}),
    // The OpenID forms are served for clients that only try those; no ID token is issued.
    ...(openid
      ? {
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['ES256'],
          jwks_uri: `${origin}${prefix}/.well-known/jwks.json`,
        }
      : {}),
  };
}

/** The WWW-Authenticate challenge of a 401 on a resource (RFC 9728 §5.1, RFC 6750 §3). */
export function bearerChallenge(origin: string, r: McpResource, error?: 'invalid_token'): string {
  let v = `Bearer resource_metadata="${resourceMetadataUrl(origin, r)}"`;
  if (r.scopes.length) v += `, scope="${r.scopes.join(' ')}"`;
  if (error) v += `, error="${error}"`;
  return v;
}
