// X-Forwarded-Assertion for the gate (architecture.md#access): the signer keeps one assertion per
// session resolution (identity-signer.ts); here the hot path adds it without waiting when it is ready.
import type { IdentitySigner } from '../access/identity-signer.js';
import type { ResolvedSession } from '../session/sessions.js';

/** Adds X-Forwarded-Assertion to `headers` (synchronously when signed), then runs `go`; `fail` if signing fails. */
export type WithAssertion = (
  session: ResolvedSession | null,
  headers: string[],
  go: () => void,
  fail: (err: unknown) => void,
) => void;

export function createAssertionCache(signer: IdentitySigner | null | undefined): WithAssertion {
  if (!signer) return (_session, _headers, go) => go();
  return (session, headers, go, fail) => {
    if (!session) return go();
    const jwt = signer.assertionOf(session);
    if (typeof jwt === 'string') {
      headers.push('x-forwarded-assertion', jwt);
      return go();
    }
    jwt.then((value) => {
      headers.push('x-forwarded-assertion', value);
      go();
    }, fail);
  };
}
