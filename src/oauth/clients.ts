// OAuth clients (architecture.md#oauth): the redirect URI rules, Dynamic Client Registration (RFC 7591), and the
// lookup the endpoints share. Clients are public (no secret): PKCE binds a code to whoever started
// the flow, and the exact redirect URI decides where a code may go.
import { randomToken } from '../security/tokens.js';
import type { OAuthClient, Store } from '../store/types.js';
import { OAuthError } from './errors.js';

/**
 * Whether the deployment itself vouches for a client (the built-in CLI); a client that registered itself
 * (DCR) or is named by its own metadata document (CIMD) chose its name and its addresses alone.
 */
export function verifiedByDeployment(client: Pick<OAuthClient, 'kind'>): boolean {
  return client.kind === 'builtin';
}

const MAX_URIS = 10;
const MAX_URI = 2000;
const MAX_NAME = 100;
// Schemes a page could run or read from: never a place to send a code.
const BANNED_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'about:',
  'blob:',
  'filesystem:',
  'ws:',
  'wss:',
  'ftp:',
]);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackRedirect(u: URL): boolean {
  return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
}

/**
 * A redirect URI a client may register: https anywhere, http only on loopback (RFC 8252 §7.3),
 * or a private-use scheme of a native app (RFC 8252 §7.1); never a fragment or credentials.
 */
export function redirectUriProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || !uri || uri.length > MAX_URI)
    return 'each redirect URI must be a URL of at most 2000 characters';
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `redirect URI "${uri.slice(0, 100)}" is not a URL`;
  }
  if (u.hash || uri.includes('#')) return `redirect URI "${uri.slice(0, 100)}" must not have a fragment`;
  if (u.username || u.password) return `redirect URI "${uri.slice(0, 100)}" must not carry credentials`;
  if (BANNED_SCHEMES.has(u.protocol)) return `redirect URI scheme "${u.protocol}" is not allowed`;
  if (u.protocol === 'http:' && !isLoopbackRedirect(u))
    return `redirect URI "${uri.slice(0, 100)}" must use https (http only on 127.0.0.1, [::1] or localhost)`;
  return null;
}

/**
 * Exact match (OAuth 2.1 §4.1.1), except that a loopback redirect URI may name any port: native apps
 * listen on whatever port is free (RFC 8252 §7.3). Scheme, host, path and query must still be equal.
 */
export function redirectMatches(registered: readonly string[], given: string): boolean {
  if (registered.includes(given)) return true;
  let g: URL;
  try {
    g = new URL(given);
  } catch {
    return false;
  }
  if (!isLoopbackRedirect(g)) return false;
  const portless = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}${u.search}`;
  return registered.some((r) => {
    try {
      const u = new URL(r);
      return isLoopbackRedirect(u) && portless(u) === portless(g) && !given.includes('#');
    } catch {
      return false;
    }
  });
}

export interface Registration {
  name: string;
  redirectUris: string[];
}

/** The client metadata of a registration request (RFC 7591 §2), or the reason it is refused. */
export function parseRegistration(body: unknown): Registration {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OAuthError('invalid_client_metadata', 'the body must be a JSON object');
  const m = body as Record<string, unknown>;
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_URIS)
    throw new OAuthError('invalid_redirect_uri', `redirect_uris must list 1 to ${MAX_URIS} URIs`);
  for (const u of uris) {
    const problem = redirectUriProblem(u);
    if (problem) throw new OAuthError('invalid_redirect_uri', problem);
  }
  const grants = m.grant_types ?? ['authorization_code'];
  if (!Array.isArray(grants) || grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) {
    throw new OAuthError('invalid_client_metadata', 'grant_types may only be authorization_code and refresh_token');
  }
  const responses = m.response_types ?? ['code'];
  if (!Array.isArray(responses) || responses.some((r) => r !== 'code'))
    throw new OAuthError('invalid_client_metadata', 'response_types may only be code');
  const auth = m.token_endpoint_auth_method;
  if (auth !== undefined && auth !== 'none')
    throw new OAuthError(
      'invalid_client_metadata',
      'token_endpoint_auth_method must be none: clients are public and use PKCE',
    );
  const name = m.client_name;
  if (name !== undefined && (typeof name !== 'string' || !name.trim() || name.length > MAX_NAME))
    throw new OAuthError('invalid_client_metadata', `client_name must be a text of at most ${MAX_NAME} characters`);
  return {
    name: typeof name === 'string' ? cleanName(name) : defaultName(uris[0] as string),
    redirectUris: uris as string[],
  };
}

/** Control characters out, spaces collapsed: the name is shown on the consent page and sent to the app. */
export function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return (
    name
      .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_NAME) || 'Unnamed client'
  );
}

function defaultName(uri: string): string {
  const u = new URL(uri);
  return u.host ? `Client at ${u.host}` : `Client (${u.protocol.slice(0, -1)})`;
}

/** Registers a DCR client: a random id, no secret. */
export async function registerClient(store: Store, reg: Registration, now: Date): Promise<OAuthClient> {
  const client: OAuthClient = {
    id: `ghc_${randomToken(16)}`,
    kind: 'dcr',
    name: reg.name,
    redirectUris: reg.redirectUris,
    createdAt: now,
    lastUsedAt: null,
    cachedUntil: null,
  };
  await store.createOAuthClient(client);
  return client;
}

/** The JSON a registration answers with (RFC 7591 §3.2.1). */
export function registrationResponse(client: OAuthClient): Record<string, unknown> {
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/** Unused registrations expire: a DCR client never used within a day of registering is removed. */
export const UNUSED_CLIENT_MS = 86_400_000;
