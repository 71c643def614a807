// X-Forwarded-Assertion for the gate (architecture.md#access): the assertion of a resolved session is
// kept with it. A session is re-resolved every 2 s, so claims (role, groups) are never staler than
// that, and signing happens at most once per 2 s per session. Requests that arrive while it is being
// signed wait for that one signature: a burst of requests for a fresh session must not sign hundreds
// of times at once.
import type { IdentitySigner } from '../access/identity-signer.js';
import type { ResolvedSession } from '../session/sessions.js';

/** Adds X-Forwarded-Assertion to `headers` (synchronously when cached), then runs `go`; `fail` if signing fails. */
export type WithAssertion = (session: ResolvedSession | null, headers: string[], go: () => void, fail: (err: unknown) => void) => void;

export function createAssertionCache(signer: IdentitySigner | null | undefined): WithAssertion {
  if (!signer) return (_session, _headers, go) => go();
  const assertions = new WeakMap<ResolvedSession, { pending: Promise<string>; jwt: string | null; until: number }>();
  let signings = 0;
  return (session, headers, go, fail) => {
    if (!session) return go();
    let entry = assertions.get(session);
    if (entry?.jwt && entry.until > Date.now()) {
      headers.push('x-forwarded-assertion', entry.jwt);
      return go();
    }
    if (!entry || entry.until <= Date.now()) {
      const pending = signer.sign(`${session.sessionId}#${++signings}`, session.principal);
      const made = { pending, jwt: null as string | null, until: Date.now() + 30_000 };
      pending.then((jwt) => (made.jwt = jwt), () => assertions.delete(session));
      assertions.set(session, (entry = made));
    }
    entry.pending.then((jwt) => {
      headers.push('x-forwarded-assertion', jwt);
      go();
    }, fail);
  };
}
