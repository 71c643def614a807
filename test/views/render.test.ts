// Every view rendered with hostile input: everything escaped, no script, no inline style or handlers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRenderer } from '../../src/render.js';
import { VIEWS_DIR } from '../../src/main.js';
import { identityOf, startDemoApp } from '../../src/demo/whoami.js';
import { request } from 'undici';

const EVIL = `"><script>alert(1)</script><img src=x onerror=alert(1)> ' Zoë 李`;
const r = createRenderer(VIEWS_DIR);
const base = { appName: EVIL, prefix: '/auth', title: EVIL };
const providers = [{ name: 'corp', label: EVIL, startUrl: `/auth/oauth/corp/start?return_to=${encodeURIComponent(EVIL)}` }];
const session = { id: EVIL, current: false, createdAt: '2026-01-01T00:00:00.000Z', lastSeenAt: '2026-01-01T00:00:00.000Z', ip: EVIL, userAgent: EVIL };

const views: Record<string, Record<string, unknown>> = {
  'sign-in': { csrf: EVIL, email: EVIL, error: EVIL, notice: EVIL, returnTo: EVIL, providers, signUpOpen: true, resetAvailable: true },
  'sign-up': { csrf: EVIL, name: EVIL, email: EVIL, errors: { name: EVIL, email: EVIL, password: EVIL, form: EVIL }, returnTo: EVIL, providers, setup: EVIL, isSetup: true },
  'sign-out': { csrf: EVIL, user: { email: EVIL, name: EVIL } },
  error: { status: 503, heading: EVIL, message: EVIL, retryAfter: 5 },
  message: { heading: EVIL, message: EVIL, link: { href: '/x', label: EVIL } },
  forgot: { csrf: EVIL, email: EVIL, error: EVIL },
  reset: { csrf: EVIL, token: EVIL, errors: { password: EVIL, form: EVIL } },
  account: { csrf: EVIL, user: { name: EVIL, email: EVIL, role: 'member', provider: 'password' }, sessions: [session, { ...session, current: true }], errors: { current_password: EVIL, password: EVIL }, notice: EVIL },
  admin: {
    csrf: EVIL, me: {}, total: 1, page: 0, pages: 2, notice: EVIL, settings: { signUp: 'open', mode: 'on' },
    users: [{ id: 'u1', email: EVIL, name: EVIL, role: 'member', disabled: false, emailVerified: true, createdAt: '2026-01-01T00:00:00.000Z', self: false }],
    keys: [{ id: 'k1', name: EVIL, owner: EVIL, role: 'member', revoked: false, expiresAt: null, lastUsedAt: null }],
  },
};

describe('views', () => {
  for (const [view, data] of Object.entries(views)) {
    it(`${view} escapes hostile input and has no script or inline style`, () => {
      const html = r.render(view, { ...base, ...data });
      assert.doesNotMatch(html, /<script/i);
      assert.doesNotMatch(html, /<img/i);
      // No inline style or event-handler attribute in any tag. Quoted attribute values are blanked first:
      // escaped hostile text inside value="…" is data, not markup.
      const markup = html.replace(/"[^"]*"/g, '""');
      assert.doesNotMatch(markup, /<[^>]*\sstyle=/i);
      assert.doesNotMatch(markup, /<[^>]*\son[a-z]+=/i);
      assert.match(html, /&lt;script&gt;/);
      assert.match(html, /<link rel="stylesheet" href="\/auth\/assets\/gatehouse.css">/);
      assert.match(html, /lang="en"/);
      assert.match(html, /name="viewport"/);
    });
  }

  it('labels every input and ties errors to their fields', () => {
    const html = r.render('sign-up', { ...base, ...views['sign-up'] });
    for (const id of ['name', 'email', 'password']) {
      assert.match(html, new RegExp(`<label for="${id}">`));
      assert.match(html, new RegExp(`id="${id}"[^>]*aria-invalid="true"`));
    }
    assert.match(html, /aria-describedby="email-error"/);
    assert.match(html, /id="email-error"/);
  });
});

describe('demo app', () => {
  it('shows the identity headers it received, decoded and escaped', async () => {
    const app = await startDemoApp();
    try {
      const res = await request(app.url + '/', { headers: { 'x-forwarded-email': 'a@example.com', 'x-forwarded-name': encodeURIComponent('<b>Zoë</b>') } });
      const html = await res.body.text();
      assert.match(html, /Signed in as a@example\.com/);
      assert.match(html, /&lt;b&gt;Zoë&lt;\/b&gt;/);
      assert.doesNotMatch(html, /<b>Zoë/);
      assert.match(html, /<form method="post" action="\/auth\/sign-out">/);
      const none = await (await request(app.url + '/')).body.text();
      assert.match(none, /No identity headers/);
      const json = (await (await request(app.url + '/api/whoami', { headers: { 'x-forwarded-user': 'u1' } })).body.json()) as Record<string, unknown>;
      assert.equal(json['x-forwarded-user'], 'u1');
    } finally {
      await app.close();
    }
  });

  it('never crashes on malformed percent-encoding', () => {
    assert.equal(identityOf({ 'x-forwarded-name': '%E0%A4%A' })['x-forwarded-name'], '%E0%A4%A');
  });
});
