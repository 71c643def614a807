// CSRF for Gatehouse's own forms: a token bound to a cookie (and, once signed in, to the session) plus
// the origin check, so a cross-site post fails even with a stolen token. Routes put `csrf(…)` in front
// of a POST handler, which then never sees a forged request; pages put `csrfToken(c)` in their forms.
import type { MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv } from '../context.js';
import { readCookie, serializeCookie } from '../../session/cookies.js';
import { csrfTokenFor, isValidCsrfToken, newCsrfCookieValue } from '../../security/csrf.js';
import { audit } from '../audit.js';
import { formOf, type Form } from '../form.js';

/** The CSRF cookie the browser brought, if plausible. Only a page with a form issues one (csrfToken). */
export function csrfCookie(): MiddlewareHandler<AuthEnv> {
  return async function csrfCookie(c, next) {
    // If every response minted one, parallel requests (the stylesheet, say) would overwrite the cookie
    // the form is bound to.
    const value = readCookie(c.get('headers').cookie, c.var.deps.cookies.csrf);
    c.set('csrfCookie', value && value.length <= 64 ? value : '');
    await next();
  };
}

/** The token for a form on this page, issuing the cookie it is bound to if the browser has none yet. */
export function csrfToken(c: AuthContext): string {
  const { cookies, settings } = c.var.deps;
  let cookie = c.get('csrfCookie');
  if (!cookie) {
    cookie = newCsrfCookieValue();
    c.set('csrfCookie', cookie);
    c.header('set-cookie', serializeCookie(cookies.csrf, cookie, { secure: cookies.secure }), { append: true });
  }
  return csrfTokenFor(settings.current().secret, cookie, c.get('session')?.sessionId);
}

export type CsrfRefusal = 'cross-site' | 'expired';

export interface CsrfOptions {
  /** Forms for signed-out visitors (sign-in, sign-up, reset): an unbound token counts as well. */
  signedOutForm?: boolean;
  /** Sign-out: the origin alone decides; the token is asked for only when the browser named no origin. */
  originSuffices?: boolean;
  /** The route's own answer to a refused form (its page again with an error, or a 403 page). */
  refuse(c: AuthContext, form: Form, why: CsrfRefusal): Response | Promise<Response>;
}

export function csrf(options: CsrfOptions): MiddlewareHandler<AuthEnv> {
  const check = options.originSuffices ? originSuffices : tokenAndOrigin(options.signedOutForm ?? false);
  return async function csrf(c, next) {
    const form = await formOf(c);
    const refusal = check(c, form);
    if (refusal) return options.refuse(c, form, refusal);
    await next();
    return undefined;
  };
}

type Check = (c: AuthContext, form: Form) => CsrfRefusal | null;

function tokenAndOrigin(signedOutForm: boolean): Check {
  return (c, form) => {
    if (c.get('origin') === 'cross-site') {
      // Most often a page opened under another name than the public URL: say so in the log.
      const from = c.req.header('origin') ?? c.req.header('sec-fetch-site') ?? 'unknown';
      audit(c, 'csrf.refused', { detail: `${c.req.path} from ${from.slice(0, 100)}, expected ${c.get('ourOrigin')}` });
      return 'cross-site';
    }
    if (tokenValid(c, form, true)) return null;
    // Forms for signed-out visitors were rendered without a session; a session cookie that turned up
    // since (planted, or from another tab) must not make them fail.
    return signedOutForm && tokenValid(c, form, false) ? null : 'expired';
  };
}

/** A plain same-origin sign-out form (the demo app's, say) carries no token, and needs none. */
const originSuffices: Check = (c, form) => {
  const verdict = c.get('origin');
  if (verdict === 'cross-site') return 'cross-site';
  // No Origin and no Sec-Fetch-Site: only the form's token can show this came from us.
  if (verdict === 'unknown' && !tokenValid(c, form, true)) return 'expired';
  return null;
};

function tokenValid(c: AuthContext, form: Form, boundToSession: boolean): boolean {
  const cookie = readCookie(c.req.header('cookie'), c.var.deps.cookies.csrf);
  const sessionId = boundToSession ? c.get('session')?.sessionId : undefined;
  return isValidCsrfToken(c.var.deps.settings.current().secret, cookie, form.csrf, sessionId);
}
