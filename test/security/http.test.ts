// Hostile HTTP against a running Gatehouse over raw sockets. Each attack is tried, the answer is
// checked, and so is what the recording upstream saw: nothing that should not reach the app does.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { rawRequest, statusOf } from '../support/raw.js';

let upstream: RecordingUpstream;
let gh: TestGatehouse;
let cookie: string;

before(async () => {
  upstream = await startRecordingUpstream();
  gh = await startTestGatehouse({
    upstream: upstream.url,
    env: { GATEHOUSE_PUBLIC_PATHS: '/public/*,/healthz' },
    timeouts: { headers: 1000, upstreamHeaders: 1000, checkInterval: 200 },
  });
  const c = new TestClient(gh.url);
  await c.signUp('http@example.com', 'a long enough password');
  cookie = c.cookieHeader()!;
});
after(async () => {
  await gh.stop();
  await upstream.close();
});
beforeEach(() => upstream.clear());

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n${extra}\r\n`;

describe('hostile HTTP', () => {
  it('refuses request smuggling framings with 400, and the app sees nothing', async () => {
    const attacks = [
      'POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /private HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /public/a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nContent-Length: 40\r\n\r\nabcdef',
      'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
      'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
      'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
      'POST /public/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
      'GET /public/a HTTP/1.1\nHost: x\nX-Y: z\n\n',
      'GET /public/a HTTP/1.1\r\nHost: x\r\nX-Evil: a\rb\r\n\r\n',
      'GET /public/a HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n',
      'GET http://evil.example/private HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /public/a HTTP/1.1\r\nHost: x\r\nHost: evil.example\r\n\r\n',
      'GET /public/a HTTP/1.1\r\nHost:\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const a of attacks) {
      const answer = await rawRequest(gh.url, a);
      assert.equal(statusOf(answer), 400, `${JSON.stringify(a.slice(0, 60))} → ${answer.slice(0, 40)}`);
    }
    assert.equal(upstream.requests.length, 0, upstream.requests.map((r) => r.url).join(','));
  });

  it('limits header size, header count and URL length', async () => {
    assert.equal(statusOf(await rawRequest(gh.url, get('/public/a', `X-Big: ${'a'.repeat(20_000)}\r\n`))), 431);
    const many = Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('');
    assert.equal(statusOf(await rawRequest(gh.url, get('/public/a', many))), 431);
    assert.equal(statusOf(await rawRequest(gh.url, get(`/public/${'a'.repeat(9000)}`))), 414);
    assert.equal(upstream.requests.length, 0);
  });

  it('limits body size on /auth', async () => {
    const c = new TestClient(gh.url);
    const r = await c.send('POST', '/auth/sign-in', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gh.url },
      body: 'email=' + 'a'.repeat(100_000),
    });
    assert.equal(r.status, 413);
  });

  it('drops a client that sends its headers too slowly', async () => {
    const url = new URL(gh.url);
    const closed = await new Promise<string>((resolve) => {
      const s = connect(Number(url.port), url.hostname);
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.write('GET /public/a HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => s.writable && s.write('X-Slow: a\r\n'), 300);
      setTimeout(() => clearInterval(drip), 4000);
    });
    assert.ok(closed === '' || statusOf(closed) === 408, closed.slice(0, 40));
    assert.equal(upstream.requests.length, 0);
  });

  it('cannot reach a protected path through public-path tricks', async () => {
    const tricks = [
      '/public/../private',
      '/public/%2e%2e/private',
      '/public%2f..%2fprivate',
      '/public/%252e%252e/private',
      '/public\\..\\private',
      '//public/a',
      '/public//../private',
      '/public/a;/../../private',
      '/public/%00/../private',
      '/PUBLIC/a',
      '/healthz/../private',
      '/healthz;x',
      '/healthz%2f',
      '/./public/a',
    ];
    for (const t of tricks) {
      const answer = await rawRequest(gh.url, get(t));
      assert.ok([400, 401].includes(statusOf(answer)), `${t} → ${answer.slice(0, 30)}`);
    }
    assert.equal(upstream.requests.length, 0, upstream.requests.map((r) => r.url).join(' '));
    assert.equal(statusOf(await rawRequest(gh.url, get('/public/a'))), 200, 'the real public path works');
    assert.equal(statusOf(await rawRequest(gh.url, get('/private?x=/public/a'))), 401, 'never the query');
  });

  it('ignores X-Original-URL, X-Rewrite-URL, X-Forwarded-Uri and method overrides', async () => {
    const answer = await rawRequest(
      gh.url,
      get(
        '/public/a',
        'X-Original-URL: /private\r\nX-Rewrite-URL: /private\r\nX-Forwarded-Uri: /private\r\nX-Forwarded-Prefix: /private\r\n',
      ),
    );
    assert.equal(statusOf(answer), 200);
    const seen = upstream.requests[0]!;
    assert.equal(seen.url, '/public/a');
    for (const h of ['x-original-url', 'x-rewrite-url', 'x-forwarded-uri', 'x-forwarded-prefix'])
      assert.equal(seen.headers[h], undefined, h);
    const post = await rawRequest(
      gh.url,
      'POST /private HTTP/1.1\r\nHost: x\r\nX-HTTP-Method-Override: GET\r\nX-Method-Override: GET\r\nContent-Length: 0\r\n\r\n',
    );
    assert.equal(statusOf(post), 401);
    assert.equal(upstream.requests.length, 1);
  });

  it('answers malformed cookies and headers with 4xx, never a crash or a 200', async () => {
    const bad = [
      'Cookie: gatehouse_session=%%%%\r\n',
      'Cookie: gatehouse_session=\r\n',
      'Cookie: ;;;==;gatehouse_session\r\n',
      `Cookie: gatehouse_session=${'A'.repeat(43)}.${'B'.repeat(22)}\r\n`,
      'Cookie: gatehouse_session=\u00ff\u00fe\r\n',
      'Authorization: Bearer ghk_\r\n',
      'Authorization: Basic %%%\r\n',
      `Cookie: gatehouse_session=${'x'.repeat(4000)}\r\n`,
    ];
    for (const h of bad) {
      const answer = await rawRequest(gh.url, Buffer.from(get('/private', h), 'latin1'));
      const status = statusOf(answer);
      assert.ok(status >= 400 && status < 500, `${JSON.stringify(h)} → ${status}`);
    }
    assert.equal(upstream.requests.length, 0);
    assert.equal((await new TestClient(gh.url).get('/auth/health')).status, 200, 'still alive');
  });

  it('refuses TRACE and CONNECT, even with a session', async () => {
    assert.equal(
      statusOf(await rawRequest(gh.url, `TRACE /private HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`)),
      405,
    );
    assert.equal(
      statusOf(await rawRequest(gh.url, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n')),
      405,
    );
    assert.equal(upstream.requests.length, 0);
  });

  it('answers 504 when the app is too slow, and invalid UTF-8 in a form with a 4xx', async () => {
    const slow = await new TestClient(gh.url).get('/slow?ms=3000', { cookie, accept: 'text/html' });
    assert.equal(slow.status, 504);
    assert.match(slow.text, /took too long/);
    const r = await new TestClient(gh.url).send('POST', '/auth/sign-in', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: gh.url },
      body: Buffer.from([0x65, 0x6d, 0x61, 0x69, 0x6c, 0x3d, 0xff, 0xfe, 0x25]),
    });
    assert.ok(r.status >= 400 && r.status < 500, String(r.status));
  });
});
