// Passkeys over real HTTP against an in-process Gatehouse whose public URL is http://localhost:PORT,
// with a software authenticator that makes real keys and signatures (test/support/soft-authenticator.ts)
// and can be told to lie. The options follow architecture.md#mfa (discoverable, user verification preferred);
// a challenge works once, only in the browser that asked for it; another origin, another RP ID,
// another user's passkey, a frozen counter and a removed passkey are refused, and the app saw nothing.
// The same flows in a real Chromium: test/e2e/passkeys.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../src/exec-app.js';
import { GENEROUS_LIMITS, startTestGatehouse, withGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient, type Reply } from '../support/client.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { authenticationOptions, verifyPasskeyForUser } from '../../src/auth/webauthn.js';
import type { AuthContext, AuthServices } from '../../src/auth/context.js';
import type { User } from '../../src/store/types.js';
import { createLockout } from '../../src/security/lockout.js';
import { cookieNames } from '../../src/session/cookies.js';

const port = await freePort();
const ORIGIN = `http://localhost:${port}`;
const { gh, upstream } = withGatehouse({
  port,
  publicUrl: new URL(ORIGIN),
  allowedHosts: [`127.0.0.1:${port}`],
  upstream: true,
  lockout: { maxFailures: 3, baseLockMs: 60_000, maxLockMs: 60_000, memoryMs: 3_600_000 },
});

/** A browser at the public URL: talks to 127.0.0.1, says Origin http://localhost:PORT. */
class Browser extends TestClient {
  readonly authenticator = new SoftAuthenticator(ORIGIN);
  constructor() {
    super(gh.url, ORIGIN);
  }
  json(path: string, body: unknown, csrf: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send('POST', path, {
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        origin: ORIGIN,
        'sec-fetch-site': 'same-origin',
        'x-csrf-token': csrf,
        ...headers,
      },
      body: JSON.stringify(body),
    });
  }
  /** Adds a passkey through the account page, as passkeys.js does. */
  async addPasskey(name: string, tamper = {}): Promise<Reply> {
    const csrf = await this.csrf('/auth/account/passkeys');
    const options = await this.json('/auth/account/passkeys/options', {}, csrf);
    assert.equal(options.status, 200, options.text);
    return this.json(
      '/auth/account/passkeys/verify',
      { name, response: this.authenticator.register(JSON.parse(options.text), tamper) },
      csrf,
    );
  }
  /** Starts a passkey sign-in from the sign-in page; returns the options and the page's token. */
  async beginSignIn(): Promise<{
    options: { challenge: string; rpId: string; allowCredentials?: Array<{ id: string }>; userVerification: string };
    csrf: string;
  }> {
    const csrf = await this.csrf('/auth/sign-in');
    const r = await this.json('/auth/passkeys/sign-in/options', {}, csrf);
    assert.equal(r.status, 200, r.text);
    return { options: JSON.parse(r.text), csrf };
  }
  async signInWithPasskey(tamper = {}, returnTo = '/'): Promise<Reply> {
    const { options, csrf } = await this.beginSignIn();
    return this.json(
      '/auth/passkeys/sign-in/verify',
      { response: this.authenticator.authenticate(options, tamper), return_to: returnTo },
      csrf,
    );
  }
}

let seq = 0;
async function member(): Promise<{ b: Browser; email: string; user: User }> {
  const b = new Browser();
  const email = `pk${++seq}-${Date.now()}@example.com`;
  const r = await b.signUp(email, 'a long enough password');
  assert.equal(r.status, 303);
  return { b, email, user: (await gh.store.findUserByEmail(email))! };
}

/** The same authenticator in a browser with no session (signed out). */
function signedOut(from: Browser): Browser {
  const b = new Browser();
  b.authenticator.credentials.push(...from.authenticator.credentials);
  return b;
}

const audits = (event: string) =>
  gh.auditLines
    .map((l) => JSON.parse(l) as { event: string; userId: string | null; detail?: string })
    .filter((l) => l.event === event);

