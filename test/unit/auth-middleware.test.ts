// The middleware in front of Gatehouse's own routes, in-process through Hono's app.request(): guards
// refuse and the handler never runs; CSRF refuses cross-site posts and missing tokens; request info
// believes X-Forwarded-For only from a trusted proxy.
import { createDoor } from '../../src/admission/door.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AuthEnv, AuthServices } from '../../src/auth/context.js';
import { requestInfo, type RawRequest } from '../../src/auth/middleware/request-info.js';
import { loadSession, requireAdmin, requireSession } from '../../src/auth/middleware/session.js';
import { csrf, csrfCookie, csrfToken } from '../../src/auth/middleware/csrf.js';
import { formBody } from '../../src/auth/middleware/form-body.js';
import { createAuditLog } from '../../src/security/audit-log.js';
import { createRenderer } from '../../src/render.js';
import { cookieNames } from '../../src/session/cookies.js';
import { parseTrustedProxies } from '../../src/security/client-ip.js';
import { csrfTokenFor } from '../../src/security/csrf.js';
import type { ResolvedSession, SessionService } from '../../src/session/sessions.js';

const ORIGIN = 'https://gate.example';
const SECRET = Buffer.alloc(32, 7);
const VIEWS = fileURLToPath(new URL('../../views', import.meta.url));

const member: ResolvedSession = {
  sessionId: 'sid-member',
  principal: {
    userId: 'u1',
    email: 'm@example.com',
    name: 'M',
    provider: 'password',
    role: 'member',
    emailVerified: true,
    groups: [],
  },
};
const admin: ResolvedSession = {
  sessionId: 'sid-admin',
  principal: { ...member.principal, userId: 'u2', role: 'admin' },
};
const adminKey: ResolvedSession = { sessionId: 'key', principal: { ...admin.principal, provider: 'api-key' } };
const byCookie: Record<string, ResolvedSession> = { member, admin, 'admin-key': adminKey };

/** A test app: the shared middleware, then one route per guard; `ran` lists the handlers that ran. */
function harness(opts: { peer?: string; raw?: (headers: Headers) => RawRequest } = {}) {
  const audit: string[] = [];
  const ran: string[] = [];
  const deps = {
    prefix: '/auth',
    appName: 'Test',
    publicOrigin: ORIGIN,
    cookies: cookieNames(false),
    trusted: parseTrustedProxies(['10.0.0.0/8']),
    settings: { current: () => ({ mode: 'on', secret: SECRET, signUp: 'open', allowedDomains: [], publicPaths: [] }) },
    sessions: { peek: () => undefined, resolve: async (cookie: string) => byCookie[cookie] ?? null } as Pick<
      SessionService,
      'peek' | 'resolve'
    >,
    apiKeys: { resolve: async () => null },
    audit: createAuditLog((line) => audit.push(line)),
    renderer: createRenderer(VIEWS),
    log: () => {},
  } as unknown as AuthServices;
  // The pages find who is asking through the door, as every entrance does.
  deps.door = createDoor({
    ...deps,
    oauthTokens: null,
    limits: { check: async () => ({ ok: true }) } as never,
    publicUrl: null,
    onStoreError: () => {},
  });
  const raw =
    opts.raw ?? ((headers: Headers) => ({ peer: opts.peer ?? '127.0.0.1', headers: Object.fromEntries(headers) }));
  const app = new Hono<AuthEnv>();
  app.use('*', requestInfo({ deps, raw: (c) => raw(c.req.raw.headers) }));
  app.use('*', csrfCookie());
  app.use('*', loadSession({ prefix: '/auth' }));
  app.use('*', formBody({ maxBytes: 1024 }));
  const handler = (name: string) => (c: { text: (t: string) => Response }) => {
    ran.push(name);
    return c.text('ok');
  };
  app.get('/auth/page', requireSession({ redirect: 302, returnTo: '/auth/page' }), handler('page'));
  app.get('/auth/me', requireSession({ json: true }), handler('me'));
  app.get('/auth/admin', requireAdmin({ prefix: '/auth' }), handler('admin'));
  app.post('/auth/bound', csrf({ refuse: (c, _f, why) => c.text(`refused ${why}`, 403) }), handler('bound'));
  app.post(
    '/auth/open',
    csrf({ signedOutForm: true, refuse: (c, _f, why) => c.text(`refused ${why}`, 403) }),
    handler('open'),
  );
  app.get('/auth/token', (c) => c.text(csrfToken(c)));
  app.get('/auth/who', (c) =>
    c.json({
      ip: c.get('ip'),
      loopbackPeer: c.get('loopbackPeer'),
      forwarded: c.get('forwarded'),
      userAgent: c.get('userAgent'),
    }),
  );
  return { app, audit, ran };
}

