// Our own check of an ID token's signature and issue time. openid-client follows OIDC Core §3.1.3.7:
// an ID token received straight from the token endpoint over TLS need not have its signature checked,
// so it validates the claims but not the JWS. That trusts every hop between us and the IdP (a
// TLS-inspecting proxy, a mis-pointed token endpoint, a loopback test IdP over plain http). Here the
// signature must verify against the keys the provider publishes at its jwks_uri, and an `iat` in the
// future is refused: jose checks `iat` only together with maxTokenAge, and a token "issued" an hour
// from now is either forged or from a clock we should not trust.
import type * as Jose from 'jose';
import { isAllowedIssuer } from './providers.js';

/** Clocks drift; a minute either way is what we forgive for exp, nbf and iat. */
export const CLOCK_TOLERANCE_SEC = 60;

/** jose is loaded on first use, like openid-client: deployments without social login never pay for it. */
const loadJose = (): Promise<typeof Jose> => import('jose');

/** The ID token was not what the provider would have signed: refused, and worth an audit event. */
export class IdTokenRejected extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdTokenRejected';
  }
}

export interface ExpectedToken {
  provider: string; // the cache key: one key set per configured provider
  issuer: string;
  audience: string; // our client_id
  jwksUri: string | undefined;
}

export interface IdTokenVerifier {
  /** Resolves when `idToken` verifies; throws IdTokenRejected when it does not, other errors when the
   *  keys could not be fetched (an outage, not an attack). */
  verify(idToken: string, expected: ExpectedToken, nowMs: number): Promise<void>;
}

export function createIdTokenVerifier(): IdTokenVerifier {
  // createRemoteJWKSet keeps the keys and refetches on an unknown kid (key rotation), so one set per
  // provider is kept for the process; a changed jwks_uri (the provider was reconfigured) replaces it.
  const keySets = new Map<string, { uri: string; keys: Jose.JWTVerifyGetKey }>();

  async function keysOf(expected: ExpectedToken): Promise<Jose.JWTVerifyGetKey> {
    const uri = expected.jwksUri;
    // Same rule as for issuers: keys fetched over plain http could be swapped by anyone on the path.
    if (!uri || !isAllowedIssuer(uri))
      throw new IdTokenRejected(`no usable jwks_uri (${uri ?? 'none'}) to check the ID token against`);
    const cached = keySets.get(expected.provider);
    if (cached && cached.uri === uri) return cached.keys;
    const jose = await loadJose();
    const keys = jose.createRemoteJWKSet(new URL(uri));
    keySets.set(expected.provider, { uri, keys });
    return keys;
  }

  return {
    async verify(idToken, expected, nowMs) {
      const jose = await loadJose();
      const keys = await keysOf(expected);
      let payload: Jose.JWTPayload;
      try {
        ({ payload } = await jose.jwtVerify(idToken, keys, {
          issuer: expected.issuer,
          audience: expected.audience,
          clockTolerance: CLOCK_TOLERANCE_SEC,
          currentDate: new Date(nowMs),
          requiredClaims: ['iat', 'exp', 'sub'],
        }));
      } catch (err) {
        throw asRejection(jose, err);
      }
      if (typeof payload.iat !== 'number' || payload.iat > nowMs / 1000 + CLOCK_TOLERANCE_SEC) {
        throw new IdTokenRejected(`ID token "iat" (${String(payload.iat)}) is in the future`);
      }
    },
  };
}

/** A JOSE verdict on the token is a rejection; a key set we could not fetch in time is an outage. */
function asRejection(jose: typeof Jose, err: unknown): unknown {
  if (err instanceof jose.errors.JWKSTimeout) return err;
  if (err instanceof jose.errors.JOSEError)
    return new IdTokenRejected(`ID token refused: ${err.message} (${err.code})`, { cause: err });
  return err;
}
