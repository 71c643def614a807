// End to end over real sockets: a real Gatehouse in front of a recording upstream that asserts exactly
// what the app received — and that it received nothing when it must not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import WebSocket from 'ws';
import { startTestGatehouse, withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { rawRequest } from '../support/raw.js';

const { gh, upstream } = withGatehouse({ upstream: true, clearUpstreamEachTest: true });
const PASSWORD = 'correct horse battery staple';

async function signedIn(
  email = `u${randomBytes(4).toString('hex')}@example.com`,
  name = 'Ada Lovelace',
): Promise<TestClient> {
  const c = new TestClient(gh.url);
  const r = await c.signUp(email, PASSWORD, name);
  assert.equal(r.status, 303, r.text);
  upstream.clear();
  return c;
}

describe('the gate', () => {
  it('redirects a browser navigation to sign-in and the app receives nothing', async () => {
    const r = await new TestClient(gh.url).get('/private/page?x=1');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/auth/sign-in?return_to=%2Fprivate%2Fpage%3Fx%3D1');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(upstream.requests.length, 0);
  });

  it('answers 401 JSON to API calls, other methods and bodies, and the app receives nothing', async () => {
    const c = new TestClient(gh.url);
    for (const [method, accept] of [
      ['GET', 'application/json'],
      ['POST', 'text/html'],
      ['DELETE', '*/*'],
    ] as const) {
      const r = await c.send(method, '/api/thing', {
        headers: { accept, 'content-type': 'application/json' },
        body: method === 'POST' ? '{"a":1}' : undefined,
      });
      assert.equal(r.status, 401, method);
      assert.deepEqual(JSON.parse(r.text), { error: 'unauthenticated' });
      assert.ok(r.headers['www-authenticate']);
      assert.equal(r.headers['cache-control'], 'no-store');
    }
    assert.equal(upstream.requests.length, 0);
  });

  it('signs up, sets a hardened cookie and lands on return_to', async () => {
    const c = new TestClient(gh.url);
    const csrf = await c.csrf('/auth/sign-up?return_to=%2Fdashboard');
    const r = await c.post('/auth/sign-up', {
      name: 'Grace',
      email: '  Grace@Example.COM ',
      password: PASSWORD,
      csrf,
      return_to: '/dashboard',
    });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/dashboard');
    const setCookie = ([] as string[])
      .concat(r.headers['set-cookie'] as string[])
      .find((l) => l.startsWith('gatehouse_session='))!;
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.match(setCookie, /Path=\//);
    const me = await c.get('/auth/me', { accept: 'application/json' });
    assert.equal(me.status, 200);
    const body = JSON.parse(me.text);
    assert.equal(body.email, 'grace@example.com'); // normalised
    assert.equal(body.provider, 'password');
    assert.equal(body.role, 'member'); // not the setup link: never admin
  });

  it('forwards signed-in requests with identity headers and without Gatehouse cookies', async () => {
    const c = await signedIn(undefined, 'Zoë Ünicode 李');
    c.cookies.set('app_pref', 'dark');
    const r = await c.get('/echo?q=1', { accept: 'application/json' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-app'], 'recording');
    const seen = upstream.requests[0]!;
    assert.equal(seen.url, '/echo?q=1');
    assert.match(String(seen.headers['x-forwarded-user']), /^[0-9a-f-]{36}$/);
    assert.match(String(seen.headers['x-forwarded-email']), /@example\.com$/);
    assert.equal(decodeURIComponent(String(seen.headers['x-forwarded-name'])), 'Zoë Ünicode 李');
    assert.equal(seen.headers['x-forwarded-provider'], 'password');
    assert.equal(seen.headers['x-forwarded-role'], 'member');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers.cookie, 'app_pref=dark'); // the app's cookie stays, ours are gone
  });

  it('never lets client-sent identity headers reach the app, in any spelling', async () => {
    const spoof =
      'GET /echo HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n' +
      'X-Forwarded-User: admin\r\nx-forwarded-email: boss@corp\r\nX_Forwarded_User: admin2\r\nX-FORWARDED-ROLE: admin\r\n' +
      'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.com\r\nRemote-User: admin\r\nX-Auth-Request-User: admin\r\n' +
      'Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: hop\r\n';
    const c = await signedIn();
    const withCookie = spoof + `Cookie: ${c.cookieHeader()}\r\n\r\n`;
    const answer = await rawRequest(gh.url, withCookie);
    assert.match(answer, /^HTTP\/1.1 200/);
    const seen = upstream.requests.at(-1)!;
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.equal(names.filter((n) => n === 'x-forwarded-user').length, 1);
    assert.notEqual(seen.headers['x-forwarded-user'], 'admin');
    assert.notEqual(seen.headers['x-forwarded-role'], 'admin');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.notEqual(seen.headers['x-forwarded-host'], 'evil.com');
    for (const bad of ['x_forwarded_user', 'remote-user', 'x-auth-request-user', 'x-secret-hop'])
      assert.ok(!names.includes(bad), bad);
  });

  it('strips spoofed identity headers also when auth is off', async () => {
    const { readState, writeState } = await import('../../src/config/state.js');
    const scope = { home: gh.home, server: 'local', profile: 'main' };
    const state = readState(scope)!;
    writeState(scope, { ...state, auth: { ...state.auth, enabled: false } });
    gh.reload();
    try {
      const r = await new TestClient(gh.url).get('/echo', {
        accept: 'application/json',
        'x-forwarded-user': 'admin',
        x_forwarded_email: 'a@b',
      });
      assert.equal(r.status, 200);
      const seen = upstream.requests.at(-1)!;
      assert.equal(seen.headers['x-forwarded-user'], undefined);
      assert.equal(seen.headers['x_forwarded_email'], undefined);
    } finally {
      writeState(scope, state);
      gh.reload();
    }
    assert.equal((await new TestClient(gh.url).get('/echo', { accept: 'application/json' })).status, 401);
  });

  it('streams a 5 MB upload and a 5 MB download intact', async () => {
    const c = await signedIn();
    const body = randomBytes(5 * 1024 * 1024);
    const up = await request(gh.url + '/upload', {
      method: 'POST',
      body,
      headers: { cookie: c.cookieHeader()!, 'content-type': 'application/octet-stream' },
    });
    const result = (await up.body.json()) as { bodyBytes: number; bodySha256: string };
    assert.equal(result.bodyBytes, body.length);
    assert.equal(result.bodySha256, createHash('sha256').update(body).digest('hex'));

    const down = await request(gh.url + '/big?bytes=5242880', { headers: { cookie: c.cookieHeader()! } });
    const got = Buffer.from(await down.body.arrayBuffer());
    assert.equal(got.length, 5242880);
    assert.equal(got.subarray(0, 8).toString(), 'abcdefgh');
  });

  it('relays server-sent events as they come', async () => {
    const c = await signedIn();
    const r = await request(gh.url + '/sse', { headers: { cookie: c.cookieHeader()!, accept: 'text/event-stream' } });
    assert.equal(r.headers['content-type'], 'text/event-stream');
    const text = await r.body.text();
    assert.deepEqual(text.match(/data: event \d/g), ['data: event 0', 'data: event 1', 'data: event 2']);
  });

  it("leaves the app's own cookies, redirects and headers untouched, without Gatehouse's page headers", async () => {
    const c = await signedIn();
    const r1 = await c.get('/set-cookie');
    assert.deepEqual(r1.headers['set-cookie'], ['app_a=1; Path=/', 'app_b=2; Path=/; HttpOnly']);
    assert.equal(r1.headers['content-security-policy'], undefined);
    const r2 = await c.get('/redirect');
    assert.equal(r2.status, 302);
    assert.equal(r2.headers.location, '/elsewhere');
  });

  it("drops an app's attempt to set Gatehouse's own cookies", async () => {
    const c = await signedIn();
    const r = await c.get('/set-own-cookie');
    assert.deepEqual([r.headers['set-cookie']].flat(), ['app_ok=1; Path=/']);
  });

  it('authenticates WebSockets at the upgrade', async () => {
    const wsUrl = gh.url.replace('http', 'ws') + '/socket';
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.equal(refused, 401);
    assert.equal(upstream.requests.filter((r) => r.upgrade).length, 0);

    const c = await signedIn();
    const ws = new WebSocket(wsUrl, { headers: { cookie: c.cookieHeader()!, 'x-forwarded-user': 'spoof' } });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const reply = await new Promise<string>((r) => {
      ws.once('message', (d) => r(String(d)));
      ws.send('hello');
    });
    ws.close();
    assert.equal(reply, 'echo:hello');
    const seen = upstream.requests.find((r) => r.upgrade)!;
    assert.notEqual(seen.headers['x-forwarded-user'], 'spoof');
    assert.match(String(seen.headers['x-forwarded-user']), /^[0-9a-f-]{36}$/);
    assert.ok(!String(seen.headers.cookie ?? '').includes('gatehouse_session'));
  });

  it('refuses a saved cookie replayed after sign-out', async () => {
    const c = await signedIn();
    const saved = c.cookieHeader()!;
    assert.equal((await c.get('/echo')).status, 200);
    const out = await c.post('/auth/sign-out', {});
    assert.equal(out.status, 303);
    const replay = await new TestClient(gh.url).get('/echo', { cookie: saved, accept: 'application/json' });
    assert.equal(replay.status, 401);
    const me = await new TestClient(gh.url).get('/auth/me', { cookie: saved });
    assert.equal(me.status, 401);
  });

  it('refuses a cross-site sign-out POST', async () => {
    const c = await signedIn();
    const r = await c.post('/auth/sign-out', {}, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(r.status, 403);
    assert.equal((await c.get('/echo')).status, 200);
  });

  it('sends every open-redirect payload in return_to to /', async () => {
    const payloads = [
      '//evil.com',
      '/\\evil.com',
      'https:evil.com',
      '/%2F%2Fevil.com',
      '/%2f%5cevil.com',
      '%09//evil.com',
      '/%09/evil.com',
      '/%0a/evil.com',
      'javascript:alert(1)',
      'https://evil.com/',
      '\\\\evil.com',
      '/%5C%5Cevil.com',
      ' //evil.com',
    ];
    for (const p of payloads) {
      const c = new TestClient(gh.url);
      const email = `r${randomBytes(4).toString('hex')}@example.com`;
      const csrf = await c.csrf('/auth/sign-up');
      const r = await c.post('/auth/sign-up', { name: 'R', email, password: PASSWORD, csrf, return_to: p });
      assert.equal(r.status, 303, p);
      assert.equal(r.headers.location, '/', `return_to ${JSON.stringify(p)} went to ${r.headers.location}`);
      const again = await c.get(`/auth/sign-in?return_to=${encodeURIComponent(p)}`);
      assert.equal(again.headers.location, '/', p);
    }
  });

  it('does not adopt a session cookie planted before sign-in', async () => {
    const attacker = await signedIn(`attacker${randomBytes(3).toString('hex')}@example.com`);
    const planted = attacker.cookies.get('gatehouse_session')!;
    const victim = new TestClient(gh.url);
    const email = `victim${randomBytes(3).toString('hex')}@example.com`;
    await victim.signUp(email, PASSWORD);
    await victim.post('/auth/sign-out', {});
    // A forged cookie the attacker chose: ignored, and replaced at sign-in.
    const forged = `${'A'.repeat(43)}.${'B'.repeat(22)}`;
    victim.cookies.set('gatehouse_session', forged);
    assert.equal((await victim.signIn(email, PASSWORD)).status, 303);
    assert.notEqual(victim.cookies.get('gatehouse_session'), forged);
    await victim.post('/auth/sign-out', {});
    // The attacker's own valid session, planted: sign-in makes a new session and ends the planted one.
    const csrf = await victim.csrf('/auth/sign-in');
    victim.cookies.set('gatehouse_session', planted);
    const r = await victim.post('/auth/sign-in', { email, password: PASSWORD, csrf });
    assert.equal(r.status, 303);
    const now = victim.cookies.get('gatehouse_session')!;
    assert.notEqual(now, planted);
    const attackerView = await new TestClient(gh.url).get('/auth/me', { cookie: `gatehouse_session=${planted}` });
    assert.equal(attackerView.status, 401, 'the planted session ended at sign-in');
    assert.equal(JSON.parse((await victim.get('/auth/me')).text).email, email);
  });

  it('refuses forms without a valid CSRF token', async () => {
    const c = new TestClient(gh.url);
    await c.get('/auth/sign-in');
    const email = `c${randomBytes(3).toString('hex')}@example.com`;
    assert.equal((await c.post('/auth/sign-up', { name: 'C', email, password: PASSWORD })).status, 403);
    assert.equal((await c.post('/auth/sign-up', { name: 'C', email, password: PASSWORD, csrf: 'forged' })).status, 403);
    const other = new TestClient(gh.url);
    const foreign = await other.csrf('/auth/sign-up'); // a token bound to someone else's cookie
    assert.equal((await c.post('/auth/sign-up', { name: 'C', email, password: PASSWORD, csrf: foreign })).status, 403);
    const own = await c.csrf('/auth/sign-up');
    assert.equal(
      (
        await c.post(
          '/auth/sign-up',
          { name: 'C', email, password: PASSWORD, csrf: own },
          { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        )
      ).status,
      403,
    );
    assert.equal((await c.post('/auth/sign-in', { email, password: PASSWORD })).status, 403);
  });

  it('answers 502 with a page when the app is down', async () => {
    const down = await startTestGatehouse({ upstream: 'http://127.0.0.1:9' });
    try {
      const c = new TestClient(down.url);
      await c.signUp('d@example.com', PASSWORD);
      const r = await c.get('/');
      assert.equal(r.status, 502);
      assert.match(r.text, /not reachable/);
      assert.ok(r.headers['content-security-policy']);
    } finally {
      await down.stop();
    }
  });

  it('puts security headers on its own pages', async () => {
    const r = await new TestClient(gh.url).get('/auth/sign-in');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.match(String(r.headers['content-security-policy']), /object-src 'none'/);
    assert.doesNotMatch(String(r.headers['content-security-policy']), /unsafe-inline/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.ok(r.headers['referrer-policy']);
    assert.equal(r.headers['cache-control'], 'no-store');
    // One script, external (script-src 'self'); nothing inline.
    assert.deepEqual(r.text.match(/<script[^>]*>/gi), ['<script src="/auth/assets/gatehouse.js" defer>']);
    assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
  });

  it('redirects the route aliases people guess', async () => {
    const c = new TestClient(gh.url);
    for (const [alias, target] of [
      ['login', 'sign-in'],
      ['signin', 'sign-in'],
      ['signup', 'sign-up'],
      ['register', 'sign-up'],
      ['logout', 'sign-out'],
      ['signout', 'sign-out'],
    ]) {
      const r = await c.get(`/auth/${alias}?return_to=%2Fx`);
      assert.equal(r.status, 302, alias);
      assert.equal(r.headers.location, `/auth/${target}?return_to=%2Fx`);
    }
  });

  it('makes the first admin only through the one-time setup link', async () => {
    const fresh = await startTestGatehouse({ upstream: upstream.url });
    try {
      assert.ok(fresh.setupToken, 'the first start prints a setup link');
      const stranger = new TestClient(fresh.url);
      await stranger.signUp('stranger@example.com', PASSWORD);
      assert.equal(JSON.parse((await stranger.get('/auth/me')).text).role, 'member');
      const owner = new TestClient(fresh.url);
      const r = await owner.signUp('owner@example.com', PASSWORD, 'Owner', { setup: fresh.setupToken! });
      assert.equal(r.status, 303);
      assert.equal(JSON.parse((await owner.get('/auth/me')).text).role, 'admin');
      const again = new TestClient(fresh.url);
      const reuse = await again.signUp('late@example.com', PASSWORD, 'Late', { setup: fresh.setupToken! });
      assert.equal(reuse.status, 410, 'the link works once');
      assert.match(reuse.text, /already been used or has expired/);
    } finally {
      await fresh.stop();
    }
  });

  it('writes nothing to the store on the hot path and reuses upstream connections', async () => {
    const c = await signedIn();
    const touchesBefore = gh.sessions.touches;
    const connsBefore = upstream.connections;
    for (let i = 0; i < 300; i++) assert.equal((await c.get('/echo', { accept: 'application/json' })).status, 200);
    assert.ok(gh.sessions.touches - touchesBefore <= 1, `touches: ${gh.sessions.touches - touchesBefore}`);
    assert.ok(
      upstream.connections - connsBefore <= 3,
      `new upstream connections: ${upstream.connections - connsBefore}`,
    );
  });
});
