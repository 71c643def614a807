// Where every first step (password, social login, reset) ends: a session, or — with a factor set — a
// pending second step (docs/architecture.md#mfa): a 5-minute single-use record in the store, whose
// random key travels only in a sealed, HttpOnly cookie of this browser. second-step.ts asks for the
// code and reads the pending step back with pendingOf.
import { createHmac } from 'node:crypto';
import type { AuthContext, AuthServices } from './context.js';
import { startSession } from './start-session.js';
import { withReturnTo } from './views.js';
import { seal, unseal } from '../config/secrets.js';
import { mustEnrol } from '../mfa/policy.js';
import { safeReturnTo } from '../security/redirect.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import { readCookie } from '../session/cookies.js';
import type { User } from '../store/types.js';

export const PENDING_TTL_MS = 5 * 60_000;

interface PendingCookie {
  t: string; // the random key; the store keeps its SHA-256
  p: string; // provider the first step used
  r: string; // return_to
}

/** The pending step's cookie (second-step.ts clears it when the step ends). */
export const pendingCookieName = (deps: AuthServices) =>
  deps.cookies.secure ? '__Host-gatehouse_mfa' : 'gatehouse_mfa';
const cookieKey = (deps: AuthServices) =>
  createHmac('sha256', deps.settings.current().secret).update('gatehouse second step').digest();

/** Where a fresh session goes: where it was going, unless the policy wants a factor first. */
export function afterSignIn(c: AuthContext, returnTo: string): string {
  const s = c.get('session');
  const P = c.var.deps.prefix;
  return s && mustEnrol(c.var.deps.settings.current().mfa, s.principal)
    ? withReturnTo(`${P}/account/totp`, returnTo)
    : returnTo;
}

/**
 * The end of every first step (password, social login, reset): a session, or — with a factor set —
 * the second step. `hasFactor` when the caller already knows it.
 */
export async function finishSignIn(
  c: AuthContext,
  user: User,
  provider: string,
  returnTo: string,
  hasFactor?: boolean,
): Promise<Response> {
  const deps = c.var.deps;
  if (hasFactor ?? (await deps.mfa.hasFactor(user.id))) {
    await beginSecondStep(c, user, provider, returnTo);
    return c.redirect(`${deps.prefix}/sign-in/code`, 303);
  }
  await startSession(c, user, provider);
  return c.redirect(afterSignIn(c, returnTo), 303);
}

async function beginSecondStep(c: AuthContext, user: User, provider: string, returnTo: string): Promise<void> {
  const deps = c.var.deps;
  const t = randomToken(32);
  const now = deps.now();
  await deps.store.createToken({
    hash: sha256Hex(t),
    kind: 'mfa',
    userId: user.id,
    email: user.email,
    createdAt: new Date(now),
    expiresAt: new Date(now + PENDING_TTL_MS),
  });
  const value = seal(JSON.stringify({ t, p: provider, r: returnTo } satisfies PendingCookie), cookieKey(deps));
  const secure = deps.cookies.secure;
  c.header(
    'set-cookie',
    `${pendingCookieName(deps)}=${value}; Path=/; HttpOnly; SameSite=Lax; ` +
      `Max-Age=${PENDING_TTL_MS / 1000}${secure ? '; Secure' : ''}`,
    { append: true },
  );
}

export interface Pending {
  hash: string;
  user: User;
  provider: string;
  returnTo: string;
}

/** This browser's live pending step, or null (none, expired, finished, or the user disabled since). */
export async function pendingOf(c: AuthContext): Promise<Pending | null> {
  const deps = c.var.deps;
  const raw = readCookie(c.req.header('cookie'), pendingCookieName(deps));
  if (!raw || raw.length > 1024) return null;
  let cookie: PendingCookie;
  try {
    cookie = JSON.parse(unseal(raw, cookieKey(deps))) as PendingCookie;
  } catch {
    return null;
  }
  const hash = sha256Hex(String(cookie.t));
  const token = await deps.store.findToken(hash, 'mfa', new Date(deps.now()));
  const user = token?.userId ? await deps.store.findUserById(token.userId) : null;
  if (!user || user.disabled) return null;
  return { hash, user, provider: String(cookie.p), returnTo: safeReturnTo(cookie.r) };
}