describe('passkeys over HTTP', () => {
  it('offers discoverable registration for the public URL, and stores the passkey under its name', async () => {
    const { b, email, user } = await member();
    const csrf = await b.csrf('/auth/account/passkeys');
    const r = await b.json('/auth/account/passkeys/options', {}, csrf);
    const options = JSON.parse(r.text);
    assert.equal(options.rp.id, 'localhost', 'the RP ID is the public URL hostname');
    assert.equal(options.rp.name, 'Test App');
    assert.equal(options.user.name, email);
    assert.equal(
      Buffer.from(options.user.id, 'base64url').toString(),
      user.id,
      'the user handle is the opaque user id',
    );
    assert.equal(options.authenticatorSelection.residentKey, 'required');
    assert.equal(options.authenticatorSelection.userVerification, 'required');
    assert.equal(options.attestation, 'none');
    assert.deepEqual(options.excludeCredentials, []);
    const cookie = ([] as string[])
      .concat(r.headers['set-cookie'] ?? [])
      .find((l) => l.startsWith('gatehouse_webauthn='));
    assert.match(cookie ?? '', /HttpOnly; SameSite=Lax; Max-Age=300/);

    const done = await b.json(
      '/auth/account/passkeys/verify',
      { name: '  Work <laptop>\u0007 ', response: b.authenticator.register(options) },
      csrf,
    );
    assert.equal(done.status, 200, done.text);
    assert.equal(JSON.parse(done.text).redirect, '/auth/account/passkeys?done=added');
    const [k] = await gh.store.listPasskeys(user.id);
    assert.equal(k!.name, 'Work <laptop>');
    assert.deepEqual(k!.transports, ['internal']);
    const page = await b.get('/auth/account/passkeys?done=added');
    assert.match(page.text, /Work &lt;laptop&gt;/);
    assert.match(page.text, /Passkey added/);
    assert.match(page.text, /never used/);
    assert.equal(audits('passkey.added').filter((a) => a.userId === user.id).length, 1);

    // The next ceremony excludes the authenticator that already has one.
    const again = JSON.parse((await b.json('/auth/account/passkeys/options', {}, csrf)).text);
    assert.deepEqual(
      again.excludeCredentials.map((c: { id: string }) => c.id),
      [k!.id],
    );
  });

  it('signs in with the passkey alone: no email, no password; the app sees provider "passkey"', async () => {
    const { b, user } = await member();
    assert.equal((await b.addPasskey('Phone')).status, 200);
    const visitor = signedOut(b);
    const page = await visitor.get('/auth/sign-in?return_to=%2Freports');
    assert.match(page.text, /Sign in with a passkey/);
    assert.match(page.text, /<script src="\/auth\/assets\/webauthn\.js" defer><\/script>/);
    const { options, csrf } = await visitor.beginSignIn();
    assert.equal(options.rpId, 'localhost');
    assert.equal(options.userVerification, 'required');
    assert.ok(!options.allowCredentials?.length, 'discoverable: no list of credentials, so no email is asked');
    const r = await visitor.json(
      '/auth/passkeys/sign-in/verify',
      { response: visitor.authenticator.authenticate(options), return_to: '/reports' },
      csrf,
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).redirect, '/reports');
    upstream.clear();
    assert.equal((await visitor.get('/reports')).status, 200);
    assert.equal(upstream.requests[0]!.headers['x-forwarded-user'], user.id);
    assert.equal(upstream.requests[0]!.headers['x-forwarded-provider'], 'passkey');
    assert.equal(JSON.parse((await visitor.get('/auth/me')).text).provider, 'passkey');
    const [k] = await gh.store.listPasskeys(user.id);
    assert.ok(k!.lastUsedAt, 'last use recorded');
    assert.equal(k!.counter, 1);
    assert.ok(audits('passkey.used').some((a) => a.userId === user.id));
    // An open redirect is not: return_to is held to our own paths.
    const again = await visitor.json('/auth/passkeys/sign-in/verify', {}, csrf);
    assert.equal(again.status, 400);
    const elsewhere = await signedOut(b).signInWithPasskey({}, 'https://evil.example/');
    assert.equal(JSON.parse(elsewhere.text).redirect, '/');
  });

  it('uses a challenge once, only in the browser that asked for it', async () => {
    const { b } = await member();
    await b.addPasskey('Laptop');
    const visitor = signedOut(b);
    const { options, csrf } = await visitor.beginSignIn();
    const response = visitor.authenticator.authenticate(options);
    const challengeCookie = visitor.cookies.get('gatehouse_webauthn')!;

    // Another browser (its own cookies and token) replaying the signed response: its challenge is not this one.
    const thief = new Browser();
    const thiefCsrf = await thief.csrf('/auth/sign-in');
    const stolen = await thief.json('/auth/passkeys/sign-in/verify', { response }, thiefCsrf);
    assert.equal(stolen.status, 400);
    assert.equal(JSON.parse(stolen.text).error, 'challenge');

    const first = await visitor.json('/auth/passkeys/sign-in/verify', { response }, csrf);
    assert.equal(first.status, 200, first.text);
    // The cookie is cleared, and even sent again by hand the challenge is gone.
    assert.equal(visitor.cookies.get('gatehouse_webauthn'), undefined);
    const replay = await visitor.json('/auth/passkeys/sign-in/verify', { response }, csrf, {
      cookie: `${visitor.cookieHeader()}; gatehouse_webauthn=${challengeCookie}`,
    });
    assert.equal(replay.status, 400);
    assert.equal(JSON.parse(replay.text).error, 'challenge');

    // A registration challenge does not sign anyone in, and a sign-in challenge registers nothing.
    const regCsrf = await b.csrf('/auth/account/passkeys');
    const regOptions = JSON.parse((await b.json('/auth/account/passkeys/options', {}, regCsrf)).text);
    const cross = await b.json(
      '/auth/passkeys/sign-in/verify',
      { response: b.authenticator.authenticate(regOptions) },
      regCsrf,
    );
    assert.equal(cross.status, 400);
  });

  it('refuses a passkey signed for another origin or another RP ID, and counts it towards lockout', async () => {
    const { b, user } = await member();
    await b.addPasskey('Laptop');
    const visitor = signedOut(b);
    upstream.clear();
    for (const tamper of [
      { origin: `http://evil.localhost:${port}` },
      { origin: 'https://localhost' },
      { rpId: 'evil.example' },
    ]) {
      const r = await visitor.signInWithPasskey(tamper);
      assert.equal(r.status, 401, JSON.stringify(tamper));
      assert.equal(JSON.parse(r.text).error, 'refused');
    }
    assert.equal(visitor.cookies.get('gatehouse_session'), undefined);
    // Three failures (this file's lockout policy): now even the right passkey is refused for a while.
    const locked = await visitor.signInWithPasskey();
    assert.equal(locked.status, 401);
    assert.equal(JSON.parse(locked.text).error, 'locked');
    assert.match(JSON.parse(locked.text).message, /try again in 1 minute/);
    assert.ok(audits('passkey.refused').filter((a) => a.userId === user.id).length >= 4);
    // Registration checks the same: a credential made for another origin is not stored.
    const other = await member();
    const bad = await other.b.addPasskey('Evil', { origin: 'https://evil.example' });
    assert.equal(bad.status, 400);
    const badRp = await other.b.addPasskey('Evil', { rpId: 'evil.example' });
    assert.equal(badRp.status, 400);
    assert.deepEqual(await gh.store.listPasskeys(other.user.id), []);
    assert.equal(upstream.requests.length, 0, 'the app saw nothing');
  });

  it("refuses another user's passkey: a forged user handle, and rename or removal by someone else", async () => {
    const alice = await member();
    const bob = await member();
    await alice.b.addPasskey('Alice key');
    await bob.b.addPasskey('Bob key');
    // Alice's authenticator claims to be Bob: the signature is Alice's, the handle Bob's.
    const forged = await signedOut(alice.b).signInWithPasskey({
      userHandle: Buffer.from(bob.user.id).toString('base64url'),
    });
    assert.equal(forged.status, 401);
    // Bob cannot rename, see or remove Alice's passkey.
    const [aliceKey] = await gh.store.listPasskeys(alice.user.id);
    const csrf = await bob.b.csrf('/auth/account/passkeys');
    assert.equal(
      (await bob.b.post('/auth/account/passkeys/rename', { id: aliceKey!.id, name: 'mine now', csrf })).status,
      404,
    );
    assert.equal((await bob.b.get(`/auth/account/passkeys/remove?id=${encodeURIComponent(aliceKey!.id)}`)).status, 404);
    assert.equal(
      (await bob.b.post(`/auth/account/passkeys/remove?id=${encodeURIComponent(aliceKey!.id)}`, { csrf })).status,
      404,
    );
    assert.equal((await gh.store.findPasskey(aliceKey!.id))!.name, 'Alice key');
  });

  it('refuses a counter that did not move forward (a cloned authenticator)', async () => {
    const { b } = await member();
    await b.addPasskey('Key');
    const visitor = signedOut(b);
    assert.equal((await visitor.signInWithPasskey()).status, 200);
    const clone = await signedOut(b).signInWithPasskey({ freezeCounter: true });
    assert.equal(clone.status, 401);
  });

  it('renames, and removes after a confirmation; a removed passkey no longer signs in', async () => {
    const { b, user } = await member();
    await b.addPasskey('Old name');
    const [k] = await gh.store.listPasskeys(user.id);
    const csrf = csrfFrom((await b.get('/auth/account/passkeys')).text);
    const renamed = await b.post('/auth/account/passkeys/rename', { id: k!.id, name: 'New name', csrf });
    assert.equal(renamed.status, 303);
    assert.equal((await gh.store.findPasskey(k!.id))!.name, 'New name');
    assert.equal((await b.post('/auth/account/passkeys/rename', { id: k!.id, name: '   ', csrf })).status, 400);

    const confirm = await b.get(`/auth/account/passkeys/remove?id=${encodeURIComponent(k!.id)}`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Remove this passkey\?/);
    assert.match(confirm.text, /New name/);
    // Without the form's token, nothing happens.
    assert.equal(
      (await b.post(`/auth/account/passkeys/remove?id=${encodeURIComponent(k!.id)}`, { csrf: 'forged' })).status,
      403,
    );
    assert.ok(await gh.store.findPasskey(k!.id));
    const removed = await b.post(`/auth/account/passkeys/remove?id=${encodeURIComponent(k!.id)}`, {
      csrf: csrfFrom(confirm.text),
    });
    assert.equal(removed.status, 303);
    assert.equal(removed.headers.location, '/auth/account/passkeys?done=removed');
    assert.deepEqual(await gh.store.listPasskeys(user.id), []);
    assert.ok(audits('passkey.removed').some((a) => a.userId === user.id));

    const r = await signedOut(b).signInWithPasskey();
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.text).error, 'unknown_passkey');
  });

  it('guards the JSON endpoints: signed in, same origin, JSON, the page token', async () => {
    const { b } = await member();
    const csrf = await b.csrf('/auth/account/passkeys');
    assert.equal((await new Browser().json('/auth/account/passkeys/options', {}, csrf)).status, 401);
    assert.equal((await b.json('/auth/account/passkeys/options', {}, 'forged')).status, 403);
    assert.equal(
      (
        await b.json('/auth/account/passkeys/options', {}, csrf, {
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
        })
      ).status,
      403,
    );
    assert.equal(
      (await b.post('/auth/account/passkeys/options', { csrf })).status,
      415,
      'a plain cross-site form cannot reach it',
    );
    const garbage = await b.send('POST', '/auth/account/passkeys/verify', {
      headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-csrf-token': csrf },
      body: '{not json',
    });
    assert.equal(garbage.status, 400);
    assert.equal(JSON.parse(garbage.text).error, 'challenge');
    const visitor = new Browser();
    const signInCsrf = await visitor.csrf('/auth/sign-in');
    assert.equal(
      (await visitor.json('/auth/passkeys/sign-in/options', {}, signInCsrf, { origin: 'null' })).status,
      403,
    );
    for (const body of [
      {},
      { response: 'x' },
      { response: { id: '../../etc', rawId: '../../etc', type: 'public-key', response: {} } },
    ]) {
      await visitor.beginSignIn();
      const r = await visitor.json('/auth/passkeys/sign-in/verify', body, signInCsrf);
      assert.equal(r.status, 401, JSON.stringify(body));
      assert.doesNotMatch(r.text, /at \w+ \(/, 'no stack trace');
    }
  });

  it('serves the browser scripts under the CSP', async () => {
    const lib = await new Browser().get('/auth/assets/webauthn.js');
    assert.equal(lib.status, 200);
    assert.match(String(lib.headers['content-type']), /^text\/javascript/);
    assert.match(lib.text, /SimpleWebAuthnBrowser/);
    const ours = await new Browser().get('/auth/assets/passkeys.js');
    assert.equal(ours.status, 200);
    assert.match(ours.text, /startAuthentication/);
  });
});

