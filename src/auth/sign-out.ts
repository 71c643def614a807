// Sign-out: a confirmation page, and the POST that ends the session. Any same-origin form may sign
// out (the app's own plain button has no token); a cross-site one may not.
import type { Hono } from 'hono';
import type { AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, page } from './pages.js';
import { clearCookie } from '../session/cookies.js';
import { safeReturnTo } from '../security/redirect.js';
import { formOf } from './form.js';

export function mountSignOut(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.get(`${P}/sign-out`, requireSession({ redirect: 302 }), (c) => {
    const { principal } = signedIn(c);
    return page(c, 'sign-out', 'Sign out', {
      csrf: csrfToken(c),
      user: { email: principal.email, name: principal.name },
    });
  });

  const sameSite = csrf({
    originSuffices: true,
    refuse: (c, _form, why) =>
      errorPage(
        c,
        403,
        'Request refused',
        why === 'cross-site' ? 'Sign-out must come from this site.' : 'Your form expired. Please try again.',
      ),
  });

  app.post(`${P}/sign-out`, sameSite, async (c) => {
    const s = c.get('session');
    if (s) {
      await deps.sessions.revoke(s.sessionId);
      audit(c, 'sign-out', { userId: s.principal.userId });
    }
    c.header('set-cookie', clearCookie(deps.cookies.session, deps.cookies.secure), { append: true });
    // "Sign in again" (a recent sign-in is asked before changing passkeys) comes back where it started.
    const returnTo = safeReturnTo((await formOf(c)).return_to);
    return c.redirect(
      `${P}/sign-in?signed_out=1${returnTo === '/' ? '' : `&return_to=${encodeURIComponent(returnTo)}`}`,
      303,
    );
  });
}
