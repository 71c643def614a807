// What every OAuth route shares (docs/architecture.md#oauth): where the issuer is, which MCP resources are
// set, the switch that hides the routes while none is, and the open CORS of the endpoints called cross-origin.
import type { MiddlewareHandler } from 'hono';
import type { AuthContext, AuthEnv } from './context.js';
import type { MetadataContext } from '../oauth/metadata.js';

export const originOf = (c: AuthContext) => c.var.deps.publicOrigin ?? c.get('ourOrigin');
export const resourcesOf = (c: AuthContext) => c.var.deps.settings.current().mcp;

export function metadataContext(c: AuthContext): MetadataContext {
  const { prefix, oauthDcr } = c.var.deps;
  return { origin: originOf(c), prefix, resources: resourcesOf(c), dcr: oauthDcr !== false, cimd: true };
}

/** The OAuth routes exist only while an MCP resource is configured; otherwise they are not found. */
export function whenConfigured(): MiddlewareHandler<AuthEnv> {
  return async function whenConfigured(c, next) {
    if (resourcesOf(c).length === 0) return c.json({ error: 'not_found' }, 404);
    await next();
    return undefined;
  };
}

/** Discovery and the token endpoints are called by clients in other origins (browser-based MCP clients);
 *  no cookie is involved. */
export function openCors(): MiddlewareHandler<AuthEnv> {
  return async function openCors(c, next) {
    if (c.req.method === 'OPTIONS') {
      return c.body(null, 204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
        'access-control-max-age': '600',
      });
    }
    await next();
    c.header('access-control-allow-origin', '*');
    return undefined;
  };
}