describe('passkeys for the two-step sign-in (verifyPasskeyForUser)', () => {
  /** A context with what the ceremony functions read: the services, the cookie, the origin. */
  function contextFor(deps: AuthServices, cookie: string): { c: AuthContext; setCookies: string[] } {
    const setCookies: string[] = [];
    const vars: Record<string, unknown> = {
      headers: { cookie },
      ourOrigin: ORIGIN,
      session: null,
      userAgent: null,
      ip: '127.0.0.1',
    };
    const c = {
      var: { deps },
      get: (k: string) => vars[k],
      header: (k: string, v: string) => k === 'set-cookie' && setCookies.push(v),
    } as unknown as AuthContext;
    return { c, setCookies };
  }

  it("accepts only the user's own passkey, against a challenge issued to that user", async () => {
    const alice = await member();
    const bob = await member();
    await alice.b.addPasskey('Alice key');
    await bob.b.addPasskey('Bob key');
    // What the ceremonies use, built as services.ts builds it, over this Gatehouse's store.
    const real = {
      store: gh.store,
      lockout: createLockout(gh.store),
      now: Date.now,
      publicOrigin: ORIGIN,
      cookies: cookieNames(false),
      appName: 'Test App',
    } as unknown as AuthServices;

    const begin = async (user: User) => {
      const first = contextFor(real, '');
      const options = await authenticationOptions(first.c, user);
      const challenge = /gatehouse_webauthn=([^;]+)/.exec(first.setCookies[0]!)![1]!;
      return { options, cookie: `gatehouse_webauthn=${challenge}` };
    };

    const mine = await begin(alice.user);
    assert.equal(mine.options.allowCredentials?.length, 1, "only Alice's passkeys are offered");
    const ok = await verifyPasskeyForUser(
      contextFor(real, mine.cookie).c,
      alice.user,
      alice.b.authenticator.authenticate(mine.options),
    );
    assert.equal(ok.ok, true);

    // Bob's passkey (a valid signature!) against Alice's second step.
    const theirs = await begin(alice.user);
    const wrong = await verifyPasskeyForUser(
      contextFor(real, theirs.cookie).c,
      alice.user,
      bob.b.authenticator.authenticate({ ...theirs.options, allowCredentials: [] }),
    );
    assert.deepEqual([wrong.ok, !wrong.ok && wrong.reason], [false, 'other-user']);

    // A challenge issued to Bob does not finish Alice's step, and a discoverable one neither.
    const bobs = await begin(bob.user);
    const swapped = await verifyPasskeyForUser(
      contextFor(real, bobs.cookie).c,
      alice.user,
      alice.b.authenticator.authenticate({ ...bobs.options, allowCredentials: [] }),
    );
    assert.deepEqual([swapped.ok, !swapped.ok && swapped.reason], [false, 'challenge']);
  });
});

