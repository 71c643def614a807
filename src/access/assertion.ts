// The signed identity (architecture.md#access): `X-Forwarded-Assertion`, a short-lived ES256 JWT an app can verify
// against `/auth/.well-known/jwks.json`, so it need not trust the network between Gatehouse and itself.
//
// Signing costs ~100 µs: the caller keeps what it signed (identity-signer.ts, once per session
// resolution); this file only signs. Which key signs and which are published at a given moment is the
// key timeline's (key-timeline.ts): a rotated key is published before it signs, and kept after.
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { publishedAt, signingAt } from './key-timeline.js';

export const ASSERTION_TTL_SEC = 60;

/** A signing key as sealed at rest (by the caller): the private JWK with its id and birth. */
export interface StoredSigningKey {
  kid: string;
  privateJwk: JWK;
  createdAt: number; // ms
}

/** A key on the timeline: `signsFrom` (ms) is when it starts signing, and its predecessor's last use. */
export interface SigningKey extends StoredSigningKey {
  generation: number;
  signsFrom: number;
}

export interface AssertionClaims {
  sub: string;
  email: string;
  name: string;
  provider: string;
  role: string;
  groups: readonly string[];
  amr: readonly string[];
  /** A scoped API key's or an OAuth token's scopes, space-separated (RFC 9068 §2.2.3); absent for sessions. */
  scope?: string;
  /** The OAuth client the token was issued to (RFC 9068 §2.2); absent for sessions and API keys. */
  client_id?: string;
}

export interface AssertionSigner {
  /** A fresh assertion of these claims, valid for ASSERTION_TTL_SEC, signed with the key of this moment. */
  sign(claims: AssertionClaims): Promise<string>;
  /** The JWKS document: every key not yet retired, including one that does not sign yet. */
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

/** Imported private keys by kid: a rotation imports the new key only, not every key again. */
export type KeyImports = Map<string, CryptoKey | Uint8Array>;

export async function createAssertionSigner(opts: {
  issuer: string | (() => string); // public URL + /auth
  audience: string | (() => string); // public URL origin
  /** Generation order (key-timeline.ts); at least one. */
  keys: readonly SigningKey[];
  now?: () => number;
  imports?: KeyImports;
}): Promise<AssertionSigner> {
  const now = opts.now ?? Date.now;
  if (!opts.keys.length) throw new Error('no signing key');
  const imports: KeyImports = opts.imports ?? new Map();
  for (const k of opts.keys) if (!imports.has(k.kid)) imports.set(k.kid, await importJWK(k.privateJwk, 'ES256'));
  const keys = [...opts.keys];
  const published = keys.map((k) => ({ signsFrom: k.signsFrom, jwk: publicOf(k) }));

  const issuer = typeof opts.issuer === 'string' ? () => opts.issuer as string : opts.issuer;
  const audience = typeof opts.audience === 'string' ? () => opts.audience as string : opts.audience;
  return {
    sign(claims) {
      const t = now();
      const key = signingAt(keys, t);
      const s = Math.floor(t / 1000);
      const { sub, ...rest } = claims;
      return new SignJWT({ ...rest, groups: [...claims.groups], amr: [...claims.amr] })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
        .setIssuer(issuer())
        .setAudience(audience())
        .setSubject(sub)
        .setIssuedAt(s)
        .setExpirationTime(s + ASSERTION_TTL_SEC)
        .sign(imports.get(key.kid)!);
    },
    jwks: () => ({ keys: publishedAt(published, now()).map((k) => k.jwk) }),
  };
}
