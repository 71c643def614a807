// How long a server database may take to answer one store call (architecture.md#store). A database
// that accepts connections but answers nothing must cost a visitor a 503 within seconds, not the
// drivers' own defaults (pg waits forever for a pool slot, mysql2's pool queue has no timeout at all).
// Every backend bounds each call as a whole — the wait for a pooled connection, connecting, the query —
// with one deadline, and sets its driver's timeouts to the same figure so the connections a hung server
// holds are torn down rather than kept: the pool then recovers by itself once the server answers again.
import { StoreError } from './types.js';

/** One store call, start to finish. /auth/ready is one call, so it answers within this, well under 3 s. */
export const STORE_CALL_MS = 2_000;

/** The driver-level timeouts (connect, pool wait, query): the same bound, so nothing outlives a call for long. */
export const DRIVER_TIMEOUT_MS = STORE_CALL_MS;

/**
 * `work`, or StoreError('UNAVAILABLE') once `ms` have passed without an answer. The work itself is not
 * cancelled (no driver can take back a statement already sent): its driver timeout ends it, and its
 * late result or error is dropped. So a write that times out may still land — like any cut connection,
 * the caller cannot know, which is why a change that must be whole is one transaction (store/types.ts).
 */
export function withDeadline<T>(work: Promise<T>, what: string, ms: number = STORE_CALL_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError('UNAVAILABLE', `${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  work.catch(() => {}); // an answer after the deadline must not become an unhandled rejection
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
