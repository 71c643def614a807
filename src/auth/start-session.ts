// Signing in, whichever way (password, setup link, invitation, reset, social login).
import type { AuthContext } from './context.js';
import type { User } from '../store/types.js';
import { serializeCookie } from '../session/cookies.js';
import { principalOf } from '../session/sessions.js';

/** A brand-new session on every sign-in; whatever cookie came in (planted or old) is ended, never adopted. */
/**
 * `amr`: how the user proved who they are (default from the provider; a second step adds `otp`).
 * `pairedFrom`: the session whose pairing code made this one (account page: "paired from â¦").
 */
export async function startSession(
  c: AuthContext,
  user: User,
  provider: string,
  extra: { amr?: readonly string[]; pairedFrom?: string | null } = {},
): Promise<void> {
  const { sessions, cookies } = c.var.deps;
  const previous = c.get('session');
  if (previous) await sessions.revoke(previous.sessionId);
  const { cookieValue, session } = await sessions.create(
    user,
    provider,
    { ip: c.get('ip'), userAgent: c.get('userAgent'), pairedFrom: extra.pairedFrom ?? null },
    extra.amr,
  );
  c.header('set-cookie', serializeCookie(cookies.session, cookieValue, { secure: cookies.secure }), { append: true });
  c.set('session', { sessionId: session.id, principal: principalOf(user, provider, session.amr) });
}
