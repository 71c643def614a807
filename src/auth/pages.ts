// Rendering a page: the layout's data added once, the view's data checked against views.ts.
import type { AuthContext } from './context.js';
import type { ProviderButton, Views } from './views.js';
import { labelOf } from '../oidc/providers.js';

export function page<V extends keyof Views>(
  c: AuthContext,
  view: V,
  title: string,
  data: Views[V],
  status = 200,
): Response {
  const { renderer, appName, prefix } = c.var.deps;
  return c.html(renderer.render(view, { appName, prefix, title, ...data }), status as 200);
}

/** An error page; `retryAfter` (seconds) is both said on the page and sent as Retry-After. */
export function errorPage(
  c: AuthContext,
  status: number,
  heading: string,
  message: string,
  retryAfter: number | null = null,
): Response {
  if (retryAfter !== null) c.header('retry-after', String(retryAfter));
  return page(c, 'error', heading, { status, heading, message, retryAfter }, status);
}

/** The store is down: a page to come back to, never a 500. */
export function storeUnavailablePage(c: AuthContext): Response {
  return errorPage(
    c,
    503,
    'Temporarily unavailable',
    'We cannot reach the user database right now. Please try again in a moment.',
    5,
  );
}

/** The CSRF check of a form for signed-in users failed. */
export function formExpiredPage(c: AuthContext): Response {
  return errorPage(c, 403, 'Request refused', 'Your form expired. Please try again.');
}

/** One "Continue with …" button per configured provider, bringing the visitor back to `returnTo`. */
export function providerButtons(c: AuthContext, returnTo: string): ProviderButton[] {
  const { providers, prefix } = c.var.deps;
  return providers().map((p) => ({
    name: p.name,
    label: labelOf(p),
    startUrl: `${prefix}/oauth/${p.name}/start${returnTo === '/' ? '' : `?return_to=${encodeURIComponent(returnTo)}`}`,
  }));
}
