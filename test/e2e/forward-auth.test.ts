// Forward-auth end to end: a real nginx (auth_request) and a real Caddy (forward_auth) running the
// configs of docs/forward-auth.md in front of a recording app, asking a real Gatehouse at /auth/check.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parse } from 'yaml';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { documentedConfig, hasBinary, startCaddy, startNginx, type RunningProxy } from '../support/proxies.js';

const PASSWORD = 'correct horse battery staple';
const IDENTITY = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-email-verified',
  'x-forwarded-name',
  'x-forwarded-provider',
  'x-forwarded-role',
];

for (const proxy of ['nginx', 'caddy'] as const) {
  describe(
    `forward-auth through a real ${proxy}`,
    { skip: hasBinary(proxy) ? false : `${proxy} is not installed` },
    () => {
      let app: RecordingUpstream;
      let gh: TestGatehouse;
      let front: RunningProxy;
      before(async () => {
        app = await startRecordingUpstream();
        gh = await startTestGatehouse({
          upstream: null,
          trustedProxies: ['127.0.0.1/32'],
          env: {
            GATEHOUSE_ACCESS: JSON.stringify([
              { pattern: '/open/*', public: true },
              { pattern: '/admin/*', allow: ['role:admin'] },
            ]),
          },
        });
        const ports = { gatehouse: Number(new URL(gh.url).port), app: app.port };
        front = proxy === 'nginx' ? await startNginx(ports) : await startCaddy(ports);
      });
      after(async () => {
        await front?.stop();
        await gh?.stop();
        await app?.close();
      });
      beforeEach(() => app.clear());
      /** A redirect's path and query, on the proxy's own origin (nginx makes it absolute, Caddy keeps it relative). */
      const target = (location: unknown) => {
        const u = new URL(String(location), front.url);
        assert.equal(u.origin, new URL(front.url).origin);
        return u.pathname + u.search;
      };

      it('sends a signed-out browser to sign-in and back to the original URL; the app sees nothing', async () => {
        const c = new TestClient(front.url);
        const r = await c.get('/reports/q3?year=2026&x=a%20b');
        assert.equal(r.status, 302, front.log());
        assert.equal(target(r.headers.location), '/auth/sign-in?return_to=%2Freports%2Fq3%3Fyear%3D2026%26x%3Da%2520b');
        const api = await c.get('/reports/q3', { accept: 'application/json' });
        assert.equal(api.status, 401);
        assert.equal(app.requests.length, 0);

        // Signing up through the proxy lands on the original URL, with our identity and no forged one.
        const email = `fa${randomBytes(4).toString('hex')}@example.com`;
        const csrf = await c.csrf('/auth/sign-up?return_to=%2Freports%2Fq3%3Fyear%3D2026');
        const done = await c.post('/auth/sign-up', {
          name: 'Ada Lovelace',
          email,
          password: PASSWORD,
          csrf,
          return_to: '/reports/q3?year=2026',
        });
        assert.equal(done.status, 303, done.text);
        assert.equal(done.headers.location, '/reports/q3?year=2026');
        const page = await c.get('/reports/q3?year=2026', {
          'x-forwarded-user': 'victim',
          'x-forwarded-role': 'admin',
          'x-forwarded-name': 'Mallory',
          'x-forwarded-scopes': 'reports:read',
        });
        assert.equal(page.status, 200);
        const seen = app.requests.at(-1)!;
        assert.equal(seen.url, '/reports/q3?year=2026');
        assert.equal(seen.headers['x-forwarded-email'], email);
        assert.equal(seen.headers['x-forwarded-name'], 'Ada Lovelace');
        assert.equal(seen.headers['x-forwarded-role'], 'member');
        assert.notEqual(seen.headers['x-forwarded-user'], 'victim');
        const me = JSON.parse((await c.get('/auth/me', { accept: 'application/json' })).text) as { id: string };
        assert.equal(seen.headers['x-forwarded-user'], me.id);
        for (const h of IDENTITY)
          assert.equal(
            seen.rawHeaders.filter((n, i) => i % 2 === 0 && n.toLowerCase() === h).length,
            1,
            `${h} exactly once`,
          );
        assert.ok(!seen.headers['x-forwarded-groups'], 'no groups: absent or empty, never a placeholder');
        assert.ok(!seen.headers['x-forwarded-scopes'], 'a client-sent X-Forwarded-Scopes never reaches the app');
        assert.match(
          String(seen.headers['x-forwarded-assertion']),
          /^ey[\w-]+\.[\w-]+\.[\w-]+$/,
          'the signed identity is copied too',
        );

        // A scoped key through the proxy: its scopes arrive from /auth/check, the key itself never does.
        const { token } = await gh.apiKeys.issue((await gh.store.findUserByEmail(email))!, 'etl', 'member', null, [
          'reports:read',
        ]);
        app.clear();
        const keyed = await new TestClient(front.url).get('/reports/q3', {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          'x-forwarded-scopes': 'admin:all',
        });
        assert.equal(keyed.status, 200, front.log());
        assert.equal(app.requests[0]!.headers['x-forwarded-scopes'], 'reports:read');
      });

      it('ignores a client-sent X-Forwarded-Uri or X-Original-URI: the decision is about the real request', async () => {
        const c = new TestClient(front.url);
        const spoofs: Array<Record<string, string>> = [
          { 'x-forwarded-uri': '/auth/health' },
          { 'x-original-uri': '/auth/health' },
          { 'x-forwarded-method': 'OPTIONS', 'x-original-method': 'OPTIONS' },
        ];
        for (const spoof of spoofs) {
          const r = await c.get('/private', spoof);
          // Either the proxy overwrote the header (and the redirect is about /private), or the two
          // spellings disagreed and Gatehouse refused: never a pass.
          assert.ok(r.status === 302 || r.status === 400, `${JSON.stringify(spoof)} → ${r.status}`);
          if (r.status === 302) assert.equal(target(r.headers.location), '/auth/sign-in?return_to=%2Fprivate');
        }
        assert.equal(app.requests.length, 0, 'nothing reached the app');
      });

      it('applies the access rules to the original request: public passes signed out, a member gets 403 on /admin/*', async () => {
        const open = await new TestClient(front.url).get('/open/page');
        assert.equal(open.status, 200, 'a public rule passes without a session');
        // No identity: absent, or present and empty (Gatehouse sends them empty so Caddy 2.6 copies nothing).
        for (const h of IDENTITY)
          assert.ok(!app.requests.at(-1)!.headers[h], `${h}: ${String(app.requests.at(-1)!.headers[h])}`);
        const c = new TestClient(front.url);
        const csrf = await c.csrf('/auth/sign-up');
        assert.equal(
          (
            await c.post('/auth/sign-up', {
              name: 'M',
              email: `m${randomBytes(4).toString('hex')}@example.com`,
              password: PASSWORD,
              csrf,
            })
          ).status,
          303,
        );
        app.clear();
        const refused = await c.get('/admin/users', { accept: 'application/json' });
        assert.equal(refused.status, 403);
        assert.equal(app.requests.length, 0, 'the app received nothing');
        assert.equal((await c.get('/reports')).status, 200, 'no rule: any signed-in user');
        // Assertion: the 200 from /auth/check carries one, and the proxy may copy it.
        assert.ok(gh.auditLines.some((l) => l.includes('"access.denied"') && l.includes('forward-auth')));
      });

      it("never hands the app Gatehouse's cookies, only its own (finding 6)", async () => {
        const c = new TestClient(front.url);
        const csrf = await c.csrf('/auth/sign-up');
        assert.equal(
          (
            await c.post('/auth/sign-up', {
              name: 'C',
              email: `c${randomBytes(4).toString('hex')}@example.com`,
              password: PASSWORD,
              csrf,
            })
          ).status,
          303,
        );
        app.clear();
        assert.equal((await c.get('/reports', { cookie: `${c.cookieHeader()}; theme=dark` })).status, 200, front.log());
        const cookie = String(app.requests.at(-1)!.headers.cookie ?? '');
        assert.match(cookie, /theme=dark/, 'the app keeps its own cookies');
        assert.doesNotMatch(cookie, /gatehouse_/, `the app received ${cookie}`);
        // Signed out on a public path, too.
        await new TestClient(front.url).get('/open/page', { cookie: 'gatehouse_csrf=x; theme=light' });
        assert.equal(String(app.requests.at(-1)!.headers.cookie ?? ''), 'theme=light');
      });

      it("shows a browser refused by a rule Gatehouse's 403 page; scripts get JSON (finding 6)", async () => {
        const c = new TestClient(front.url);
        const csrf = await c.csrf('/auth/sign-up');
        assert.equal(
          (
            await c.post('/auth/sign-up', {
              name: 'Refused Member',
              email: `r${randomBytes(4).toString('hex')}@example.com`,
              password: PASSWORD,
              csrf,
            })
          ).status,
          303,
        );
        app.clear();
        const page = await c.get('/admin/users');
        assert.equal(page.status, 403, front.log());
        assert.match(String(page.headers['content-type']), /text\/html/);
        assert.match(page.text, /not open to you/i);
        assert.match(page.text, /Refused Member/);
        const api = await c.get('/admin/users', { accept: 'application/json' });
        assert.equal(api.status, 403);
        assert.deepEqual(JSON.parse(api.text), { error: 'forbidden' });
        assert.equal(app.requests.length, 0, 'the app received nothing');
      });

      it('keeps forged identity headers in every spelling away from the app for anonymous requests to /auth pages', async () => {
        const r = await new TestClient(front.url).get('/auth/sign-in', { 'x-forwarded-user': 'victim' });
        assert.equal(r.status, 200);
        assert.equal(app.requests.length, 0);
      });
    },
  );
}

describe('the Traefik config in docs/forward-auth.md (Traefik is not in Debian: checked statically)', () => {
  it('parses, points at /auth/check, does not trust client forward headers, and copies every identity header', () => {
    const doc = parse(documentedConfig('yaml', { gatehouse: 4180, app: 3000 })) as {
      http: {
        middlewares: {
          gatehouse: { forwardAuth: { address: string; trustForwardHeader: boolean; authResponseHeaders: string[] } };
        };
        routers: Record<string, { rule: string; middlewares?: string[] }>;
      };
    };
    const fa = doc.http.middlewares.gatehouse.forwardAuth;
    assert.equal(fa.address, 'http://127.0.0.1:4180/auth/check');
    assert.equal(fa.trustForwardHeader, false);
    assert.deepEqual(
      fa.authResponseHeaders.map((h) => h.toLowerCase()).sort(),
      [...IDENTITY, 'x-forwarded-groups', 'x-forwarded-scopes', 'x-forwarded-assertion'].sort(),
    );
    assert.deepEqual(doc.http.routers.app!.middlewares, ['gatehouse']);
    assert.match(doc.http.routers['gatehouse-pages']!.rule, /PathPrefix\(`\/auth\/`\)/);
  });
});
