// With a public URL set, Gatehouse serves that host (and any the operator lists) and nothing else. A
// request for another Host would reach the app under a name it never expected (virtual hosts, links
// it builds, cache keys): a browser navigation is sent to the same path on the public URL, anything
// else gets 421 Misdirected Request. Health, readiness, metrics and forward-auth answer on any host:
// orchestrators and proxies call them by an internal name.
import { isNavigation } from '../http/navigation.js';
import type { IncomingMessage } from 'node:http';
import type { TrustedProxies } from '../security/client-ip.js';

export interface Misdirected {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface HostPolicy {
  /** null when the request's host is ours; `authPath` is the path below the auth prefix, if any. */
  misdirected(req: IncomingMessage, authPath: string | null): Misdirected | null;
}

// Apps fetch the JWKS from Gatehouse's internal address (http://gatehouse:4180), not the public URL.
const ANY_HOST_ROUTES = new Set(['/health', '/ready', '/metrics', '/check', '/.well-known/jwks.json']);

export function createHostPolicy(
  publicUrl: URL | null,
  allowed: readonly string[],
  trusted: TrustedProxies,
): HostPolicy {
  if (!publicUrl) return { misdirected: () => null };
  const defaultPort = publicUrl.protocol === 'https:' ? ':443' : ':80';
  const canonical = (host: string) => {
    const h = host.trim().toLowerCase();
    return h.endsWith(defaultPort) ? h.slice(0, -defaultPort.length) : h;
  };
  const hostname = (host: string) => host.replace(/:\d+$/, '');
  const exact = new Set([publicUrl.host.toLowerCase(), ...allowed.map(canonical)]);
  // An entry without a port ("app.internal") allows that name on any port.
  const anyPort = new Set(allowed.map(canonical).filter((a) => !/:\d+$/.test(a)));

  return {
    misdirected(req, authPath): Misdirected | null {
      if (authPath !== null && ANY_HOST_ROUTES.has(authPath.split('?')[0]!)) return null;
      const viaTrusted = trusted.any && trusted.isTrusted(req.socket.remoteAddress ?? '');
      const forwarded = viaTrusted ? req.headers['x-forwarded-host'] : undefined;
      const host = canonical(typeof forwarded === 'string' ? forwarded.split(',')[0]! : (req.headers.host ?? ''));
      if (exact.has(host) || anyPort.has(hostname(host))) return null;
      const navigation = isNavigation(req.method, req.headers.accept);
      if (navigation) return { status: 302, headers: { location: publicUrl.origin + (req.url ?? '/') }, body: '' };
      return {
        status: 421,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'misdirected_request', expected_host: publicUrl.host }),
      };
    },
  };
}