describe('passkey limits and expiry (a clock the test moves)', () => {
  let g: TestGatehouse;
  let origin: string;
  let clock = Date.now();
  before(async () => {
    const p = await freePort();
    origin = `http://localhost:${p}`;
    g = await startTestGatehouse({
      port: p,
      publicUrl: new URL(origin),
      allowedHosts: [`127.0.0.1:${p}`],
      now: () => clock,
      limits: { ...GENEROUS_LIMITS, perIp: { ...GENEROUS_LIMITS.perIp, passkey: { limit: 3, windowMs: 60_000 } } },
    });
  });
  after(() => g?.stop());

  const json = (c: TestClient, path: string, body: unknown, csrf: string) =>
    c.send('POST', path, {
      headers: { 'content-type': 'application/json', origin, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    });

  it('a challenge dies after 5 minutes; beginning ceremonies is rate-limited per IP', async () => {
    const b = new TestClient(g.url, origin);
    await b.signUp('clock@example.com', 'a long enough password');
    const authenticator = new SoftAuthenticator(origin);
    const csrf = await b.csrf('/auth/account/passkeys');
    const options = JSON.parse((await json(b, '/auth/account/passkeys/options', {}, csrf)).text);
    clock += 5 * 60_000 + 1;
    const late = await json(
      b,
      '/auth/account/passkeys/verify',
      { name: 'Late', response: authenticator.register(options) },
      csrf,
    );
    assert.equal(late.status, 400);
    assert.equal(JSON.parse(late.text).error, 'challenge');

    const visitor = new TestClient(g.url, origin);
    const signInCsrf = await visitor.csrf('/auth/sign-in');
    for (let i = 0; i < 3; i++)
      assert.equal((await json(visitor, '/auth/passkeys/sign-in/options', {}, signInCsrf)).status, 200);
    const over = await json(visitor, '/auth/passkeys/sign-in/options', {}, signInCsrf);
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers['retry-after']) > 0);
    assert.equal(JSON.parse(over.text).error, 'rate_limited');
  });
});

