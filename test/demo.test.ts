// The built-in whoami demo app: shows the identity headers it received, decoded and escaped, with a
// plain same-origin sign-out form, its own stylesheet, and no inline script or style.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAssertion, identityOf, initialsOf, startDemoApp, type DemoApp } from '../src/demo/whoami.js';
import { createAssertionSigner, newSigningKey } from '../src/access/assertion.js';
import { startTestGatehouse } from './support/gatehouse.js';
import { TestClient } from './support/client.js';

const EVIL = `"><script>alert(1)</script><img src=x onerror=alert(1)> ' Zoë 李`;

let app: DemoApp;
const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await request(app.url + path, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
};

describe('demo app', () => {
  before(async () => {
    app = await startDemoApp({});
  });
  after(() => app.close());

  it('shows who is signed in and every identity header, escaped', async () => {
    const { status, headers, text } = await get('/', {
      'x-forwarded-user': EVIL.replace(/[^\x20-\x7e]/g, ''),
      'x-forwarded-email': 'ada@example.com',
      'x-forwarded-email-verified': 'true',
      'x-forwarded-groups': 'finance,ops',
      'x-forwarded-name': encodeURIComponent(EVIL),
      'x-forwarded-provider': 'password',
      'x-forwarded-role': 'admin',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
    });
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^text\/html; charset=utf-8/);
    assert.match(String(headers['content-security-policy']), /default-src 'none'; style-src 'self'/);
    assert.match(text, /<h1><span class="lead">Signed in as <\/span>ada@example\.com<\/h1>/);
    // The percent-encoded name is decoded for display, then escaped: unicode intact, no markup.
    assert.ok(
      text.includes('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &#39; Zoë 李'),
    );
    assert.doesNotMatch(text, /<script|<img/i);
    const markup = text.replace(/"[^"]*"/g, '""');
    assert.doesNotMatch(markup, /<[^>]*\s(style|on[a-z]+)=/i);
    assert.doesNotMatch(markup, /<style/i);
    for (const h of [
      'x-forwarded-user',
      'x-forwarded-email',
      'x-forwarded-email-verified',
      'x-forwarded-groups',
      'x-forwarded-name',
      'x-forwarded-provider',
      'x-forwarded-role',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
    ]) {
      assert.match(text, new RegExp(`<th scope="row">${h}</th>`), h);
    }
    assert.match(text, /<td>203\.0\.113\.7<\/td>/);
    assert.match(text, /<td>app\.example\.com<\/td>/);
    assert.doesNotMatch(text, /not sent/);
    assert.match(text, /<link rel="stylesheet" href="\/whoami.css">/);
  });

  it('signs out with a plain same-origin POST form (no token: the Origin header proves same-origin)', async () => {
    const { text } = await get('/', { 'x-forwarded-email': 'ada@example.com' });
    const form = /<form[^>]*>[\s\S]*?<\/form>/.exec(text)?.[0] ?? '';
    assert.match(form, /^<form method="post" action="\/auth\/sign-out">/);
    assert.match(form, /<button[^>]*type="submit">Sign out<\/button>/);
    assert.doesNotMatch(form, /<input/);
  });

  it('says so when no identity came (auth off)', async () => {
    const { text } = await get('/');
    assert.match(text, /<h1>No identity headers<\/h1>/);
    assert.match(text, /Auth is off/);
    assert.equal((text.match(/not sent/g) ?? []).length, 10);
    assert.doesNotMatch(text, /action="\/auth\/sign-out"/, 'nothing to sign out of');
  });

  it('/api/whoami returns the same identity as JSON', async () => {
    const { status, headers, text } = await get('/api/whoami?x=1', {
      'x-forwarded-user': 'u1',
      'x-forwarded-name': encodeURIComponent('Zoë 李'),
    });
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^application\/json/);
    const json = JSON.parse(text) as Record<string, string | null>;
    assert.equal(json['x-forwarded-user'], 'u1');
    assert.equal(json['x-forwarded-name'], 'Zoë 李');
    assert.equal(json['x-forwarded-email'], null);
  });

  it('shows an OAuth client and its scopes only when they are sent', async () => {
    const agent = await get('/', {
      'x-forwarded-user': 'u1',
      'x-forwarded-provider': 'oauth',
      'x-forwarded-client': encodeURIComponent('Claude <desktop>'),
      'x-forwarded-scopes': 'tools read',
    });
    assert.match(agent.text, /<th scope="row">x-forwarded-client<\/th><td>Claude &lt;desktop&gt;<\/td>/);
    assert.match(agent.text, /<th scope="row">x-forwarded-scopes<\/th><td>tools read<\/td>/);
    const browser = await get('/', { 'x-forwarded-user': 'u1', 'x-forwarded-provider': 'password' });
    assert.doesNotMatch(browser.text, /x-forwarded-client|x-forwarded-scopes/);
  });

  it('serves its own stylesheet, and 404 for anything else', async () => {
    const css = await get('/whoami.css');
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.match(css.text, /prefers-color-scheme: dark/);
    assert.match(css.text, /:focus-visible/);
    assert.equal((await get('/nope')).status, 404);
  });

  it('builds its links from the configured prefix', async () => {
    const other = await startDemoApp({ prefix: '/login' });
    try {
      const text = await (await request(other.url + '/', { headers: { 'x-forwarded-email': 'a@b.co' } })).body.text();
      assert.match(text, /<form method="post" action="\/login\/sign-out">/);
      assert.match(text, /href="\/login\/account"/);
    } finally {
      await other.close();
    }
  });

  it('never crashes on malformed percent-encoding', () => {
    assert.equal(identityOf({ 'x-forwarded-name': '%E0%A4%A' })['x-forwarded-name'], '%E0%A4%A');
  });

  it('initials take whole code points', () => {
    assert.equal(initialsOf('Ada Lovelace', null), 'AL');
    assert.equal(initialsOf('zoë 李', null), 'Z李');
    assert.equal(initialsOf('🙂 Smile', null), '🙂S');
    assert.equal(initialsOf(null, 'bob@example.com'), 'B');
    assert.equal(initialsOf('  ', null), '?');
  });

  it('verifies X-Forwarded-Assertion against the published keys, as an app would, and says so', async () => {
    const origin = 'https://app.example.com';
    const keys = [{ ...(await newSigningKey()), generation: 1, signsFrom: 0 }];
    const signer = await createAssertionSigner({ issuer: `${origin}/auth`, audience: origin, keys });
    const jwksServer = createServer((_req, res) => res.end(JSON.stringify(signer.jwks())));
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    const jwks = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/auth/.well-known/jwks.json`;
    try {
      const jwt = await signer.sign({
        sub: 'u-1',
        email: 'a@example.com',
        name: 'A',
        provider: 'password',
        role: 'member',
        groups: [],
        amr: ['pwd'],
      });
      const headers = {
        'x-forwarded-assertion': jwt,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'app.example.com',
      };
      const source = { jwks, origin };
      const good = await checkAssertion(headers, source, '/auth');
      assert.ok(good?.ok && good.sub === 'u-1', JSON.stringify(good));
      const forged = { ...headers, 'x-forwarded-assertion': jwt.slice(0, -4) + 'AAAA' };
      const tampered = await checkAssertion(forged, source, '/auth');
      assert.equal(tampered?.ok, false);
      // Regression: the demo took the issuer from X-Forwarded-Host, so at http://localhost:4180 (Gatehouse
      // listening as 127.0.0.1) it said "did not verify"; the host a request names changes nothing now.
      const local = { ...headers, 'x-forwarded-proto': 'http', 'x-forwarded-host': 'localhost:4180' };
      const reachedAs = await checkAssertion(local, source, '/auth');
      assert.ok(reachedAs?.ok, JSON.stringify(reachedAs));
      const otherIssuer = await checkAssertion(headers, { jwks, origin: 'https://evil.example' }, '/auth');
      assert.equal(otherIssuer?.ok, false, 'bound to the configured issuer and audience');
      assert.equal(await checkAssertion({}, source, '/auth'), null, 'no assertion, nothing to say');
    } finally {
      jwksServer.close();
    }
  });
});

describe('gatehouse serve --demo', () => {
  // Regression: opened as http://localhost:4180 while Gatehouse listens as 127.0.0.1, the page said
  // "X-Forwarded-Assertion did not verify" (it took the issuer from X-Forwarded-Host).
  it('says the assertion verified when reached under another name than it listens as', async () => {
    const gh = await startTestGatehouse({ demo: true });
    try {
      const port = new URL(gh.url).port;
      const c = new TestClient(gh.url);
      assert.equal((await c.signUp(`demo${Date.now()}@example.com`, 'correct horse battery staple')).status, 303);
      const page = await c.get('/', { host: `localhost:${port}` });
      assert.equal(page.status, 200);
      assert.match(page.text, /X-Forwarded-Assertion verified/);
      assert.doesNotMatch(page.text, /did not verify/);
    } finally {
      await gh.stop();
    }
  });
});
