// The signed identity (architecture.md#access): `X-Forwarded-Assertion`, a short-lived ES256 JWT an app can verify
// against `/auth/.well-known/jwks.json`, so it need not trust the network between Gatehouse and itself.
//
// Signing costs ~100 µs: the caller keeps what it signed (identity-signer.ts, once per session
// resolution); this file only signs. Key rotation keeps the previous public key in the JWKS for an
// overlap, so assertions signed just before a rotation still verify.
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export const ASSERTION_TTL_SEC = 60;

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
  /** A fresh assertion of these claims, valid for ASSERTION_TTL_SEC. */
  sign(claims: AssertionClaims): Promise<string>;
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
}): Promise<AssertionSigner> {
  const now = opts.now ?? Date.now;
  const overlapMs = opts.overlapMs ?? 10 * 60_000;
  const key = await importJWK(opts.current.privateJwk, 'ES256');

  const issuer = typeof opts.issuer === 'string' ? () => opts.issuer as string : opts.issuer;
  const audience = typeof opts.audience === 'string' ? () => opts.audience as string : opts.audience;
  return {
    sign(claims) {
      const t = Math.floor(now() / 1000);
      return new SignJWT({ email: claims.email, name: claims.name, provider: claims.provider, role: claims.role, groups: [...claims.groups], amr: [...claims.amr] })
        .setProtectedHeader({ alg: 'ES256', kid: opts.current.kid, typ: 'JWT' })
        .setIssuer(issuer())
        .setAudience(audience())
        .setSubject(claims.sub)
        .setIssuedAt(t)
        .setExpirationTime(t + ASSERTION_TTL_SEC)
        .sign(key);
    },
    jwks() {
      const keys = [publicOf(opts.current)];
      const prev = opts.previous;
      if (prev && now() - opts.current.createdAt < overlapMs) keys.push(publicOf(prev));
      return { keys };
    },
  };
}
