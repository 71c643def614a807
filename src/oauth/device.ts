// The device authorization grant (RFC 8628, architecture.md#devices) for CLIs, TVs and agents: a device asks for a
// device code and a short user code, the person approves at /auth/device while signed in, and the
// device polls the token endpoint. Only SHA-256 hashes of both codes are stored. Approval and the
// exchange are each one atomic store step (one winner), so a code buys tokens once.
//
// What a token is for: with `resource` (one of the MCP resources), that resource, exactly as a code
// flow token; without, the whole app (architecture.md#devices) — then `resource` holds the public origin, which no MCP
// resource URL equals (those are origin + path). A whole-app token carries no scopes: scopes on a
// token narrow what access rules let through (`scope:S`), and a person must not grant them to
// themselves (architecture.md#devices). The built-in client `gatehouse-cli` is the only one whose
// whole-app token also opens the admin API (auth/admin-api.ts), and only when its user is an admin.
import { randomInt } from 'node:crypto';
import { randomToken, sha256Hex } from '../security/tokens.js';
import { isStoreError, type DeviceAuthorization, type OAuthClient, type Store } from '../store/types.js';
import { OAuthError } from './errors.js';
import { resourceByUrl, type McpResource } from './resources.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const CLI_CLIENT_ID = 'gatehouse-cli';
export const DEVICE_TTL_MS = 10 * 60_000;
export const DEVICE_INTERVAL_SEC = 5;
/** RFC 8628 §6.1's base-20 consonants: no digits or vowels, so no look-alikes and no words. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 8;

export const deviceHashOf = (deviceCode: string) => sha256Hex(`device:${deviceCode}`);
export const userHashOf = (userCode: string) => sha256Hex(`device-user:${userCode}`);

/** A user code as shown: XXXX-XXXX. */
export const showUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/** What a person typed, as a user code: case, spaces and dashes forgiven; null when it cannot be one. */
export function normalUserCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== USER_CODE_LENGTH) return null;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return null;
  return code;
}

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return code;
}

/** The built-in public client of the device grant; its row is made on first use (tokens reference it). */
export async function builtinClient(store: Store, now: Date): Promise<OAuthClient> {
  const found = await store.findOAuthClient(CLI_CLIENT_ID);
  if (found) return found;
  const client: OAuthClient = {
    id: CLI_CLIENT_ID,
    kind: 'builtin',
    name: 'Gatehouse CLI',
    redirectUris: [],
    createdAt: now,
    lastUsedAt: null,
    cachedUntil: null,
  };
  await store.createOAuthClient(client).catch((err: unknown) => {
    if (!isStoreError(err, 'DUPLICATE')) throw err; // another request made it first: the same row
  });
  return client;
}

export interface DeviceRequest {
  client: OAuthClient;
  /** The MCP resource asked for; undefined: the whole app. */
  resource: McpResource | undefined;
  resourceUrl: string;
  scopes: string[];
}

/** Checks a device authorization request (RFC 8628 §3.1): the client, and what it asks for. */
export async function checkDeviceRequest(
  p: { client_id?: string; scope?: string; resource?: string },
  ctx: { store: Store; now: Date; origin: string; resources: readonly McpResource[] },
): Promise<DeviceRequest> {
  if (!p.client_id) throw new OAuthError('invalid_request', 'client_id is required');
  const client =
    p.client_id === CLI_CLIENT_ID
      ? await builtinClient(ctx.store, ctx.now)
      : await ctx.store.findOAuthClient(p.client_id.slice(0, 2000));
  if (!client)
    throw new OAuthError('invalid_client', 'unknown client_id: register the client first, or use gatehouse-cli', 401);
  refuseMetadataDocumentClient(client);
  if (p.resource === undefined || p.resource === '')
    return { client, resource: undefined, resourceUrl: ctx.origin, scopes: [] };
  const resource = resourceByUrl(ctx.resources, ctx.origin, p.resource);
  if (!resource)
    throw new OAuthError(
      'invalid_target',
      'resource is not one of the protected resources here (leave it out for the whole app)',
    );
  const asked = (p.scope ?? '').split(' ').filter(Boolean);
  // As the authorization endpoint: scopes the resource does not offer are dropped, not refused.
  const scopes = resource.scopes.length ? [...new Set(asked.filter((s) => resource.scopes.includes(s)))] : [];
  return { client, resource, resourceUrl: p.resource, scopes };
}

