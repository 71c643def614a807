// The signed-in user, if any: loaded once per request from the session cookie (or, on two read-only
// endpoints, an API key), and the guards that routes put in front of what needs one.
import type { MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv } from '../context.js';
import type { Principal, ResolvedSession } from '../../session/sessions.js';
import { readCookie } from '../../session/cookies.js';
import { bearerApiKey } from '../../session/api-keys.js';
import { isStoreError } from '../../store/types.js';
import { errorPage, storeUnavailablePage } from '../pages.js';

export function loadSession({ prefix }: { prefix: string }): MiddlewareHandler<AuthEnv> {
  // Scripts may present an API key instead of a cookie — for /auth/me only: a key never manages the
  // account (password, keys, sessions) and never gets a cookie session. /auth/check asks the door
  // (access/admission.ts) itself, with every credential the gate takes.
  const keyPaths = new Set([`${prefix}/me`]);
  const check = `${prefix}/check`;
  return async function loadSession(c, next) {
    if (c.req.path === check) {
      c.set('session', null);
      return next();
    }
    const { sessions, apiKeys, cookies } = c.var.deps;
    const headers = c.get('headers');
    const cookie = readCookie(headers.cookie, cookies.session);
    let session: ResolvedSession | null = null;
    if (cookie) {
      try {
        session = await sessions.resolve(cookie);
      } catch (err) {
        if (!isStoreError(err, 'UNAVAILABLE')) throw err;
        // Health and readiness must answer even while the store is down.
        if (!c.req.path.endsWith('/health') && !c.req.path.endsWith('/ready')) return storeUnavailablePage(c);
      }
    }
    const key = session || !keyPaths.has(c.req.path) ? null : bearerApiKey(headers.authorization);
    if (key) session = await apiKeys.resolve(key);
    c.set('session', session);
    await next();
    return undefined;
  };
}

/** An administrator signed in with a password or a provider: an API key never opens the console. */
export const isAdmin = (p: Principal): boolean => p.role === 'admin' && p.provider !== 'api-key';

/** How a route answers a visitor who is not signed in. */
export type SignedOutAnswer =
  | { redirect: 302 | 303; returnTo?: string } // browsers: to the sign-in page, and back afterwards
  | { json: true }; // scripts: 401 with a JSON body

export function requireSession(answer: SignedOutAnswer): MiddlewareHandler<AuthEnv> {
  return async function requireSession(c, next) {
    if (!c.get('session')) return signedOutAnswer(c, answer);
    await next();
    return undefined;
  };
}

/** The console's door: not signed in → sign-in and back to the console; signed in but not admin → 403. */
export function requireAdmin({ prefix }: { prefix: string }): MiddlewareHandler<AuthEnv> {
  const answer: SignedOutAnswer = { redirect: 302, returnTo: `${prefix}/admin` };
  return async function requireAdmin(c, next) {
    const s = c.get('session');
    if (!s) return signedOutAnswer(c, answer);
    if (!isAdmin(s.principal)) return errorPage(c, 403, 'Administrators only', 'Your account cannot open the admin console.');
    await next();
    return undefined;
  };
}

/** The session a requireSession/requireAdmin guard let through. */
export function signedIn(c: AuthContext): ResolvedSession {
  const s = c.get('session');
  if (!s) throw new Error(`${c.req.path}: route without a session guard`);
  return s;
}

function signedOutAnswer(c: AuthContext, answer: SignedOutAnswer): Response {
  if ('json' in answer) {
    c.header('www-authenticate', 'Cookie realm="gatehouse"');
    return c.json({ error: 'unauthenticated' }, 401);
  }
  const query = answer.returnTo ? `?return_to=${encodeURIComponent(answer.returnTo)}` : '';
  return c.redirect(`${c.var.deps.prefix}/sign-in${query}`, answer.redirect);
}
