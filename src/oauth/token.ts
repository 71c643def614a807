// The token endpoint (architecture.md#oauth; OAuth 2.1 §4.1.3, §4.3): a code for tokens with its PKCE verifier,
// and refresh-token rotation with reuse detection. Every refusal is an RFC 6749 §5.2 error.
//
// A code and a refresh token are redeemed by one function (`redeem`): the token must be live and the
// client's, its user enabled; the tokens it buys are written before it is spent, and the spend (one
// conditional UPDATE) is the commit, so no crash leaves a spent token without its successor. A second
// presentation ends the grant — except a refresh token retried by its client within RETRY_GRACE_MS
// while its successor is unused: the answer was lost, and the retry gets a new successor
// (docs/architecture.md#oauth).
import type { OAuthClient, OAuthToken, Store } from '../store/types.js';
import { OAuthError } from './errors.js';
import { verifierMatches } from './pkce.js';
import { RETRY_GRACE_MS, type Grant, type IssuedTokens, type OAuthTokenService } from './tokens.js';
import { sha256Hex } from '../security/tokens.js';
import { DEVICE_GRANT, pollDeviceCode, refuseMetadataDocumentClient } from './device.js';

export interface TokenContext {
  store: Store;
  tokens: OAuthTokenService;
  now(): Date;
  /** A replayed refresh token ended its family (for the audit log). */
  onReuse(token: OAuthToken): void;
  onIssue(
    grant: 'authorization_code' | 'refresh_token' | 'device_code',
    token: Pick<OAuthToken, 'userId' | 'clientId' | 'resource'>,
  ): void;
}

export type TokenParams = Partial<
  Record<
    | 'grant_type'
    | 'code'
    | 'redirect_uri'
    | 'client_id'
    | 'code_verifier'
    | 'refresh_token'
    | 'resource'
    | 'scope'
    | 'device_code',
    string
  >
>;

const invalidGrant = (why: string) => new OAuthError('invalid_grant', why);
/** RFC 6749 §5.2: the MCP SDK and mcp-remote forget a client, and register again, only on this code. */
const invalidClient = () =>
  new OAuthError('invalid_client', 'the client is not registered here (unknown or revoked): register again');

export async function tokenRequest(p: TokenParams, ctx: TokenContext): Promise<IssuedTokens> {
  if (!p.client_id)
    throw new OAuthError('invalid_request', 'client_id is required (public clients identify themselves)');
  const grant = GRANTS[p.grant_type ?? ''];
  if (!grant) {
    throw new OAuthError('unsupported_grant_type', `grant_type must be ${Object.keys(GRANTS).join(', ')}`);
  }
  const client = p.client_id.length <= 2000 ? await ctx.store.findOAuthClient(p.client_id) : null;
  if (!client) throw invalidClient();
  return grant(p, client, ctx);
}

/** RFC 8628 §3.4: pending, slow_down, expired, denied — or, once approved, tokens of a new family. */
async function redeemDeviceCode(p: TokenParams, client: OAuthClient, ctx: TokenContext): Promise<IssuedTokens> {
  refuseMetadataDocumentClient(client);
  const auth = await pollDeviceCode(ctx.store, p, ctx.now());
  const grant = {
    clientId: auth.clientId,
    userId: auth.userId!,
    resource: auth.resource,
    scopes: auth.scopes ? auth.scopes.split(' ') : [],
  };
  await usable(ctx, grant);
  const issued = await ctx.tokens.issueTokens(grant);
  ctx.onIssue('device_code', grant);
  return issued;
}

function redeemCode(p: TokenParams, client: OAuthClient, ctx: TokenContext): Promise<IssuedTokens> {
  return redeem(ctx, client, 'code', p.code, (code) => {
    if (code.redirectUri !== p.redirect_uri) throw invalidGrant('redirect_uri differs from the authorization request');
    if (!verifierMatches(p.code_verifier, code.codeChallenge ?? '')) {
      throw invalidGrant('code_verifier does not match the code_challenge');
    }
    if (p.resource !== undefined && p.resource !== code.resource) {
      throw new OAuthError('invalid_target', 'resource differs from the authorization request');
    }
    return grantOf(code);
  });
}

function refresh(p: TokenParams, client: OAuthClient, ctx: TokenContext): Promise<IssuedTokens> {
  return redeem(ctx, client, 'refresh', p.refresh_token, (old) => {
    if (p.resource !== undefined && p.resource !== old.resource) {
      throw new OAuthError('invalid_target', 'resource differs from the grant');
    }
    const granted = grantOf(old);
    const scopes = p.scope === undefined ? granted.scopes : p.scope.split(' ').filter(Boolean);
    if (!scopes.every((s) => granted.scopes.includes(s))) {
      throw new OAuthError('invalid_scope', 'a refresh may narrow the scopes, never widen them');
    }
    return { ...granted, scopes };
  });
}

type GrantHandler = (p: TokenParams, client: OAuthClient, ctx: TokenContext) => Promise<IssuedTokens>;
const GRANTS: Partial<Record<string, GrantHandler>> = {
  authorization_code: redeemCode,
  refresh_token: refresh,
  [DEVICE_GRANT]: redeemDeviceCode,
};

const NAMES = { code: ['code', 'code'], refresh: ['refresh token', 'refresh_token'] } as const;

/**
 * The checks a code and a refresh token share (client, expiry, single use, family revocation), once.
 * `check` adds the grant's own; a code fails them only once (it is burned), a refresh token keeps its
 * grant. Two presentations race on the spend: exactly one is first.
 */
