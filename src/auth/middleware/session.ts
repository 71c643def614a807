// The signed-in user, if any: loaded once per request from the session cookie (or, on two read-only
// endpoints, an API key), and the guards that routes put in front of what needs one.
import type { MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv } from '../context.js';
import type { Principal, ResolvedSession } from '../../session/sessions.js';
import type { Credential } from '../../admission/door.js';
import { isStoreError } from '../../store/types.js';
import { errorPage, storeUnavailablePage } from '../pages.js';

// The auth app's pages take the session cookie only; /auth/me takes an API key as well (the door's order).
const COOKIE: ReadonlySet<Credential> = new Set(['cookie']);
const COOKIE_OR_KEY: ReadonlySet<Credential> = new Set(['cookie', 'api-key']);

export function loadSession({ prefix }: { prefix: string }): MiddlewareHandler<AuthEnv> {
  // Scripts may present an API key instead of a cookie — for /auth/me only: a key never manages the
  // account (password, keys, sessions) and never gets a cookie session. /auth/check asks the door
  // (admission/door.ts) itself, with every credential the gate takes.
  const keyPaths = new Set([`${prefix}/me`]);
  const check = `${prefix}/check`;
  return async function loadSession(c, next) {
    if (c.req.path === check) {
      c.set('session', null);
      return next();
    }
    const incoming = c.env?.incoming;
    const asked = {
      method: c.req.method,
      url: c.req.path,
      headers: c.get('headers'),
      peer: incoming?.socket.remoteAddress,
    };
    let session: ResolvedSession | null = null;
    try {
      const who = await c.var.deps.door.identify(asked, keyPaths.has(c.req.path) ? COOKIE_OR_KEY : COOKIE);
      session = who.kind === 'caller' ? who.session : null;
    } catch (err) {
      if (!isStoreError(err, 'UNAVAILABLE')) throw err;
      // Health and readiness must answer even while the store is down.
      if (!c.req.path.endsWith('/health') && !c.req.path.endsWith('/ready')) return storeUnavailablePage(c);
    }
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
    if (!isAdmin(s.principal))
      return errorPage(c, 403, 'Administrators only', 'Your account cannot open the admin console.');
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