const post = (fields: Record<string, string>, headers: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

describe('requireSession and requireAdmin', () => {
  it('send a signed-out browser to sign-in and back; the handler never runs', async () => {
    const { app, ran } = harness();
    const res = await app.request('/auth/page');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/auth/sign-in?return_to=%2Fauth%2Fpage');
    assert.deepEqual(ran, []);
  });

  it('answer a script 401 in JSON; the handler never runs', async () => {
    const { app, ran } = harness();
    const res = await app.request('/auth/me');
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'unauthenticated' });
    assert.equal(res.headers.get('www-authenticate'), 'Cookie realm="gatehouse"');
    assert.deepEqual(ran, []);
  });

  it('let a session through', async () => {
    const { app, ran } = harness();
    assert.equal((await app.request('/auth/page', { headers: { cookie: 'gatehouse_session=member' } })).status, 200);
    assert.deepEqual(ran, ['page']);
  });

  it('requireAdmin: a member and an admin API key get 403, no session goes to sign-in; the handler never runs', async () => {
    const { app, ran } = harness();
    for (const cookie of ['member', 'admin-key']) {
      const res = await app.request('/auth/admin', { headers: { cookie: `gatehouse_session=${cookie}` } });
      assert.equal(res.status, 403, cookie);
      assert.match(await res.text(), /Administrators only/);
    }
    const anonymous = await app.request('/auth/admin');
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.get('location'), '/auth/sign-in?return_to=%2Fauth%2Fadmin');
    assert.deepEqual(ran, []);
    assert.equal((await app.request('/auth/admin', { headers: { cookie: 'gatehouse_session=admin' } })).status, 200);
    assert.deepEqual(ran, ['admin']);
  });
});

describe('csrf', () => {
  const cookie = 'csrf-cookie-value';
  const unbound = csrfTokenFor(SECRET, cookie);
  const bound = csrfTokenFor(SECRET, cookie, member.sessionId);

  it('refuses a cross-site POST even with a valid token, and says so in the audit log; the handler never runs', async () => {
    const { app, audit, ran } = harness();
    const res = await app.request(
      '/auth/open',
      post({ csrf: unbound }, { cookie: `gatehouse_csrf=${cookie}`, origin: 'https://evil.example' }),
    );
    assert.equal(res.status, 403);
    assert.equal(await res.text(), 'refused cross-site');
    assert.deepEqual(ran, []);
    const line = JSON.parse(audit.find((l) => l.includes('"csrf.refused"'))!) as { detail: string };
    assert.equal(line.detail, `/auth/open from https://evil.example, expected ${ORIGIN}`);
  });

  it('refuses a POST without a token; the handler never runs', async () => {
    const { app, ran } = harness();
    const res = await app.request('/auth/open', post({}, { cookie: `gatehouse_csrf=${cookie}`, origin: ORIGIN }));
    assert.equal(res.status, 403);
    assert.equal(await res.text(), 'refused expired');
    assert.deepEqual(ran, []);
  });

  it('binds the token to the session; a signed-out form also takes an unbound one', async () => {
    const { app, ran } = harness();
    const headers = { cookie: `gatehouse_csrf=${cookie}; gatehouse_session=member`, origin: ORIGIN };
    assert.equal((await app.request('/auth/bound', post({ csrf: unbound }, headers))).status, 403);
    assert.equal((await app.request('/auth/bound', post({ csrf: bound }, headers))).status, 200);
    assert.equal((await app.request('/auth/open', post({ csrf: unbound }, headers))).status, 200);
    assert.deepEqual(ran, ['bound', 'open']);
  });

  it('csrfToken issues the cookie its token is bound to', async () => {
    const { app } = harness();
    const res = await app.request('/auth/token');
    const issued = /gatehouse_csrf=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
    assert.ok(issued);
    assert.equal(await res.text(), csrfTokenFor(SECRET, issued));
  });
});

describe('requestInfo', () => {
  const who = async (app: Hono<AuthEnv>, headers: Record<string, string> = {}) =>
    (await (await app.request('/auth/who', { headers })).json()) as {
      ip: string;
      loopbackPeer: boolean;
      forwarded: boolean;
      userAgent: string | null;
    };

  it('takes the client IP from the socket when the peer is not a trusted proxy', async () => {
    const info = await who(harness({ peer: '198.51.100.7' }).app, {
      'x-forwarded-for': '203.0.113.9',
      'user-agent': 'UA',
    });
    assert.equal(info.ip, '198.51.100.7');
    assert.equal(info.loopbackPeer, false);
    assert.equal(info.forwarded, true);
    assert.equal(info.userAgent, 'UA');
  });

  it('takes it from X-Forwarded-For behind a trusted proxy', async () => {
    const info = await who(harness({ peer: '10.1.2.3' }).app, { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(info.ip, '203.0.113.9');
  });

  it('reads the Node request by default (what @hono/node-server passes as env.incoming)', async () => {
    // Without the injected reader: the default reads c.env.incoming.
    const plain = new Hono<AuthEnv>();
    const deps = {
      trusted: parseTrustedProxies([]),
      publicOrigin: ORIGIN,
      cookies: cookieNames(false),
    } as unknown as AuthServices;
    plain.use('*', requestInfo({ deps }));
    plain.get('/auth/who', (c) =>
      c.json({
        ip: c.get('ip'),
        loopbackPeer: c.get('loopbackPeer'),
        forwarded: c.get('forwarded'),
        userAgent: c.get('userAgent'),
      }),
    );
    const incoming = {
      socket: { remoteAddress: '::1' },
      headers: { 'user-agent': 'curl' },
    } as unknown as IncomingMessage;
    const res = await plain.request('/auth/who', {}, { incoming });
    assert.deepEqual(await res.json(), { ip: '::1', loopbackPeer: true, forwarded: false, userAgent: 'curl' });
  });
});
