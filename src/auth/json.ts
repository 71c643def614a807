// The JSON endpoints' side of the auth app (the passkey ceremonies, which views/assets/passkeys.js calls
// with fetch): the body read as an object, errors as {error, message}, and CSRF for a JSON request.
import type { MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv } from './context.js';
import { audit } from './audit.js';
import { isValidCsrfToken } from '../security/csrf.js';
import { readCookie } from '../session/cookies.js';

export function jsonError(
  c: AuthContext,
  status: 400 | 401 | 403 | 409 | 415 | 429,
  error: string,
  message: string,
): Response {
  return c.json({ error, message }, status);
}

/** The JSON body as an object, or null (the handlers treat a missing field as a refusal). */
export async function jsonBody(c: AuthContext): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = await c.req.json();
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * CSRF for the JSON endpoints: a JSON body, from our own origin (a browser's fetch always names it),
 * carrying the page's token in X-CSRF-Token. `boundToSession`: the token of a signed-in page; else a
 * signed-out page's token (unbound) counts too, like the sign-in form's.
 * The passkey endpoints of the account page and of the two-step sign-in use it (views/assets/passkeys.js).
 */
export function jsonCsrf(boundToSession: boolean): MiddlewareHandler<AuthEnv> {
  return async function jsonCsrf(c, next) {
    if (!/^application\/json\b/i.test(c.req.header('content-type') ?? ''))
      return jsonError(c, 415, 'json_required', 'Send a JSON body.');
    if (c.get('origin') !== 'same-origin') {
      audit(c, 'csrf.refused', {
        detail:
          `${c.req.path} from ${(c.req.header('origin') ?? 'no origin').slice(0, 100)}, ` +
          `expected ${c.get('ourOrigin')}`,
      });
      return jsonError(c, 403, 'csrf', 'Request refused: it did not come from this site.');
    }
    const { settings, cookies } = c.var.deps;
    const cookie = readCookie(c.req.header('cookie'), cookies.csrf);
    const token = c.req.header('x-csrf-token');
    const secret = settings.current().secret;
    const valid =
      isValidCsrfToken(secret, cookie, token, c.get('session')?.sessionId) ||
      (!boundToSession && isValidCsrfToken(secret, cookie, token));
    if (!valid) return jsonError(c, 403, 'csrf', 'Your page expired. Please reload it and try again.');
    await next();
    return undefined;
  };
}
