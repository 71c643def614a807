// GATEHOUSE_MFA (architecture.md#mfa): a person the policy asks for a second factor, in a session made
// without one, reaches only what it takes to set one up (or to show one) and to leave. Browsers are
// taken to enrolment; anything else gets 403 {"error":"mfa_required"}. The gate applies the same rule
// to the app (proxy/gate.ts).
import { isNavigation } from '../../http/navigation.js';
import type { MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../context.js';
import { mustEnrol } from '../../mfa/policy.js';
import { withReturnTo } from '../views.js';

export function requireEnrolment({ prefix }: { prefix: string }): MiddlewareHandler<AuthEnv> {
  // Enrolment, the second step, leaving, and what every page needs. /account/passkeys is the passkey
  // enrolment built alongside (issue 12): a passkey satisfies the policy too.
  // /check is decided by the door (admission/door.ts), which applies the policy to the original request.
  const open = [
    `/check`,
    `/account/totp`,
    `/account/security`,
    `/account/passkeys`,
    `/step-up`,
    `/sign-in`,
    `/sign-out`,
    `/assets/`,
    `/health`,
    `/ready`,
    `/.well-known/`,
  ];
  const isOpen = (path: string) => {
    const rest = path.slice(prefix.length);
    return open.some((p) => rest === p || rest.startsWith(p.endsWith('/') ? p : `${p}/`));
  };
  return async function requireEnrolment(c, next) {
    const s = c.get('session');
    const policy = c.var.deps.settings.current().mfa;
    if (!s || policy === 'optional' || !mustEnrol(policy, s.principal) || isOpen(c.req.path)) return next();
    const html = isNavigation(c.req.method, c.req.header('accept'));
    if (html)
      return c.redirect(
        withReturnTo(`${prefix}/account/totp`, c.req.path === `${prefix}/account` ? `${prefix}/account` : '/'),
        302,
      );
    return c.json({ error: 'mfa_required' }, 403);
  };
}
