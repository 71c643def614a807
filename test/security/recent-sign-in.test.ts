// Changing how one signs in needs a recent sign-in (auth/recent-sign-in.ts): a stolen session cookie
// must not plant its own passkey (and keep the account after the session ends), remove the owner's, or
// put an authenticator app of its own in front of the owner. Over real HTTP with a software
// authenticator and a clock the test moves: fresh, it works; eleven minutes on, every way in refuses
// and nothing changes; "Sign in again" signs out and comes back, where it works again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../src/exec-app.js';
import { withGatehouse } from '../support/gatehouse.js';
import { TestClient, type Reply } from '../support/client.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

const port = await freePort();
const ORIGIN = `http://localhost:${port}`;
const clock = { t: Date.now() };
const { gh } = withGatehouse({
  port,
  publicUrl: new URL(ORIGIN),
  allowedHosts: [`127.0.0.1:${port}`],
  now: () => clock.t,
});
const PASSWORD = 'a long enough password';

class Browser extends TestClient {
  readonly authenticator = new SoftAuthenticator(ORIGIN);
  constructor() {
    super(gh.url, ORIGIN);
  }
  json(path: string, body: unknown, csrf: string): Promise<Reply> {
    return this.send('POST', path, {
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        origin: ORIGIN,
        'sec-fetch-site': 'same-origin',
        'x-csrf-token': csrf,
      },
      body: JSON.stringify(body),
    });
  }
  async addPasskey(name: string): Promise<Reply> {
    const csrf = await this.csrf('/auth/account/passkeys');
    const options = await this.json('/auth/account/passkeys/options', {}, csrf);
    if (options.status !== 200) return options;
    return this.json(
      '/auth/account/passkeys/verify',
      { name, response: this.authenticator.register(JSON.parse(options.text)) },
      csrf,
    );
  }
}