describe('passkeys at an IP address', () => {
  let ip: TestGatehouse;
  before(async () => {
    ip = await startTestGatehouse(); // no public URL: the origin is the one asked, http://127.0.0.1:PORT
  });
  after(() => ip?.stop());

  it('are not offered, and the account page says why', async () => {
    const b = new TestClient(ip.url);
    assert.doesNotMatch((await b.get('/auth/sign-in')).text, /passkey/i);
    await b.signUp('ip@example.com', 'a long enough password');
    const page = await b.get('/auth/account/passkeys');
    assert.equal(page.status, 200);
    assert.match(page.text, /Passkeys need a domain name: this site is reached at the IP address 127\.0\.0\.1\./);
    const r = await b.send('POST', '/auth/account/passkeys/options', {
      headers: { 'content-type': 'application/json', origin: ip.url, 'x-csrf-token': await b.csrf('/auth/account') },
      body: '{}',
    });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).error, 'unavailable');
  });
});

describe('a passkey as the second step after a password', () => {
  it("makes no session after the password; the pending user's passkey finishes it, once, and only in this browser", async () => {
    const { b, email } = await member();
    assert.equal((await b.addPasskey('Laptop')).status, 200);
    const before = upstream.requests.length;

    // A new browser with the same authenticator: the right password now leads to the second step.
    const other = signedOut(b);
    const first = await other.signIn(email, 'a long enough password');
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/auth/sign-in/code');
    assert.equal((await other.get('/auth/me')).status, 401, 'no session before the second step');
    const page = await other.get('/auth/sign-in/code');
    assert.match(page.text, /data-passkey="sign-in"[^>]*data-options="\/auth\/sign-in\/code\/passkey\/options"/);
    const csrf = csrfFrom(page.text);

    // Another cookie jar cannot ask for (or finish) this pending step.
    const thief = signedOut(b);
    const stolen = await thief.json('/auth/sign-in/code/passkey/options', {}, await thief.csrf('/auth/sign-in'));
    assert.equal(stolen.status, 400);
    assert.equal(JSON.parse(stolen.text).error, 'expired');

    const options = JSON.parse((await other.json('/auth/sign-in/code/passkey/options', {}, csrf)).text);
    assert.deepEqual(
      options.allowCredentials.map((c: { id: string }) => c.id),
      b.authenticator.credentials.map((c) => Buffer.from(c.id).toString('base64url')),
      "only this user's passkeys are offered",
    );
    const response = other.authenticator.authenticate(options);
    const done = await other.json('/auth/sign-in/code/passkey/verify', { response }, csrf);
    assert.equal(done.status, 200, done.text);
    assert.equal(JSON.parse(done.text).redirect, '/');
    const me = JSON.parse((await other.get('/auth/me')).text) as { provider: string; amr: string[] };
    assert.equal(me.provider, 'password');
    assert.deepEqual(me.amr, ['pwd', 'hwk']);

    // The step is used up: the same answer again is refused.
    const again = await other.json('/auth/sign-in/code/passkey/verify', { response }, csrf);
    assert.equal(again.status, 400);
    assert.equal(upstream.requests.length, before, 'the app saw nothing of any of it');
  });

  it('a passkey sign-in on its own counts as a second factor (amr hwk)', async () => {
    const { b } = await member();
    await b.addPasskey('Phone');
    const alone = signedOut(b);
    assert.equal((await alone.signInWithPasskey()).status, 200);
    const me = JSON.parse((await alone.get('/auth/me')).text) as { provider: string; amr: string[] };
    assert.equal(me.provider, 'passkey');
    assert.deepEqual(me.amr, ['hwk']);
  });

  it('an operator reset removes passkeys with the other factors', async () => {
    const { b, user } = await member();
    await b.addPasskey('Old phone');
    assert.equal((await gh.store.listPasskeys(user.id)).length, 1);
    const { resetFactors } = await import('../../src/mfa/factors.js');
    assert.equal(await resetFactors(gh.store, user.id), true);
    assert.equal((await gh.store.listPasskeys(user.id)).length, 0);
  });
});