async function redeem(
  ctx: TokenContext,
  client: OAuthClient,
  kind: 'code' | 'refresh',
  secret: string | undefined,
  check: (t: OAuthToken) => Grant,
): Promise<IssuedTokens> {
  const [name, param] = NAMES[kind];
  if (!secret || secret.length > 100) throw new OAuthError('invalid_request', `${param} is required`);
  const hash = sha256Hex(secret);
  const found = await ctx.store.findOAuthToken(hash, kind, ctx.now());
  if (!found) throw invalidGrant(`the ${name} is unknown, expired or revoked`);
  if (found.clientId !== client.id) {
    // Presented by another client: it leaked. Its grant ends rather than wait for the replay.
    await ctx.tokens.revokeFamily(found.family);
    throw invalidGrant(`the ${name} was issued to another client; its grant is revoked`);
  }
  if (found.usedAt && !mayRetry(found, ctx.now())) return replayed(ctx, found);
  const grant = await checked(ctx, found, check);
  await usable(ctx, found);
  // Written before the spend: whatever happens after it, a spent token has its successor.
  const issued = await ctx.tokens.issueTokens(grant, found.family);
  const used = await ctx.store.useOAuthToken(hash, kind, ctx.now());
  const retry = used && !used.first;
  if (retry && !(kind === 'refresh' && (await retried(ctx, used.token, issued)))) return replayed(ctx, used.token);
  if (!used || !(await ctx.store.findOAuthToken(hash, kind, ctx.now()))) {
    // A replay or a revocation ended the family between our steps (it deleted the used row): ours end too.
    await ctx.tokens.revokeFamily(found.family);
    throw invalidGrant('the grant was revoked');
  }
  ctx.onIssue(kind === 'code' ? 'authorization_code' : 'refresh_token', found);
  return issued;
}

/** The grant's own checks; a code that fails them is burned (OAuth 2.1 §4.1.3: one presentation). */
async function checked(ctx: TokenContext, t: OAuthToken, check: (t: OAuthToken) => Grant): Promise<Grant> {
  try {
    return check(t);
  } catch (err) {
    if (t.kind === 'code') await ctx.tokens.revokeFamily(t.family);
    throw err;
  }
}

/** A used refresh token may come back from its client for a short while: its answer may have been lost. */
const mayRetry = (t: OAuthToken, now: Date) =>
  t.kind === 'refresh' && t.usedAt !== null && now.getTime() - t.usedAt.getTime() <= RETRY_GRACE_MS;

/**
 * A retry within the grace window: the successor still unused is replaced by `issued` (it and every
 * other access token of the family stop working). False when a successor was used meanwhile: a replay.
 */
async function retried(ctx: TokenContext, spent: OAuthToken, issued: IssuedTokens): Promise<boolean> {
  if (!mayRetry(spent, ctx.now())) return false;
  const refreshHash = sha256Hex(issued.refreshToken);
  if ((await ctx.tokens.supersede(spent, [sha256Hex(issued.accessToken), refreshHash])) === 'replayed') return false;
  // Of two retries at once, a later one ends the earlier one's pair, as it ends the lost one; if each
  // ended the other's, neither answers, and the next retry works.
  if (!(await ctx.store.findOAuthToken(refreshHash, 'refresh', ctx.now()))) {
    throw invalidGrant('another retry of this refresh token was answered; try again');
  }
  return true;
}

/** A used code or refresh token came back: one of its holders is not the client. End the whole grant. */
async function replayed(ctx: TokenContext, t: OAuthToken): Promise<never> {
  await ctx.tokens.revokeFamily(t.family);
  ctx.onReuse(t);
  throw invalidGrant(
    t.kind === 'code'
      ? 'the code was already used; the tokens issued for it are revoked'
      : 'the refresh token was already used; every token of this grant is now revoked',
  );
}

/** The user must still be enabled and the client still registered. */
async function usable(ctx: TokenContext, t: Pick<OAuthToken, 'userId' | 'clientId'>): Promise<void> {
  const [user, client] = await Promise.all([ctx.store.findUserById(t.userId), ctx.store.findOAuthClient(t.clientId)]);
  if (!client) throw invalidClient();
  if (!user || user.disabled) throw invalidGrant('the grant is no longer valid');
  await ctx.store.touchOAuthClient(t.clientId, ctx.now());
}

const grantOf = (t: OAuthToken): Grant => ({
  clientId: t.clientId,
  userId: t.userId,
  resource: t.resource,
  scopes: t.scopes ? t.scopes.split(' ') : [],
});

/** The JSON of a successful token answer (RFC 6749 §5.1). */
export function tokenResponse(t: IssuedTokens): Record<string, unknown> {
  return {
    access_token: t.accessToken,
    token_type: 'Bearer',
    expires_in: t.expiresIn,
    refresh_token: t.refreshToken,
    ...(t.scope ? { scope: t.scope } : {}),
  };
}

/** RFC 7009: ends the token's family when the token is ours and the client's; unknown tokens are no error. */
export async function revokeRequest(
  p: { token?: string; client_id?: string },
  ctx: Pick<TokenContext, 'store' | 'tokens' | 'now'>,
): Promise<OAuthToken | null> {
  if (!p.token) throw new OAuthError('invalid_request', 'token is required');
  if (p.token.length > 100) return null;
  const hash = sha256Hex(p.token);
  const found =
    (await ctx.store.findOAuthToken(hash, 'access', ctx.now())) ??
    (await ctx.store.findOAuthToken(hash, 'refresh', ctx.now()));
  if (!found) return null;
  // Another client's token is not this one's to revoke (RFC 7009 §2.1); say nothing about it either.
  if (p.client_id !== undefined && p.client_id !== found.clientId) return null;
  await ctx.tokens.revokeFamily(found.family);
  return found;
}