describe('changes to how one signs in need a recent sign-in', () => {
  it('adds while fresh; eleven minutes on, adding and removing are refused and nothing changes', async () => {
    const b = new Browser();
    assert.equal((await b.signUp('reauth@example.com', PASSWORD)).status, 303);
    const user = (await gh.store.findUserByEmail('reauth@example.com'))!;
    const fresh = await b.get('/auth/account/passkeys');
    assert.match(fresh.text, /data-passkey="register"/);
    assert.doesNotMatch(fresh.text, /Sign in again/);
    assert.equal((await b.addPasskey('Laptop')).status, 200);
    const [key] = await gh.store.listPasskeys(user.id);
    assert.ok(key);

    clock.t += 11 * 60_000;
    const stale = await b.get('/auth/account/passkeys');
    assert.equal(stale.status, 200, 'the list still shows');
    assert.match(stale.text, /Laptop/);
    assert.match(stale.text, /Sign in again/);
    assert.doesNotMatch(stale.text, /data-passkey="register"/);
    assert.doesNotMatch(stale.text, /passkeys\/remove\?id=/);

    const csrf = await b.csrf('/auth/account/passkeys');
    const options = await b.json('/auth/account/passkeys/options', {}, csrf);
    assert.equal(options.status, 403);
    assert.equal(JSON.parse(options.text).error, 'reauth');
    // A challenge obtained earlier does not help either: verify checks too.
    const verify = await b.json('/auth/account/passkeys/verify', { name: 'Planted', response: {} }, csrf);
    assert.equal(verify.status, 403);
    assert.equal((await b.get(`/auth/account/passkeys/remove?id=${encodeURIComponent(key.id)}`)).status, 403);
    const removed = await b.post(`/auth/account/passkeys/remove?id=${encodeURIComponent(key.id)}`, {
      csrf,
      id: key.id,
    });
    assert.equal(removed.status, 403);
    assert.doesNotMatch(stale.text, /passkeys\/rename/, 'no rename form either');
    const renamed = await b.post('/auth/account/passkeys/rename', { csrf, id: key.id, name: 'Old phone, remove me' });
    assert.equal(renamed.status, 403);
    assert.deepEqual(
      (await gh.store.listPasskeys(user.id)).map((k) => k.name),
      ['Laptop'],
      'nothing added, renamed or removed',
    );
  });

  it('"Sign in again" signs out and comes back to the passkeys page, where changes work again', async () => {
    const b = new Browser();
    assert.equal((await b.signUp('again@example.com', PASSWORD)).status, 303);
    clock.t += 11 * 60_000;
    const page = await b.get('/auth/account/passkeys');
    const out = await b.post('/auth/sign-out', {
      csrf: /name="csrf" value="([^"]+)"/.exec(page.text)![1]!,
      return_to: '/auth/account/passkeys',
    });
    assert.equal(out.status, 303);
    assert.equal(out.headers.location, '/auth/sign-in?signed_out=1&return_to=%2Fauth%2Faccount%2Fpasskeys');
    const back = await b.signIn('again@example.com', PASSWORD, { return_to: '/auth/account/passkeys' });
    assert.equal(back.status, 303);
    assert.equal(back.headers.location, '/auth/account/passkeys');
    assert.equal((await b.addPasskey('Phone')).status, 200);
  });

  it('never sends "Sign in again" anywhere but this site', async () => {
    const b = new Browser();
    assert.equal((await b.signUp('elsewhere@example.com', PASSWORD)).status, 303);
    const page = await b.get('/auth/account');
    const out = await b.post('/auth/sign-out', {
      csrf: /name="csrf" value="([^"]+)"/.exec(page.text)![1]!,
      return_to: '//evil.example/x',
    });
    assert.equal(out.headers.location, '/auth/sign-in?signed_out=1');
  });

  it('an authenticator app is set up only by a recent sign-in: no secret is shown to an older session, and its POST is refused', async () => {
    const b = new Browser();
    assert.equal((await b.signUp('totp-late@example.com', PASSWORD)).status, 303);
    const user = (await gh.store.findUserByEmail('totp-late@example.com'))!;
    const fresh = await b.get('/auth/account/totp');
    assert.match(fresh.text, /otpauth:\/\//, 'fresh: the secret and its QR code');
    clock.t += 11 * 60_000;
    const stale = await b.get('/auth/account/totp');
    assert.equal(stale.status, 200);
    assert.doesNotMatch(stale.text, /otpauth:\/\/|name="code"/, 'no secret for an older session');
    assert.match(stale.text, /Sign in again/);
    assert.match(stale.text, /name="return_to" value="\/auth\/account\/totp"/);
    const post = await b.post('/auth/account/totp', {
      csrf: /name="csrf" value="([^"]+)"/.exec(stale.text)![1]!,
      code: '123456',
    });
    assert.equal(post.status, 403);
    assert.equal((await gh.store.findTotp(user.id))?.confirmed ?? false, false, 'no factor turned on');
  });

  it('a personal token is made or regenerated only by a recent sign-in; disabling one always works', async () => {
    const b = new Browser();
    assert.equal((await b.signUp('tokens-late@example.com', PASSWORD)).status, 303);
    const user = (await gh.store.findUserByEmail('tokens-late@example.com'))!;
    const made = await b.post('/auth/account/tokens', {
      csrf: await b.csrf('/auth/account/tokens'),
      name: 'backup script',
      expires: '30d',
    });
    assert.equal(made.status, 200);
    assert.match(made.text, /ghk_/, 'fresh: the new secret is shown');
    const [first] = await gh.store.listApiKeys(user.id);
    assert.ok(first);

    clock.t += 11 * 60_000;
    const page = await b.get('/auth/account/tokens');
    assert.match(page.text, /Sign in again/);
    assert.doesNotMatch(page.text, /Generate token/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const refused = await b.post('/auth/account/tokens', { csrf, name: 'planted', expires: '30d' });
    assert.equal(refused.status, 403);
    assert.doesNotMatch(refused.text, /ghk_/);
    assert.equal((await b.get(`/auth/account/tokens/${first.id}/regenerate`)).status, 403);
    const regenerated = await b.post(`/auth/account/tokens/${first.id}/regenerate`, { csrf });
    assert.equal(regenerated.status, 403);
    assert.deepEqual(
      (await gh.store.listApiKeys(user.id)).map((k) => [k.id, k.revoked]),
      [[first.id, false]],
      'nothing made, nothing regenerated',
    );
    const disabled = await b.post(`/auth/account/tokens/${first.id}/disable`, { csrf });
    assert.equal(disabled.status, 200);
    assert.equal((await gh.store.listApiKeys(user.id))[0]!.revoked, true);
  });

  it('a session paired from another device is not a recent sign-in: a stolen cookie cannot pair its way in', async () => {
    const laptop = new Browser();
    assert.equal((await laptop.signUp('paired@example.com', PASSWORD)).status, 303);
    const asked = await laptop.post('/auth/account/pair', { csrf: await laptop.csrf('/auth/account') });
    const code = /class="pair-code"[^>]*>([A-Z0-9]{6})</.exec(asked.text)![1]!;
    const phone = new Browser();
    const form = await phone.get(`/auth/pair?code=${code}`);
    assert.equal(
      (await phone.post('/auth/pair', { code, csrf: /name="csrf" value="([^"]+)"/.exec(form.text)![1]! })).status,
      303,
    );
    const options = await phone.json('/auth/account/passkeys/options', {}, await phone.csrf('/auth/account/passkeys'));
    assert.equal(options.status, 403, 'the paired phone must sign in itself first');
    assert.equal((await laptop.addPasskey('Laptop')).status, 200, 'the device that signed in may');
  });
});
