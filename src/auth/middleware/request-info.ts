// Who is asking, read once from the socket and the headers, so that routes never reach into the raw
// Node request: the client IP (believing X-Forwarded-For only from a trusted proxy), the user agent,
// whether the peer is this machine, and whether the request came from our own origin.
import type { IncomingHttpHeaders } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { AuthEnv, AuthContext, AuthServices } from '../context.js';
import { isLoopback } from '../../security/client-ip.js';
import { requestOrigin } from '../../security/csrf.js';

/** The two things Hono's Request does not carry as Node saw them: the socket peer and the parsed headers. */
export interface RawRequest {
  peer: string | undefined;
  headers: IncomingHttpHeaders;
}

export interface RequestInfoOptions {
  deps: AuthServices;
  /** Where the raw request comes from; @hono/node-server's `incoming` unless a test supplies one. */
  raw?: (c: AuthContext) => RawRequest;
}

const fromNode = (c: AuthContext): RawRequest => ({
  peer: c.env.incoming.socket.remoteAddress,
  headers: c.env.incoming.headers,
});

export function requestInfo({ deps, raw = fromNode }: RequestInfoOptions): MiddlewareHandler<AuthEnv> {
  return async function requestInfo(c, next) {
    c.set('deps', deps); // first: the error page needs it if anything below fails
    const { peer, headers } = raw(c);
    c.set('headers', headers);
    c.set('ip', deps.trusted.clientIp(peer, headers['x-forwarded-for']));
    c.set('userAgent', headers['user-agent'] ?? null);
    c.set('loopbackPeer', isLoopback(peer));
    c.set('forwarded', headers['x-forwarded-for'] !== undefined);
    const ours = ourOrigin(deps, headers);
    c.set('ourOrigin', ours);
    c.set('origin', requestOrigin(headers, ours));
    await next();
  };
}

/** The origin the client used: the configured public URL, else (local development only) the Host header. */
function ourOrigin(deps: Pick<AuthServices, 'publicOrigin' | 'cookies'>, headers: IncomingHttpHeaders): string {
  if (deps.publicOrigin) return deps.publicOrigin;
  return `${deps.cookies.secure ? 'https' : 'http'}://${headers.host ?? 'localhost'}`;
}
