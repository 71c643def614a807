// The page a `gatehouse open` link lands on (docs/architecture.md#devices). GET only looks (a browser
// may fetch a pasted URL ahead of time, which must not spend the link); the button's POST uses the link
// up and signs the user in — to the admin console for an admin, to their account page otherwise.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { field, formOf, tokenParam } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { page } from './pages.js';
import { startSession } from './start-session.js';
import { consumeHandoff, peekHandoff } from '../session/handoff.js';

export function mountHandoff(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.get(`${P}/handoff`, async (c) => {
    const token = tokenParam(c.req.query('token'));
    const live = token ? await peekHandoff(deps.store, token, deps.now()) : null;
    const user = live?.userId ? await deps.store.findUserById(live.userId) : null;
    if (!token || !user || user.disabled) return gone(c);
    return page(c, 'handoff', 'Continue to Gatehouse', {
      csrf: csrfToken(c),
      token,
      email: user.email,
      name: user.name,
      admin: user.role === 'admin',
    });
  });

  app.post(`${P}/handoff`, csrf({ signedOutForm: true, refuse: (c) => gone(c, 403) }), async (c) => {
    const token = tokenParam(field((await formOf(c)).token));
    const used = token ? await consumeHandoff(deps.store, token, deps.now()) : null;
    const user = used?.userId ? await deps.store.findUserById(used.userId) : null;
    if (!user || user.disabled) {
      audit(c, 'handoff.refused', { userId: user?.id ?? null });
      return gone(c);
    }
    await startSession(c, user, 'handoff');
    audit(c, 'handoff.used', { userId: user.id, email: user.email });
    return c.redirect(user.role === 'admin' ? `${P}/admin` : `${P}/account`, 303);
  });
}

function gone(c: AuthContext, status = 410): Response {
  return page(
    c,
    'message',
    'Link no longer valid',
    {
      heading: 'This link no longer works',
      message: 'A link from gatehouse open works once, for 60 seconds. Run the command again for a new one.',
      link: { href: `${c.var.deps.prefix}/sign-in`, label: 'Sign in instead' },
    },
    status,
  );
}
