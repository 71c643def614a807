// Changing how one signs in — adding or removing a passkey, setting up an authenticator app — needs a
// recent sign-in: a stolen session cookie must not plant a credential of its own (and keep the account
// after the session ends), remove the owner's, or put a second step in front of the owner. Older
// sessions are offered "Sign in again": a sign-out whose return_to brings them back (views/_reauth.eta).
import type { AuthContext } from './context.js';
import type { Reauth } from './views/common.js';
import { signedIn } from './middleware/session.js';
import { amrOf } from '../mfa/policy.js';

export const RECENT_SIGN_IN_MINUTES = 10;

/**
 * True when this request's session was made by a sign-in (or a step-up) within the window. A session
 * handed over from another — a pairing code, an operator's handoff link (amr `mca`) — proves nothing by
 * itself: otherwise a stolen cookie would pair a device of its own and be "recent" there. Off the hot
 * path: one store read.
 */
export async function signedInRecently(c: AuthContext): Promise<boolean> {
  const { store, now } = c.var.deps;
  const session = await store.findSession(signedIn(c).sessionId);
  if (!session || (session.amr ?? amrOf(session.provider)).includes('mca')) return false;
  return now() - session.createdAt.getTime() < RECENT_SIGN_IN_MINUTES * 60_000;
}

/** null when the session is recent enough; else what the page offers instead (`reason` starts the sentence). */
export async function reauthUnlessRecent(c: AuthContext, reason: string, returnTo: string): Promise<Reauth | null> {
  if (await signedInRecently(c)) return null;
  return { reason, action: `${c.var.deps.prefix}/sign-out`, returnTo, minutes: RECENT_SIGN_IN_MINUTES };
}

export const reauthMessage = (what: string): string =>
  `${what} needs a sign-in within the last ${RECENT_SIGN_IN_MINUTES} minutes. Sign in again, then try once more.`;
