// The endpoints that are not pages: assets, the agent guide, health and readiness, metrics, and the
// two identity endpoints scripts and reverse proxies ask (/me, /check).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { errorPage, page } from './pages.js';
import { isAdmin, requireSession, signedIn } from './middleware/session.js';
import { identityHeaders } from '../proxy/headers.js';
import { checkMode, originalRequest, redirectsToSignIn, signInLocation, type OriginalRequest } from './forward-auth.js';
import { policyOf } from '../access/policy.js';
import { STATUS_OF, type Verdict } from '../admission/door.js';
import type { ResolvedSession } from '../session/sessions.js';
import { ALL_OWN_COOKIES, stripCookies } from '../session/cookies.js';
import type { IncomingHttpHeaders } from 'node:http';
import { WEBAUTHN_BROWSER_BUNDLE } from './webauthn.js';
import { amrOf } from '../mfa/policy.js';

// From src/auth (tsx) and from dist/auth (compiled) alike, ../../docs is the package root's docs/.
const AGENT_GUIDE = new URL('../../docs/agent-skill.md', import.meta.url);
const JS = 'text/javascript; charset=utf-8';
const ASSETS: Record<string, string> = {
  'gatehouse.css': 'text/css; charset=utf-8',
  'gatehouse.js': JS,
  'passkeys.js': JS,
  'webauthn.js': JS,
};
/** Assets served read-only from an installed package instead of views/assets. */
const PACKAGE_ASSETS: Record<string, string> = { 'webauthn.js': WEBAUTHN_BROWSER_BUNDLE };

export function mountEndpoints(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  mountAssets(app, deps);
  mountProbes(app, deps);
  // Forward-auth (nginx auth_request, Traefik forwardAuth, Caddy forward_auth): see forward-auth.ts.
  app.get(`${P}/check`, (c) => forwardAuthCheck(c, deps));
  // What a browser sees when /auth/check refused it: nginx's documented config routes its 403 here. The
  // door is asked again about the original request, so a missing second factor goes to the step-up.
  app.get(`${P}/forbidden`, (c) => forbiddenPage(c, deps));

  // The public keys apps verify X-Forwarded-Assertion with (the previous key too, for its overlap).
  app.get(`${P}/.well-known/jwks.json`, (c) => {
    if (!deps.signer) return c.json({ error: 'not_found' }, 404);
    c.header('cache-control', 'public, max-age=300');
    return c.json(deps.signer.jwks());
  });
}

/** The stylesheet and scripts, and the guide for coding agents: public, cached for an hour. */
function mountAssets(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  app.get(`${P}/assets/:file`, async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return errorPage(c, 404, 'Not found', 'There is no such file.');
    const body = await readFile(PACKAGE_ASSETS[file] ?? join(deps.viewsDir, 'assets', file));
    c.header('cache-control', 'public, max-age=3600');
    return c.body(body, 200, { 'content-type': type });
  });

  // The cheat sheet for coding agents building the app behind Gatehouse: public, like the stylesheet.
  // Read on each request (it is small and rarely fetched) so an edited docs/agent-skill.md is served as is.
  app.get(`${P}/guide.md`, async (c) => {
    const body = await readFile(AGENT_GUIDE);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(body, 200, { 'content-type': 'text/markdown; charset=utf-8' });
  });
}

