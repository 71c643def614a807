// The names people guess (/auth/login, /auth/register, …) lead to the real pages; a POST keeps its
// method and body (307). Mounted last, so it never shadows a real route.
import type { Hono } from 'hono';
import type { AuthEnv } from './context.js';

const ALIASES: Record<string, string> = {
  login: 'sign-in',
  signin: 'sign-in',
  'log-in': 'sign-in',
  signup: 'sign-up',
  register: 'sign-up',
  logout: 'sign-out',
  signout: 'sign-out',
  'log-out': 'sign-out',
};

export function mountAliases(app: Hono<AuthEnv>, prefix: string): void {
  app.all(`${prefix}/:alias{[a-z-]+}`, (c, next) => {
    const target = ALIASES[c.req.param('alias')];
    if (!target) return next();
    const q = c.req.url.indexOf('?');
    return c.redirect(
      `${prefix}/${target}${q === -1 ? '' : c.req.url.slice(q)}`,
      c.req.method === 'GET' || c.req.method === 'HEAD' ? 302 : 307,
    );
  });
}
