// The authorization endpoint (architecture.md#oauth; OAuth 2.1 §4.1, RFC 8707, RFC 9207): code flow only, PKCE
// S256 required, `resource` required and one of ours, exact redirect URI. A signed-in user approves
// once per client, resource and scopes; the answer carries `state` back and `iss`.
//
// Order matters (RFC 6749 §4.1.2.1): until the client and its redirect URI are known good, nothing is
// sent anywhere — an error is a page. After that, errors go back as redirects only to a client the
// deployment verified; a self-registered one gets a page too (docs/architecture.md#oauth).
import type { OAuthClient } from '../store/types.js';
import { OAuthError } from './errors.js';
import { challengeProblem } from './pkce.js';
import { redirectMatches, verifiedByDeployment } from './clients.js';
import { resourceByUrl, type McpResource } from './resources.js';
import { issuerOf } from './metadata.js';

export const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'scope',
  'state',
] as const;
export type AuthorizeParams = Partial<Record<(typeof AUTHORIZE_PARAMS)[number], string>>;

export interface AuthorizeRequest {
  client: OAuthClient;
  redirectUri: string;
  resource: McpResource;
  resourceUrl: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string;
}

export type Checked =
  | { ok: AuthorizeRequest }
  /** Not safe to redirect: shown to the user as a page. */
  | { page: string }
  /** Sent back to the client at its redirect URI. */
  | { redirect: string };

export interface AuthorizeContext {
  origin: string;
  prefix: string;
  resources: readonly McpResource[];
  /** The client, null when unknown, or a sentence saying why it cannot be used (its metadata document). */
  findClient(id: string): Promise<OAuthClient | string | null>;
}

const MAX_PARAM = 2048;

/** Checks an authorization request. `repeated` names parameters given more than once (RFC 6749 §3.1). */
export async function checkAuthorization(
  p: AuthorizeParams,
  repeated: readonly string[],
  ctx: AuthorizeContext,
): Promise<Checked> {
  for (const k of AUTHORIZE_PARAMS)
    if ((p[k]?.length ?? 0) > MAX_PARAM) return { page: `The parameter ${k} is too long.` };
  if (repeated.includes('client_id') || repeated.includes('redirect_uri'))
    return { page: 'The request names its client or redirect URI more than once.' };
  if (!p.client_id) return { page: 'The request does not say which application is asking (client_id is missing).' };
  const client = await ctx.findClient(p.client_id);
  if (typeof client === 'string') return { page: client };
  if (!client) return { page: 'The application is not registered here (unknown client_id). Ask it to connect again.' };
  const redirectUri = p.redirect_uri ?? (client.redirectUris.length === 1 ? client.redirectUris[0]! : null);
  if (!redirectUri) return { page: 'The request does not say where to send the answer (redirect_uri is missing).' };
  if (!redirectMatches(client.redirectUris, redirectUri))
    return { page: 'The application asked to send the answer to an address it did not register. Nothing was sent.' };

  const back = (code: OAuthError['code'], description: string): Checked => {
    // A self-registered client (DCR, a metadata document) may have registered any address: redirecting
    // its errors would let anyone bounce a visitor, signed in or not, to it (an open redirect).
    if (!verifiedByDeployment(client)) {
      return { page: `The application's request cannot be used: ${description} (${code}). Nothing was sent to it.` };
    }
    const iss = issuerOf(ctx.origin, ctx.prefix);
    return { redirect: errorRedirect(redirectUri, new OAuthError(code, description), p.state ?? null, iss) };
  };
  if (repeated.length) return back('invalid_request', `parameters given more than once: ${repeated.join(', ')}`);
  if (p.response_type !== 'code') return back('unsupported_response_type', 'response_type must be code');
  const pkce = challengeProblem(p.code_challenge, p.code_challenge_method);
  if (pkce) return back('invalid_request', pkce);
  if (!p.resource) return back('invalid_target', 'resource is required (RFC 8707): the URL of the MCP server');
  const resource = resourceByUrl(ctx.resources, ctx.origin, p.resource);
  if (!resource) return back('invalid_target', 'resource is not a protected resource of this server');
  // Scopes the resource does not name are left out (RFC 6749 §3.3); the token answer says which were granted.
  const asked = (p.scope ?? '').split(' ').filter(Boolean);
  const scopes = resource.scopes.length ? [...new Set(asked.filter((s) => resource.scopes.includes(s)))] : [];
  return {
    ok: {
      client,
      redirectUri,
      resource,
      resourceUrl: p.resource,
      scopes,
      state: p.state ?? null,
      codeChallenge: p.code_challenge!,
    },
  };
}

/** The client's redirect URI with the answer added to its query (its own query kept). */
export function answerRedirect(redirectUri: string, params: Record<string, string | null>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v);
  return u.toString();
}

export function errorRedirect(redirectUri: string, err: OAuthError, state: string | null, iss: string): string {
  return answerRedirect(redirectUri, { error: err.code, error_description: err.description, state, iss });
}

/** What the consent page shows as the place the answer goes: a host, or a native app's scheme. */
export function redirectHost(redirectUri: string): string {
  const u = new URL(redirectUri);
  return u.host ? u.host : `${u.protocol}//${u.pathname.split('/')[0] ?? ''}`.replace(/\/+$/, '');
}

/** form-action for the consent page: our own origin and the place the answer goes (browsers apply it to the
 *  redirect). */
export function formActionFor(redirectUri: string): string {
  const u = new URL(redirectUri);
  return u.protocol === 'http:' || u.protocol === 'https:' ? `'self' ${u.origin}` : `'self' ${u.protocol}`;
}

/** Whether a remembered consent covers these scopes. */
export function consentCovers(stored: string, scopes: readonly string[]): boolean {
  const have = new Set(stored.split(' ').filter(Boolean));
  return scopes.every((s) => have.has(s));
}