// Issue #23 item 8: a presence-only assertion (UP without UV: a key touched, nobody verified) signed in on
// its own with amr ["hwk"], which passed --mfa rules and GATEHOUSE_MFA as two factors.
describe('a passkey without user verification (presence only)', () => {
  it('is refused for a sign-in on its own: no session, nothing written, and the app sees nothing', async () => {
    const { b, user } = await member();
    assert.equal((await b.addPasskey('Key')).status, 200);
    const [stored] = await gh.store.listPasskeys(user.id);
    const before = upstream.requests.length;
    const alone = signedOut(b);
    const { options, csrf } = await alone.beginSignIn();
    assert.equal(options.userVerification, 'required', 'the browser is asked to verify the person');
    const r = await alone.json(
      '/auth/passkeys/sign-in/verify',
      { response: alone.authenticator.authenticate(options, { presenceOnly: true }) },
      csrf,
    );
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.text).error, 'unverified');
    assert.equal((await alone.get('/auth/me')).status, 401, 'no session');
    assert.equal((await alone.get('/private', { accept: 'application/json' })).status, 401);
    assert.equal((await gh.store.findPasskey(stored!.id))!.lastUsedAt, null, 'the passkey was not recorded as used');
    assert.equal(upstream.requests.length, before, 'the app saw nothing');
    assert.ok(
      audits('passkey.refused').some((l) => l.userId === user.id && l.detail === 'unverified'),
      'audited',
    );
    // The same authenticator verifying the person signs in, and only then is it two factors.
    assert.equal((await alone.signInWithPasskey()).status, 200);
    assert.deepEqual(JSON.parse((await alone.get('/auth/me')).text).amr, ['hwk']);
  });

  it('is refused as the second step after a password: the step stays open for a verified passkey or a code', async () => {
    const { b, email } = await member();
    assert.equal((await b.addPasskey('Key')).status, 200);
    const other = signedOut(b);
    assert.equal((await other.signIn(email, 'a long enough password')).headers.location, '/auth/sign-in/code');
    const csrf = csrfFrom((await other.get('/auth/sign-in/code')).text);
    const ask = async () => JSON.parse((await other.json('/auth/sign-in/code/passkey/options', {}, csrf)).text);
    const options = await ask();
    assert.equal(options.userVerification, 'required');
    const weak = await other.json(
      '/auth/sign-in/code/passkey/verify',
      { response: other.authenticator.authenticate(options, { presenceOnly: true }) },
      csrf,
    );
    assert.equal(weak.status, 401);
    assert.match(JSON.parse(weak.text).message, /PIN/);
    assert.equal((await other.get('/auth/me')).status, 401, 'a password and a touched key made no session');
    const strong = await other.json(
      '/auth/sign-in/code/passkey/verify',
      { response: other.authenticator.authenticate(await ask()) },
      csrf,
    );
    assert.equal(strong.status, 200, strong.text);
    assert.deepEqual(JSON.parse((await other.get('/auth/me')).text).amr, ['pwd', 'hwk']);
  });

  it('cannot be added: a passkey that would not count anywhere is refused when it is made', async () => {
    const { b, user } = await member();
    const r = await b.addPasskey('Key without PIN', { presenceOnly: true });
    assert.equal(r.status, 400);
    assert.deepEqual(await gh.store.listPasskeys(user.id), []);
  });
});
