// The contract's OAuth authorization server (architecture.md#oauth): clients, consents and tokens.

/** An OAuth client (architecture.md#oauth): registered by DCR (RFC 7591), or a Client ID Metadata Document
 *  cached under its URL. Public clients only: no secret is issued, PKCE is what binds a code to its client. */
export interface OAuthClient {
  id: string; // DCR: random; CIMD: the document's https URL
  // builtin: gatehouse-cli, the device grant's own client (architecture.md#devices)
  kind: 'dcr' | 'cimd' | 'builtin';
  name: string;
  redirectUris: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  /** CIMD: the cached document is fresh until then; DCR: null. */
  cachedUntil: Date | null;
}

export type OAuthTokenKind = 'code' | 'access' | 'refresh';

/**
 * An authorization code, access token or refresh token. `hash` is SHA-256 hex of the secret. One
 * grant's tokens share a `family`: a replayed refresh token ends them all. `redirectUri` and
 * `codeChallenge` only on codes; `usedAt` on codes and refresh tokens once used.
 */
export interface OAuthToken {
  hash: string;
  kind: OAuthTokenKind;
  family: string;
  clientId: string;
  userId: string;
  resource: string;
  scopes: string; // space-separated
  redirectUri: string | null;
  codeChallenge: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

/** A user's consent for a client on a resource, with the scopes it covered. */
export interface OAuthConsent {
  userId: string;
  clientId: string;
  resource: string;
  scopes: string;
  createdAt: Date;
}

// createOAuthClient: DUPLICATE when the id exists. deleteOAuthClient takes the client's tokens and
// consents with it.
export interface OAuthClientStore {
  createOAuthClient(client: OAuthClient): Promise<void>;
  /** Replaces a cached client's name, redirect URIs and freshness (CIMD re-fetch); false when unknown. */
  updateOAuthClient(id: string, patch: Pick<OAuthClient, 'name' | 'redirectUris' | 'cachedUntil'>): Promise<boolean>;
  findOAuthClient(id: string): Promise<OAuthClient | null>;
  listOAuthClients(): Promise<OAuthClient[]>; // oldest first
  touchOAuthClient(id: string, at: Date): Promise<void>;
  deleteOAuthClient(id: string): Promise<boolean>;
  /** Removes DCR clients never used since registering before `neverUsedBefore`; returns how many. */
  deleteUnusedOAuthClients(neverUsedBefore: Date): Promise<number>;

  /** Remembers (replacing) the consent for (userId, clientId, resource). */
  saveOAuthConsent(consent: OAuthConsent): Promise<void>;
  findOAuthConsent(userId: string, clientId: string, resource: string): Promise<OAuthConsent | null>;
  listOAuthConsents(userId?: string): Promise<OAuthConsent[]>; // oldest first
  /** Forgets the user's consents for a client and ends every token of theirs for it; returns how many
   *  tokens ended. */
  revokeOAuthGrant(userId: string, clientId: string): Promise<number>;
}

export interface OAuthTokenStore {
  createOAuthToken(token: OAuthToken): Promise<void>;
  /** A live token of `kind` (unexpired; a used refresh token is still returned, with usedAt set). */
  findOAuthToken(hash: string, kind: OAuthTokenKind, now: Date): Promise<OAuthToken | null>;
  /**
   * Marks a live code or refresh token used, atomically: `first` is true for exactly one of N
   * concurrent callers; a later use (a replay) gets the token with `first` false. Null when unknown
   * or expired. Used rows stay until they expire, so a replay can be recognised and its family ended.
   */
  useOAuthToken(
    hash: string,
    kind: 'code' | 'refresh',
    now: Date,
  ): Promise<{ token: OAuthToken; first: boolean } | null>;
  /** Ends every code and token of a family; returns how many. */
  deleteOAuthFamily(family: string): Promise<number>;
  /**
   * A refresh token `spent` (used) was presented again by its client, whose answer may have been lost:
   * ends every unused refresh token and every access token of its family except `keep` (the retry's new
   * pair), then answers 'replayed' when a refresh token of the family other than `spent` was used at or
   * after `spent.usedAt` — a successor reached its holder — else 'superseded'. The delete comes first:
   * a successor used concurrently either survives it (and is seen) or is gone before its use (which fails).
   */
  supersedeOAuthRefresh(spent: OAuthToken, keep: string[]): Promise<'superseded' | 'replayed'>;
  /** Tokens (not codes) of a user, or of everyone, for listings. */
  listOAuthTokens(userId?: string): Promise<OAuthToken[]>;
  deleteExpiredOAuthTokens(now: Date): Promise<number>;
}
