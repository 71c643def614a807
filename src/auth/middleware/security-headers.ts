// Every Gatehouse response carries the security headers (CSP, framing, referrer …), and HSTS once the
// public URL is https. A route may set its own value first; it is kept.
import type { MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../context.js';
import { SECURITY_HEADERS } from '../../security/headers.js';

export function securityHeaders({ secure }: { secure: boolean }): MiddlewareHandler<AuthEnv> {
  return async function securityHeaders(c, next) {
    await next();
    for (const [k, v] of SECURITY_HEADERS) if (!c.res.headers.has(k)) c.header(k, v);
    if (secure) c.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  };
}
