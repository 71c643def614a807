// The signer the gate and /auth/check use: signs with the keys it is given (key-follower.ts keeps them in
// step with the store) and knows the claims of architecture.md#access. Off with GATEHOUSE_ASSERTION=off.
//
// An assertion is reused while it is fresh and its claims are those of the session as last resolved
// (the session cache re-resolves every 2 s, so a changed role or group is never staler than that).
// Requests that arrive while one is being signed share that one signature: a burst for a fresh session
// must not sign hundreds of times at once. Kept by session id in signing order, so the expired ones are
// always the first: memory follows the sessions active in the last half-minute, not every cached one.
import type { JWK } from 'jose';
import type { Principal, ResolvedSession } from '../session/sessions.js';
import { ASSERTION_TTL_SEC, createAssertionSigner } from './assertion.js';
import type { AssertionClaims, AssertionSigner, KeyImports } from './assertion.js';
import type { SigningKeys } from './signing-keys.js';
import { amrOf } from '../mfa/policy.js';

/** Re-signed after half its life, so none reaches an app nearly dead. */
const REUSE_MS = (ASSERTION_TTL_SEC * 1000) / 2;

export interface IdentitySigner {
  /** The assertion of this resolution: a string when already signed (the hot path), else a promise. */
  assertionOf(session: ResolvedSession): string | Promise<string>;
  jwks(): { keys: JWK[] };
  /** Assertions kept now (the sessions active in the last half-minute, at most). */
  readonly held: number;
  /** The stored keys changed (a rotation, another database): publish and sign by these from now on. */
  use(keys: SigningKeys): Promise<void>;
}

/** How a session without a recorded `amr` was made (mfa/policy.ts); the claim itself is the session's. */
export { amrOf };

interface Signed {
  jwt: string | null;
  pending: Promise<string> | null; // dropped once signed
  until: number;
  /** Whose claims it carries: compared by reference first (the hot path), by value after a re-resolution. */
  principal: Principal;
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** The claims an assertion carries are equal (architecture.md#access lists them). */
function sameClaims(a: Principal, b: Principal): boolean {
  return (
    a.userId === b.userId &&
    a.email === b.email &&
    a.name === b.name &&
    a.provider === b.provider &&
    a.role === b.role &&
    sameList(a.groups, b.groups) &&
    sameList(a.amr, b.amr) &&
    sameList(a.scopes, b.scopes) &&
    a.clientId === b.clientId
  );
}

/** The claims of a principal: `scope` and `client_id` (RFC 9068 names) only for keys and tokens that have
 *  them. */
export function claimsOf(p: Principal): AssertionClaims {
  const amr = p.amr ?? amrOf(p.provider);
  const { email, name, provider, role, groups } = p;
  const claims: AssertionClaims = { sub: p.userId, email, name, provider, role, groups, amr };
  if (p.scopes?.length) claims.scope = p.scopes.join(' ');
  if (p.clientId !== undefined) claims.client_id = p.clientId;
  return claims;
}

/** Whether a key `before` published is gone from `after`: assertions it signed no app could verify any
 *  more. */
const lostKeys = (before: AssertionSigner, after: AssertionSigner): boolean => {
  const still = new Set(after.jwks().keys.map((k) => k.kid));
  return before.jwks().keys.some((k) => !still.has(k.kid));
};

export interface IdentitySignerOptions {
  keys: SigningKeys;
  origin: () => string;
  prefix: string;
  now?: () => number;
}

export async function createIdentitySigner(opts: IdentitySignerOptions): Promise<IdentitySigner> {
  const now = opts.now ?? Date.now;
  const imports: KeyImports = new Map();
  const issuer = () => opts.origin() + opts.prefix;
  const build = (keys: SigningKeys) => {
    for (const kid of imports.keys()) if (!keys.some((k) => k.kid === kid)) imports.delete(kid);
    return createAssertionSigner({ issuer, audience: opts.origin, keys, now, imports });
  };
  let signer: AssertionSigner = await build(opts.keys);
  const signed = new Map<string, Signed>();
  const sign = (p: Principal) => signer.sign(claimsOf(p));

  return {
    assertionOf(session) {
      const t = now();
      const id = session.sessionId;
      const entry = signed.get(id);
      if (
        entry &&
        entry.until > t &&
        (entry.principal === session.principal || sameClaims(entry.principal, session.principal))
      ) {
        entry.principal = session.principal;
        return entry.jwt ?? entry.pending!;
      }
      return signAndHold(signed, id, session.principal, t, sign);
    },
    jwks: () => signer.jwks(),
    get held() {
      return signed.size;
    },
    async use(keys) {
      const before = signer;
      signer = await build(keys);
      // A rotation leaves what was signed valid (the old key stays published); keys that vanished (another
      // database's keys) leave assertions no app could verify: sign those again.
      if (lostKeys(before, signer)) signed.clear();
    },
  };
}

/** Off the hot path (nothing fresh is held for this session): sign anew, and hold the signature while it is
 *  being made, so a burst shares it; one that fails to sign is not held. */
function signAndHold(
  signed: Map<string, Signed>,
  id: string,
  principal: Principal,
  t: number,
  sign: (p: Principal) => Promise<string>,
): Promise<string> {
  forgetExpired(signed, t);
  const made: Signed = { jwt: null, pending: null, until: t + REUSE_MS, principal };
  made.pending = sign(principal).then(
    (jwt) => {
      made.jwt = jwt;
      made.pending = null;
      return jwt;
    },
    (err: unknown) => {
      if (signed.get(id) === made) signed.delete(id);
      throw err;
    },
  );
  signed.delete(id); // re-inserted at the end: the map stays in signing order
  signed.set(id, made);
  return made.pending;
}

/** Held in signing order, so the expired ones are the first. */
function forgetExpired(signed: Map<string, Signed>, t: number): void {
  for (const [id, entry] of signed) {
    if (entry.until > t) return;
    signed.delete(id);
  }
}
