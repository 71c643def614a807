// The signed identity (architecture.md#access): `X-Forwarded-Assertion`, a short-lived ES256 JWT an app can verify
// against `/auth/.well-known/jwks.json`, so it need not trust the network between Gatehouse and itself.
//
// Hot path: signing costs ~100 µs, so an assertion is made once per (session, key) and reused until
// shortly before it expires; the cache is bounded. Key rotation keeps the previous public key in the
// JWKS for an overlap, so assertions signed just before a rotation still verify.
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export const ASSERTION_TTL_SEC = 60;
/** A cached assertion is replaced this long before it expires, so none reaches an app nearly dead. */
const REUSE_MARGIN_SEC = 15;

/** A signing key as stored (sealed at rest by the caller): the private JWK with its id and birth. */
export interface StoredSigningKey {
  kid: string;
  privateJwk: JWK;
  createdAt: number; // ms
}

export interface AssertionClaims {
  sub: string;
  email: string;
  name: string;
  provider: string;
  role: string;
  groups: readonly string[];
  amr: readonly string[];
}

export interface AssertionSigner {
  /** The assertion for this session's identity, from the cache when still fresh. */
  assertionFor(cacheKey: string, claims: AssertionClaims): Promise<string>;
  /** The cached assertion when still fresh, else null (synchronous: the hot path's fast case). */
  cached(cacheKey: string): string | null;
  /** The JWKS document: the current key, and the previous one during its overlap. */
  jwks(): { keys: JWK[] };
}

export async function newSigningKey(now: number = Date.now()): Promise<StoredSigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = `gh-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return { kid, privateJwk: { ...privateJwk, kid, alg: 'ES256', use: 'sig' }, createdAt: now };
}

function publicOf(k: StoredSigningKey): JWK {
  const { d: _private, ...pub } = k.privateJwk;
  return { ...pub, kid: k.kid, alg: 'ES256', use: 'sig' };
}

export async function createAssertionSigner(opts: {
  issuer: string | (() => string); // public URL + /auth
  audience: string | (() => string); // public URL origin
  current: StoredSigningKey;
  previous?: StoredSigningKey | null;
  /** How long the previous key stays published after the current one was made. */
  overlapMs?: number;
  now?: () => number;
  maxCached?: number;
}): Promise<AssertionSigner> {
  const now = opts.now ?? Date.now;
  const overlapMs = opts.overlapMs ?? 10 * 60_000;
  const key = await importJWK(opts.current.privateJwk, 'ES256');
  const cache = new Map<string, { jwt: string; exp: number }>();
  const maxCached = opts.maxCached ?? 100_000;

  const issuer = typeof opts.issuer === 'string' ? () => opts.issuer as string : opts.issuer;
  const audience = typeof opts.audience === 'string' ? () => opts.audience as string : opts.audience;
  const fresh = (cacheKey: string) => {
    const hit = cache.get(cacheKey);
    return hit && hit.exp - REUSE_MARGIN_SEC > Math.floor(now() / 1000) ? hit.jwt : null;
  };
  return {
    cached: fresh,
    async assertionFor(cacheKey, claims) {
      const t = Math.floor(now() / 1000);
      const hit = fresh(cacheKey);
      if (hit) return hit;
      const exp = t + ASSERTION_TTL_SEC;
      const jwt = await new SignJWT({ email: claims.email, name: claims.name, provider: claims.provider, role: claims.role, groups: [...claims.groups], amr: [...claims.amr] })
        .setProtectedHeader({ alg: 'ES256', kid: opts.current.kid, typ: 'JWT' })
        .setIssuer(issuer())
        .setAudience(audience())
        .setSubject(claims.sub)
        .setIssuedAt(t)
        .setExpirationTime(exp)
        .sign(key);
      if (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey, { jwt, exp });
      return jwt;
    },
    jwks() {
      const keys = [publicOf(opts.current)];
      const prev = opts.previous;
      if (prev && now() - opts.current.createdAt < overlapMs) keys.push(publicOf(prev));
      return { keys };
    },
  };
}
