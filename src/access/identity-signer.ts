// The signer the gate and /auth/check use: follows the state file's keys (a rotation on any replica is
// picked up within a second) and knows the claims of architecture.md#access. Off with GATEHOUSE_ASSERTION=off.
import type { JWK } from 'jose';
import type { Principal } from '../session/sessions.js';
import { createAssertionSigner, type AssertionSigner } from './assertion.js';
import type { SigningKeys } from './signing-keys.js';
import { amrOf } from '../mfa/policy.js';

export interface IdentitySigner {
  /** A fresh cached assertion for this session, or null when one must be signed (async). */
  cached(sessionId: string): string | null;
  sign(sessionId: string, p: Principal): Promise<string>;
  jwks(): { keys: JWK[] };
  /** The keys changed (rotation): sign with the new one from now on. */
  use(keys: SigningKeys): Promise<void>;
}

/** How a session without a recorded `amr` was made (mfa/policy.ts); the claim itself is the session's. */
export { amrOf };

export async function createIdentitySigner(opts: { keys: SigningKeys; origin: () => string; prefix: string; now?: () => number }): Promise<IdentitySigner> {
  const build = (keys: SigningKeys) =>
    createAssertionSigner({ issuer: () => opts.origin() + opts.prefix, audience: opts.origin, current: keys.current, previous: keys.previous, now: opts.now });
  let signer: AssertionSigner = await build(opts.keys);
  let kid = opts.keys.current.kid;
  return {
    cached: (sessionId) => signer.cached(sessionId),
    sign: (sessionId, p) =>
      signer.assertionFor(sessionId, { sub: p.userId, email: p.email, name: p.name, provider: p.provider, role: p.role, groups: p.groups, amr: [...(p.amr ?? amrOf(p.provider))] }),
    jwks: () => signer.jwks(),
    async use(keys) {
      if (keys.current.kid === kid) return;
      signer = await build(keys);
      kid = keys.current.kid;
    },
  };
}