/**
 * A metadata-document client is who its redirect URIs say it is, and the device grant has none: anyone
 * could start a flow under the id of a document another user once used, and be approved under its
 * name (docs/architecture.md#devices).
 */
export function refuseMetadataDocumentClient(client: Pick<OAuthClient, 'kind'>): void {
  if (client.kind === 'cimd') {
    const why =
      'the device grant is not open to clients identified by a metadata document; ' +
      'register one (RFC 7591) or use gatehouse-cli';
    throw new OAuthError('unauthorized_client', why);
  }
}

export interface IssuedDeviceCodes {
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** Stores a new authorization; a user code that collides with a live one is drawn again. */
export async function issueDeviceCodes(store: Store, req: DeviceRequest, now: number): Promise<IssuedDeviceCodes> {
  const deviceCode = randomToken(32);
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    const row: DeviceAuthorization = {
      deviceHash: deviceHashOf(deviceCode),
      userHash: userHashOf(userCode),
      clientId: req.client.id,
      scopes: req.scopes.join(' '),
      resource: req.resourceUrl,
      createdAt: new Date(now),
      expiresAt: new Date(now + DEVICE_TTL_MS),
      intervalSec: DEVICE_INTERVAL_SEC,
      lastPollAt: null,
      status: 'pending',
      userId: null,
    };
    try {
      await store.createDeviceAuthorization(row);
      return { deviceCode, userCode, expiresIn: DEVICE_TTL_MS / 1000, interval: DEVICE_INTERVAL_SEC };
    } catch (err) {
      if (!isStoreError(err, 'DUPLICATE') || attempt >= 4) throw err;
    }
  }
}

/** The JSON answer of the device authorization endpoint (RFC 8628 §3.2). */
export function deviceAuthorizationResponse(
  issued: IssuedDeviceCodes,
  verificationUri: string,
): Record<string, unknown> {
  const shown = showUserCode(issued.userCode);
  return {
    device_code: issued.deviceCode,
    user_code: shown,
    verification_uri: verificationUri,
    verification_uri_complete: `${verificationUri}?user_code=${shown}`,
    expires_in: issued.expiresIn,
    interval: issued.interval,
  };
}

/**
 * One poll of the token endpoint with a device code (RFC 8628 §3.4–3.5): the decided authorization
 * (taken: one winner), or the error the device must see. A denied one is used up too, so the next
 * poll is an unknown code.
 */
export async function pollDeviceCode(
  store: Store,
  p: { device_code?: string; client_id?: string },
  now: Date,
): Promise<DeviceAuthorization> {
  if (!p.device_code || p.device_code.length > 100) throw new OAuthError('invalid_request', 'device_code is required');
  const hash = deviceHashOf(p.device_code);
  const polled = await store.pollDeviceAuthorization(hash, now);
  if (!polled) throw new OAuthError('invalid_grant', 'the device code is unknown or already used');
  const { auth, tooFast } = polled;
  if (auth.clientId !== p.client_id)
    throw new OAuthError('invalid_grant', 'the device code was issued to another client');
  if (auth.expiresAt.getTime() <= now.getTime())
    throw new OAuthError('expired_token', 'the device code expired; start again');
  if (auth.status === 'pending') {
    if (tooFast)
      throw new OAuthError(
        'slow_down',
        `polling faster than the interval; wait ${auth.intervalSec} seconds between polls`,
      );
    throw new OAuthError('authorization_pending', 'the user has not approved yet');
  }
  const decided = await store.takeDecidedDeviceAuthorization(hash);
  if (!decided) throw new OAuthError('invalid_grant', 'the device code was already used');
  if (decided.status === 'denied') throw new OAuthError('access_denied', 'the user denied the request');
  return decided;
}
