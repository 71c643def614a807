// The token endpoint (SPEC §11; OAuth 2.1 §4.1.3, §4.3): a code for tokens with its PKCE verifier,
// and refresh-token rotation with reuse detection. Every refusal is an RFC 6749 §5.2 error.
import type { OAuthToken, Store } from '../store/types.js';
import { OAuthError } from './errors.js';
import { verifierMatches } from './pkce.js';
import type { IssuedTokens, OAuthTokenService } from './tokens.js';
import { sha256Hex } from '../security/tokens.js';
import { DEVICE_GRANT, pollDeviceCode } from './device.js';

export interface TokenContext {
  store: Store;
  tokens: OAuthTokenService;
  now(): Date;
  /** A replayed refresh token ended its family (for the audit log). */
  onReuse(token: OAuthToken): void;
  onIssue(grant: 'authorization_code' | 'refresh_token' | 'device_code', token: Pick<OAuthToken, 'userId' | 'clientId' | 'resource'>): void;
}

export type TokenParams = Partial<Record<'grant_type' | 'code' | 'redirect_uri' | 'client_id' | 'code_verifier' | 'refresh_token' | 'resource' | 'scope' | 'device_code', string>>;

const invalidGrant = (why: string) => new OAuthError('invalid_grant', why);

export async function tokenRequest(p: TokenParams, ctx: TokenContext): Promise<IssuedTokens> {
  if (!p.client_id) throw new OAuthError('invalid_request', 'client_id is required (public clients identify themselves)');
  if (p.grant_type === 'authorization_code') return redeemCode(p, ctx);
  if (p.grant_type === 'refresh_token') return refresh(p, ctx);
  if (p.grant_type === DEVICE_GRANT) return redeemDeviceCode(p, ctx);
  throw new OAuthError('unsupported_grant_type', `grant_type must be authorization_code, refresh_token or ${DEVICE_GRANT}`);
}

/** RFC 8628 §3.4: pending, slow_down, expired, denied — or, once approved, tokens of a new family. */
async function redeemDeviceCode(p: TokenParams, ctx: TokenContext): Promise<IssuedTokens> {
  const auth = await pollDeviceCode(ctx.store, p, ctx.now());
  const grant = { clientId: auth.clientId, userId: auth.userId!, resource: auth.resource, scopes: auth.scopes ? auth.scopes.split(' ') : [] };
  await usable(ctx, grant);
  const issued = await ctx.tokens.issueTokens(grant);
  ctx.onIssue('device_code', grant);
  return issued;
}

async function redeemCode(p: TokenParams, ctx: TokenContext): Promise<IssuedTokens> {
  if (!p.code || p.code.length > 100) throw new OAuthError('invalid_request', 'code is required');
  const hash = sha256Hex(p.code);
  // Used up before any check: a code is burned by its first presentation, right or wrong.
  const used = await ctx.store.useOAuthToken(hash, 'code', ctx.now());
  if (!used) throw invalidGrant('the code is unknown or expired');
  const code = used.token;
  if (!used.first) {
    // A code presented twice was intercepted (OAuth 2.1 §4.1.3): the tokens issued for it end too.
    await ctx.tokens.revokeFamily(code.family);
    ctx.onReuse(code);
    throw invalidGrant('the code was already used; the tokens issued for it are revoked');
  }
  if (code.clientId !== p.client_id) throw invalidGrant('the code was issued to another client');
  if (code.redirectUri !== p.redirect_uri) throw invalidGrant('redirect_uri differs from the authorization request');
  if (!verifierMatches(p.code_verifier, code.codeChallenge ?? '')) throw invalidGrant('code_verifier does not match the code_challenge');
  if (p.resource !== undefined && p.resource !== code.resource) throw new OAuthError('invalid_target', 'resource differs from the authorization request');
  await usable(ctx, code);
  // The grant's tokens share the code's family: a replay of the code ends them.
  const issued = await ctx.tokens.issueTokens(grantOf(code), code.family);
  await unlessRevokedMeanwhile(ctx, hash, 'code', code.family);
  ctx.onIssue('authorization_code', code);
  return issued;
}