/** What operators and apps ask: health, readiness, metrics, and who is signed in. */
function mountProbes(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  app.get(`${P}/health`, (c) => c.json({ status: 'ok' }));
  app.get(`${P}/ready`, async (c) => {
    try {
      await deps.store.ping();
      return c.json({ status: 'ready', store: deps.store.kind });
    } catch {
      c.header('retry-after', '5');
      return c.json({ status: 'unavailable', store: deps.store.kind }, 503);
    }
  });

  app.get(`${P}/metrics`, (c) => {
    if (!mayReadMetrics(c)) return c.json({ error: 'forbidden' }, 403);
    return c.body(metricsText(deps), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  app.get(`${P}/me`, requireSession({ json: true }), (c) => {
    const p = signedIn(c).principal;
    return c.json({
      id: p.userId,
      email: p.email,
      emailVerified: p.emailVerified,
      name: p.name,
      provider: p.provider,
      role: p.role,
      groups: p.groups,
      amr: p.amr ?? amrOf(p.provider),
      ...(p.scopes ? { scopes: p.scopes } : {}),
    });
  });
}

/** `/auth/check`: the door's verdict (admission/door.ts) on the original request a trusted proxy names,
 *  as the answer nginx, Traefik and Caddy expect. With auth switched off everyone passes, without identity. */
async function forwardAuthCheck(c: AuthContext, deps: AuthServices): Promise<Response> {
  const incoming = c.env?.incoming;
  const headers = incoming?.headers ?? {};
  const peer = incoming?.socket.remoteAddress;
  const fromProxy = deps.trusted.any && deps.trusted.isTrusted(peer ?? '');
  const orig = originalRequest(headers, fromProxy);
  if (typeof orig === 'string') return c.json({ error: 'bad_request', reason: orig }, 400);
  // An original URI we cannot believe is never answered 200 while rules could refuse it (architecture.md#forward-auth).
  const s = deps.settings.current();
  if (s.mode !== 'off' && orig.via === 'none' && namesOriginal(headers) && policyOf(s).rules.length) {
    return c.json(
      {
        error: 'forbidden',
        reason: 'the original URI comes from a peer that is not a trusted proxy (--trusted-proxies)',
      },
      403,
    );
  }
  const client = fromProxy ? deps.trusted.clientIp(peer, headers['x-forwarded-for']) : peer;
  const v = await deps.door.decide(
    { method: orig.method, url: orig.uri, headers, peer: client, peerIsClient: fromProxy },
    'forward-auth',
  );
  const navigation = redirectsToSignIn(orig, c.req.header('accept'), checkMode(c.req.query('mode')));
  return checkAnswer(c, deps, v, orig, navigation);
}

/** The verdict as forward-auth's answer: 200 with identity headers, or 302 / 401 / 403 / 429 / 503. */
async function checkAnswer(
  c: AuthContext,
  deps: AuthServices,
  v: Verdict,
  orig: OriginalRequest,
  navigation: boolean,
): Promise<Response> {
  const P = deps.prefix;
  switch (v.code) {
    case 'pass':
      return v.session ? signedInAnswer(c, deps, v.session) : anonymous(c);
    case 'ambiguous-path':
      return c.json({ error: 'bad_request', reason: v.reason }, 400);
    case 'sign-in': {
      const location = signInLocation(P, orig);
      if (navigation) return c.redirect(location, 302);
      // nginx turns this 401 into its own redirect with `error_page` and this header.
      c.header('x-gatehouse-sign-in', location);
      c.header('www-authenticate', v.challenge ?? 'Cookie realm="gatehouse"');
      return c.json({ error: 'unauthenticated' }, 401);
    }
    case 'invalid-token':
      c.header('www-authenticate', v.challenge);
      return c.json({ error: 'invalid_token' }, 401);
    case 'rate-limited':
      c.header('retry-after', String(v.retryAfterSec));
      return c.json({ error: 'rate_limited' }, 429);
    case 'forbidden':
      // Traefik and Caddy hand this answer to the browser as it is: a navigation gets the gate's page.
      if (navigation) return forbidden(c, v.session, orig.uri);
      return c.json({ error: 'forbidden' }, 403);
    case 'step-up':
    case 'enrol':
      // A browser relayed by Traefik or Caddy is asked for a code, as the gate would (architecture.md#mfa).
      if (navigation)
        return c.redirect(
          `${P}/${v.code === 'step-up' ? 'step-up' : 'account/totp'}?return_to=${encodeURIComponent(orig.uri)}`,
          302,
        );
      return c.json({ error: 'mfa_required' }, 403);
    case 'unavailable':
      c.header('retry-after', '5');
      return c.json({ error: 'unavailable' }, 503);
  }
}

/** The 403 page a browser gets from the gate, for a refusal made at forward-auth. */
const forbidden = (c: AuthContext, s: ResolvedSession, uri: string) =>
  page(
    c,
    'forbidden',
    'Not open to you',
    { name: s.principal.name, email: s.principal.email, path: safePath(uri) },
    403,
  );

/** `/auth/forbidden`: nginx's error_page for a 403 from /auth/check. The original request (from a trusted
 *  proxy, else `?path=`) is decided again, for this browser only: the page, a second step, or back. */
async function forbiddenPage(c: AuthContext, deps: AuthServices): Promise<Response> {
  const incoming = c.env?.incoming;
  const headers = incoming?.headers ?? {};
  const fromProxy = deps.trusted.any && deps.trusted.isTrusted(incoming?.socket.remoteAddress ?? '');
  const orig = originalRequest(headers, fromProxy);
  const uri = safePath(typeof orig !== 'string' && orig.via !== 'none' ? orig.uri : (c.req.query('path') ?? '/'));
  const v = await deps.door.decide(
    { method: 'GET', url: uri, headers, peer: incoming?.socket.remoteAddress, peerIsClient: false },
    'forward-auth',
  );
  if (v.code === 'forbidden') return forbidden(c, v.session, uri);
  if (v.code === 'step-up' || v.code === 'enrol')
    return c.redirect(
      `${deps.prefix}/${v.code === 'step-up' ? 'step-up' : 'account/totp'}?return_to=${encodeURIComponent(uri)}`,
      302,
    );
  if (v.code === 'sign-in') return c.redirect(signInLocation(deps.prefix, { method: 'GET', uri, via: 'none' }), 302);
  if (v.code === 'pass') return c.redirect(uri, 302);
  return errorPage(c, STATUS_OF[v.code], 'Not open to you', 'This request cannot be let through.');
}

async function signedInAnswer(c: AuthContext, deps: AuthServices, s: ResolvedSession): Promise<Response> {
  const headers = identityHeaders(s.principal); // the proxy's own writer: identical bytes
  for (let i = 0; i < headers.length; i += 2) c.header(headers[i]!, headers[i + 1]!);
  if (!s.principal.groups.length) c.header('x-forwarded-groups', ''); // present and empty: see anonymous()
  if (!s.principal.scopes?.length) c.header('x-forwarded-scopes', '');
  c.header('x-forwarded-assertion', deps.signer ? await deps.signer.assertionOf(s) : '');
  appCookies(c);
  return c.body(null, 200);
}

/** The request's cookies without Gatehouse's: the documented proxy configs send the app this instead of
 *  the Cookie header, so the app never receives a session it could replay (docs/forward-auth.md). */
function appCookies(c: AuthContext): void {
  const cookie = c.req.header('cookie');
  c.header('x-gatehouse-app-cookie', cookie ? (stripCookies(cookie, ALL_OWN_COOKIES) ?? '') : '');
}

/** Whether the check request names an original request at all (any spelling a proxy uses). */
/** A path to name on a page or go back to: only a same-origin path (the page escapes it). */
const safePath = (p: string) =>
  p.startsWith('/') && !p.startsWith('//') && !p.startsWith('/\\') && p.length <= 2048 ? p : '/';

const namesOriginal = (h: IncomingHttpHeaders) =>
  ['x-forwarded-uri', 'x-original-uri', 'x-forwarded-method', 'x-original-method'].some((k) => h[k] !== undefined);

/** For admins, or for a scraper on this machine — but never through a local reverse proxy, where every
 *  visitor would look like loopback. */
function mayReadMetrics(c: AuthContext): boolean {
  const local = c.get('loopbackPeer') && !c.var.deps.trusted.any && !c.get('forwarded');
  const s = c.get('session');
  return local || (s !== null && isAdmin(s.principal));
}

/** Prometheus text. */
function metricsText(deps: AuthServices): string {
  const lines = [
    '# HELP gatehouse_events_total Security events since start, by type.',
    '# TYPE gatehouse_events_total counter',
    ...[...deps.audit.counts()].map(([event, n]) => `gatehouse_events_total{event="${event}"} ${n}`),
    "# HELP gatehouse_sessions_cached Sessions held in this process's cache.",
    '# TYPE gatehouse_sessions_cached gauge',
    `gatehouse_sessions_cached ${deps.sessions.cached}`,
    '# HELP gatehouse_password_hashes_in_flight Password hashes running or queued.',
    '# TYPE gatehouse_password_hashes_in_flight gauge',
    `gatehouse_password_hashes_in_flight ${deps.hasher.inFlight}`,
    '# HELP gatehouse_process_resident_memory_bytes Resident set size.',
    '# TYPE gatehouse_process_resident_memory_bytes gauge',
    `gatehouse_process_resident_memory_bytes ${process.memoryUsage.rss()}`,
  ];
  return lines.join('\n') + '\n';
}

/**
 * A 200 for nobody in particular (a public path, auth off): every identity header is present and
 * empty, so a proxy that copies them copies nothing — Caddy 2.6 writes a literal
 * "{http.reverse_proxy.header.X-Forwarded-User}" placeholder for a header the answer lacks.
 */
function anonymous(c: AuthContext): Response {
  for (const h of ANONYMOUS_HEADERS) c.header(h, '');
  appCookies(c);
  return c.body(null, 200);
}

const ANONYMOUS_HEADERS = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-email-verified',
  'x-forwarded-name',
  'x-forwarded-provider',
  'x-forwarded-role',
  'x-forwarded-groups',
  'x-forwarded-scopes',
  'x-forwarded-assertion',
];
