// Browser handoff (architecture.md#devices): `gatehouse open` (the real CLI, writing to the store the running server
// reads) prints a one-time link; the page names the account, its button signs the browser in and opens
// the admin console. Works once, not after 60 s (injected clock), not for a disabled user; the link
// itself is never stored, and opening it (GET) does not spend it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempHome, withGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { sha256Hex } from '../../src/security/tokens.js';

let offset = 0;
const { gh } = withGatehouse({ upstream: true, now: () => Date.now() + offset });
const PASSWORD = 'a long enough password';

async function open(args: string[] = []): Promise<string> {
  const r = await runCli(['open', ...args], { GATEHOUSE_HOME: gh.home });
  assert.equal(r.code, 0, r.stderr);
  const token = /\/auth\/handoff\?token=([A-Za-z0-9_-]+)$/m.exec(r.stdout)?.[1];
  assert.ok(token, r.stdout);
  return token!;
}

/** Opens the link and presses its button, as a browser would. */
async function follow(c: TestClient, token: string) {
  const page = await c.get(`/auth/handoff?token=${token}`);
  if (page.status !== 200) return { page, post: null };
  return { page, post: await c.post('/auth/handoff', { token, csrf: csrfFrom(page.text) }) };
}

describe('gatehouse open', () => {
  it('signs the oldest admin into the admin console, once', async () => {
    const first = new TestClient(gh.url);
    assert.equal(
      (await first.signUp('root@example.com', PASSWORD, 'Root Admin', { setup: gh.setupToken! })).status,
      303,
    );
    const later = new TestClient(gh.url);
    await later.signUp('second@example.com', PASSWORD);
    const u = (await gh.store.findUserByEmail('second@example.com'))!;
    await gh.store.updateUser(u.id, { role: 'admin' }, new Date()); // a newer admin: not the default

    const token = await open();
    assert.equal(await gh.store.findToken(token, 'handoff', new Date()), null, 'the link itself is not stored');
    assert.ok(await gh.store.findToken(sha256Hex(token), 'handoff', new Date()), 'its hash is');
    const browser = new TestClient(gh.url);
    assert.equal((await browser.get(`/auth/handoff?token=${token}`)).status, 200);
    const { page, post } = await follow(browser, token);
    assert.equal(page.status, 200, 'looking twice does not spend it');
    assert.match(page.text, /root@example\.com/);
    assert.equal(post!.status, 303);
    assert.equal(post!.headers.location, '/auth/admin');
    const console = await browser.get('/auth/admin');
    assert.equal(console.status, 200);
    assert.match(console.text, /second@example\.com/);
    assert.equal(
      JSON.parse((await browser.get('/auth/me', { accept: 'application/json' })).text).email,
      'root@example.com',
    );

    const again = await follow(new TestClient(gh.url), token);
    assert.equal(again.page.status, 410, 'used up');
    const replay = new TestClient(gh.url);
    const csrf = await replay.csrf('/auth/sign-in');
    const r = await replay.post('/auth/handoff', { token, csrf });
    assert.equal(r.status, 410);
    assert.equal(replay.cookies.get('gatehouse_session'), undefined, 'no session');
    assert.ok(gh.auditLines.some((l) => l.includes('"handoff.used"')));
  });

  it('does not work after 60 seconds', async () => {
    const token = await open();
    const c = new TestClient(gh.url);
    const page = await c.get(`/auth/handoff?token=${token}`);
    assert.equal(page.status, 200);
    offset = 61_000;
    try {
      assert.equal((await c.get(`/auth/handoff?token=${token}`)).status, 410);
      const r = await c.post('/auth/handoff', { token, csrf: csrfFrom(page.text) });
      assert.equal(r.status, 410);
      assert.equal(c.cookies.get('gatehouse_session'), undefined);
    } finally {
      offset = 0;
    }
  });

  it('takes --user; a member lands on their account page; refused for a disabled user, at the CLI and at the door', async () => {
    const m = new TestClient(gh.url);
    await m.signUp('member-open@example.com', PASSWORD);
    const { post } = await follow(new TestClient(gh.url), await open(['--user', 'member-open@example.com']));
    assert.equal(post!.headers.location, '/auth/account');

    const token = await open(['--user', 'member-open@example.com']);
    const c = new TestClient(gh.url);
    const page = await c.get(`/auth/handoff?token=${token}`);
    const u = (await gh.store.findUserByEmail('member-open@example.com'))!;
    await gh.store.updateUser(u.id, { disabled: true }, new Date());
    const r = await c.post('/auth/handoff', { token, csrf: csrfFrom(page.text) });
    assert.equal(r.status, 410, 'disabled after the link was made');
    assert.equal(c.cookies.get('gatehouse_session'), undefined);
    const refused = await runCli(['open', '--user', 'member-open@example.com'], { GATEHOUSE_HOME: gh.home });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is disabled/);
    assert.equal((await runCli(['open', '--user', 'nobody@example.com'], { GATEHOUSE_HOME: gh.home })).code, 1);
  });

  it('says so when there is no admin yet, and a made-up link gets the same dead-link page', async () => {
    const fresh = tempHome();
    try {
      const r = await runCli(['open'], { GATEHOUSE_HOME: fresh.home });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /there is no admin yet/);
    } finally {
      fresh.cleanup();
    }
    assert.equal((await new TestClient(gh.url).get('/auth/handoff?token=madeup')).status, 410);
    assert.equal((await new TestClient(gh.url).get('/auth/handoff')).status, 410);
  });
});