async function refresh(p: TokenParams, ctx: TokenContext): Promise<IssuedTokens> {
  if (!p.refresh_token || p.refresh_token.length > 100) throw new OAuthError('invalid_request', 'refresh_token is required');
  const hash = sha256Hex(p.refresh_token);
  const used = await ctx.store.useOAuthToken(hash, 'refresh', ctx.now());
  if (!used) throw invalidGrant('the refresh token is unknown, expired or revoked');
  const old = used.token;
  if (!used.first) {
    // A rotated token came back: one of the two holders is not the client. End the whole grant.
    await ctx.tokens.revokeFamily(old.family);
    ctx.onReuse(old);
    throw invalidGrant('the refresh token was already used; every token of this grant is now revoked');
  }
  if (old.clientId !== p.client_id) throw invalidGrant('the refresh token was issued to another client');
  if (p.resource !== undefined && p.resource !== old.resource) throw new OAuthError('invalid_target', 'resource differs from the grant');
  const scopes = p.scope === undefined ? grantOf(old).scopes : p.scope.split(' ').filter(Boolean);
  if (!scopes.every((s) => grantOf(old).scopes.includes(s))) throw new OAuthError('invalid_scope', 'a refresh may narrow the scopes, never widen them');
  await usable(ctx, old);
  const issued = await ctx.tokens.issueTokens({ ...grantOf(old), scopes }, old.family);
  await unlessRevokedMeanwhile(ctx, hash, 'refresh', old.family);
  ctx.onIssue('refresh_token', old);
  return issued;
}

/**
 * A replay that raced this exchange ended the family between our two steps: then the new tokens must
 * die too. The replayer deletes the family (the used row included) before or after our insert; either
 * way, looking for the used row afterwards tells.
 */
async function unlessRevokedMeanwhile(ctx: TokenContext, hash: string, kind: 'code' | 'refresh', family: string): Promise<void> {
  if (await ctx.store.findOAuthToken(hash, kind, ctx.now())) return;
  await ctx.tokens.revokeFamily(family);
  throw invalidGrant('the grant was revoked');
}

/** The user must still be enabled and the client still registered. */
async function usable(ctx: TokenContext, t: Pick<OAuthToken, 'userId' | 'clientId'>): Promise<void> {
  const [user, client] = await Promise.all([ctx.store.findUserById(t.userId), ctx.store.findOAuthClient(t.clientId)]);
  if (!user || user.disabled || !client) throw invalidGrant('the grant is no longer valid');
  await ctx.store.touchOAuthClient(t.clientId, ctx.now());
}

const grantOf = (t: OAuthToken) => ({ clientId: t.clientId, userId: t.userId, resource: t.resource, scopes: t.scopes ? t.scopes.split(' ') : [] });

/** The JSON of a successful token answer (RFC 6749 §5.1). */
export function tokenResponse(t: IssuedTokens): Record<string, unknown> {
  return { access_token: t.accessToken, token_type: 'Bearer', expires_in: t.expiresIn, refresh_token: t.refreshToken, ...(t.scope ? { scope: t.scope } : {}) };
}

/** RFC 7009: ends the token's family when the token is ours and the client's; unknown tokens are no error. */
export async function revokeRequest(p: { token?: string; client_id?: string }, ctx: Pick<TokenContext, 'store' | 'tokens' | 'now'>): Promise<OAuthToken | null> {
  if (!p.token) throw new OAuthError('invalid_request', 'token is required');
  if (p.token.length > 100) return null;
  const hash = sha256Hex(p.token);
  const found = (await ctx.store.findOAuthToken(hash, 'access', ctx.now())) ?? (await ctx.store.findOAuthToken(hash, 'refresh', ctx.now()));
  if (!found) return null;
  // Another client's token is not this one's to revoke (RFC 7009 §2.1); say nothing about it either.
  if (p.client_id !== undefined && p.client_id !== found.clientId) return null;
  await ctx.tokens.revokeFamily(found.family);
  return found;
}
