// What the app may trust, each finding of the outside review tried as an attack over real sockets;
// the recording upstream proves what the app received and what it never did.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient, csrfFrom } from '../support/client.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { rawRequest, statusOf } from '../support/raw.js';
import { emptyState, updateState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey } from '../../src/config/secrets.js';
import { sha256Hex } from '../../src/security/tokens.js';

const PASSWORD = 'correct horse battery staple';
const unique = (tag: string) => `${tag}${randomBytes(4).toString('hex')}@example.com`;

async function signedUp(gh: TestGatehouse, name = 'Ada Lovelace', email = unique('u')): Promise<TestClient> {
  const c = new TestClient(gh.url);
  const r = await c.signUp(email, PASSWORD, name);
  assert.equal(r.status, 303, r.text);
  return c;
}

describe('what reaches the app', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.clear());

  // Regression: a valid session cookie plus `Authorization: Bearer ghk_…` forwarded the key.
  it('never forwards a Gatehouse API key, whichever credential authenticated the request', async () => {
    const c = await signedUp(gh);
    const owner = (await gh.store.findUserByEmail(
      (JSON.parse((await c.get('/auth/me', { accept: 'application/json' })).text) as { email: string }).email,
    ))!;
    const { token } = await gh.apiKeys.issue(owner, 'ci', 'member', null);
    const forged = `ghk_aaaaaaaaaaaa_${'b'.repeat(43)}`;
    for (const authorization of [`Bearer ${token}`, `bearer ${forged}`, `Bearer   ${token}`]) {
      const r = await c.get('/echo', { authorization, accept: 'application/json' });
      assert.equal(r.status, 200);
    }
    const alone = await request(`${gh.url}/echo`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(alone.statusCode, 200);
    await alone.body.text();
    assert.equal(upstream.requests.length, 4);
    for (const seen of upstream.requests)
      assert.equal(seen.headers.authorization, undefined, 'the key reached the app');
    // The app's own credentials pass untouched.
    await c.get('/echo', { authorization: 'Bearer app-token-123' });
    assert.equal(upstream.requests.at(-1)!.headers.authorization, 'Bearer app-token-123');
  });

  it('strips client-IP and method-override headers that frameworks trust', async () => {
    const c = await signedUp(gh);
    const forged = {
      'cf-connecting-ip': '6.6.6.6',
      'true-client-ip': '6.6.6.6',
      'x-client-ip': '6.6.6.6',
      'x-cluster-client-ip': '6.6.6.6',
      'fastly-client-ip': '6.6.6.6',
      'x-real-ip': '6.6.6.6',
      'x-http-method-override': 'DELETE',
      'x-http-method': 'DELETE',
      'x-method-override': 'DELETE',
      'x-original-method': 'DELETE',
    };
    await c.get('/echo', forged);
    await new TestClient(gh.url).get('/echo', {
      ...forged,
      x_http_method_override: 'DELETE',
      CF_Connecting_IP: '6.6.6.6',
    });
    const seen = upstream.requests[0]!;
    for (const name of Object.keys(forged)) assert.equal(seen.headers[name], undefined, `${name} reached the app`);
    assert.equal(upstream.requests.length, 1, 'the anonymous request reached nothing');
  });

  // Regression: `gatehouse_session` reached the app over HTTPS and `__Host-gatehouse_session` over
  // HTTP; `gatehouse_oauth` always did.
  it("strips both spellings of every Gatehouse cookie and keeps the app's own", async () => {
    const c = await signedUp(gh);
    const own = c.cookieHeader()!;
    await c.get('/echo', {
      cookie: `${own}; __Host-gatehouse_session=old; gatehouse_oauth=tx; __Host-gatehouse_oauth=tx; __Host-gatehouse_csrf=z; app=1`,
    });
    assert.equal(upstream.requests[0]!.headers.cookie, 'app=1');
  });

  // Regression: `Bob 100% + Co` arrived raw (decodeURIComponent threw) and `/auth/check` wrote the
  // headers with its own code (`a+b@x.com` became `a%2Bb@x.com`).
  it('sends identity values that always decode to what the user typed, identical on the proxy path and /auth/check', async () => {
    for (const [name, local] of [
      ['Bob 100% + Co', 'a+b'],
      ['Zo%C3%AB', 'zo'],
      ['Zoë 😀', 'z'],
      [' Spaced ', 's'],
    ] as const) {
      upstream.clear();
      const c = await signedUp(gh, name, unique(`${local}.`));
      await c.get('/echo');
      const seen = upstream.requests[0]!;
      assert.equal(
        decodeURIComponent(String(seen.headers['x-forwarded-name'])),
        name.trim() === name ? name : name.trim(),
        name,
      );
      const check = await request(`${gh.url}/auth/check`, { headers: { cookie: c.cookieHeader()! } });
      await check.body.text();
      assert.equal(check.statusCode, 200);
      for (const h of [
        'x-forwarded-user',
        'x-forwarded-email',
        'x-forwarded-email-verified',
        'x-forwarded-name',
        'x-forwarded-provider',
        'x-forwarded-role',
      ]) {
        assert.equal(check.headers[h], seen.headers[h], `${h} differs between the proxy and /auth/check`);
      }
      assert.equal(seen.headers['x-forwarded-email-verified'], 'false');
    }
  });

  // Regression: the CSRF token was not bound to the session.
  it('refuses a CSRF token minted for another session', async () => {
    const victim = await signedUp(gh);
    const attacker = await signedUp(gh);
    const page = await attacker.get('/auth/account');
    const token = csrfFrom(page.text);
    // The attacker can plant their CSRF cookie on the victim (a sibling subdomain can write cookies).
    victim.cookies.set('gatehouse_csrf', attacker.cookies.get('gatehouse_csrf')!);
    const r = await victim.post('/auth/account/password', {
      csrf: token,
      current_password: PASSWORD,
      password: 'attacker chose this one',
    });
    assert.equal(r.status, 403);
    const again = await victim.post('/auth/account/password', {
      csrf: csrfFrom((await victim.get('/auth/account')).text),
      current_password: PASSWORD,
      password: 'the owner chose this one',
    });
    assert.equal(again.status, 200, "the victim's own token still works");
  });

  // Regression: a multipart body with an empty boundary gave 500 and a stack trace in the log.
  it('answers 400 to a form body that cannot be parsed', async () => {
    const c = new TestClient(gh.url);
    await c.get('/auth/sign-in');
    for (const type of ['multipart/form-data; boundary=', 'multipart/form-data', 'multipart/form-data; boundary=x']) {
      const r = await c.send('POST', '/auth/sign-in', {
        headers: { 'content-type': type, origin: gh.url },
        body: '--x\r\nContent-Disposition: form-data\r\n\r\nbroken',
      });
      assert.equal(r.status, 400, `${type}: ${r.status}`);
      assert.doesNotMatch(r.text, /\n\s+at /);
    }
    assert.ok(!gh.logs.some((l) => /\n\s+at /.test(l)));
  });

  // Regression: guesses at the current password were unlimited (~9/s with a stolen session).
  it('counts wrong current passwords at a password change towards the lockout', async () => {
    const email = unique('pw');
    const c = await signedUp(gh, 'Pat', email);
    let last = 0;
    for (let i = 0; i < 6; i++) {
      const csrf = csrfFrom((await c.get('/auth/account')).text);
      last = (
        await c.post('/auth/account/password', {
          csrf,
          current_password: `wrong guess ${i}`,
          password: 'a new long passphrase',
        })
      ).status;
    }
    assert.equal(last, 429, 'locked after five wrong guesses');
    const csrf = csrfFrom((await c.get('/auth/account')).text);
    const right = await c.post('/auth/account/password', {
      csrf,
      current_password: PASSWORD,
      password: 'a new long passphrase',
    });
    assert.equal(right.status, 429, 'even the right password waits out the lock');
    assert.ok(gh.auditLines.some((l) => l.includes('"lockout"') && l.includes(email)));
    assert.equal((await new TestClient(gh.url).signIn(email, PASSWORD)).status, 401, 'and sign-in is locked too');
  });

  // Regression: a password change kept the current session's token.
  it('re-issues the session token at a password change; the old token is dead', async () => {
    const c = await signedUp(gh);
    const before = c.cookies.get('gatehouse_session')!;
    const csrf = csrfFrom((await c.get('/auth/account')).text);
    const r = await c.post('/auth/account/password', {
      csrf,
      current_password: PASSWORD,
      password: 'another long passphrase',
    });
    assert.equal(r.status, 200, r.text);
    const after = c.cookies.get('gatehouse_session')!;
    assert.notEqual(after, before);
    assert.equal((await c.get('/auth/me', { accept: 'application/json' })).status, 200);
    const stale = await request(`${gh.url}/auth/me`, { headers: { cookie: `gatehouse_session=${before}` } });
    await stale.body.text();
    assert.equal(stale.statusCode, 401);
  });
});

describe('hosts and the answers the gate writes itself', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({
      upstream: upstream.url,
      publicUrl: new URL('https://app.example.com'),
      allowedHosts: ['127.0.0.1'],
    });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.clear());

  // Regression: any Host was forwarded (`Host: other.internal` reached the app).
  it('sends a browser on a foreign Host to the public URL and refuses anything else with 421', async () => {
    const nav = await new TestClient(gh.url).get('/reports?x=1', { host: 'other.internal' });
    assert.equal(nav.status, 302);
    assert.equal(nav.headers.location, 'https://app.example.com/reports?x=1');
    const api = await new TestClient(gh.url).send('POST', '/reports', {
      headers: { host: 'other.internal', accept: 'application/json' },
    });
    assert.equal(api.status, 421);
    const page = await new TestClient(gh.url).get('/auth/sign-in', { host: 'other.internal:4180' });
    assert.equal(page.status, 302, 'Gatehouse pages too');
    const smuggle = await rawRequest(
      gh.url,
      `GET /x HTTP/1.1\r\nHost: other.internal\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    );
    assert.equal(statusOf(smuggle), 421);
    assert.equal(upstream.requests.length, 0, 'nothing for a foreign host reached the app');
    const health = await new TestClient(gh.url).get('/auth/health', { host: 'gatehouse:4180' });
    assert.equal(health.status, 200, 'health answers on any host (orchestrators use internal names)');
    const listed = await new TestClient(gh.url).get('/auth/sign-in', { host: `127.0.0.1:${new URL(gh.url).port}` });
    assert.equal(listed.status, 200, 'a listed host is served');
  });

  // Regression: the gate's own 302/401/4xx/5xx lacked the headers /auth pages carry.
  it('puts security headers on every answer the gate writes itself', async () => {
    const host = { host: 'app.example.com' };
    const answers = [
      await new TestClient(gh.url).get('/private', host), // 302 to sign-in
      await new TestClient(gh.url).get('/private', { ...host, accept: 'application/json' }), // 401
      await new TestClient(gh.url).send('TRACE', '/', { headers: host }), // 405
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [302, 401, 405],
    );
    for (const a of answers) {
      assert.equal(a.headers['x-content-type-options'], 'nosniff', String(a.status));
      assert.equal(a.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', String(a.status));
      assert.equal(a.headers['cache-control'], 'no-store');
      assert.ok(a.headers['content-security-policy'], String(a.status));
    }
    const raw = await rawRequest(gh.url, 'GET /x HTTP/1.1\r\nHost: app.example.com\r\nHost: b\r\n\r\n');
    assert.equal(statusOf(raw), 400);
    assert.match(raw, /x-content-type-options: nosniff/i);
  });
});

describe('email verification, with mail on', () => {
  let smtp: SmtpSink;
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  let home: ReturnType<typeof tempHome>;
  before(async () => {
    smtp = await startSmtpSink();
    upstream = await startRecordingUpstream();
    home = tempHome();
    const state = enableAuth(emptyState(), loadMasterKey(home.home, {}), null);
    state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
    writeState({ home: home.home, server: 'local', profile: 'main' }, state);
    gh = await startTestGatehouse({ home: home.home, upstream: upstream.url });
  });
  after(async () => {
    await gh.stop();
    home.cleanup();
    await upstream.close();
    await smtp.close();
  });

  const link = (text: string, path: string) =>
    new URL(new RegExp(`(http://\\S+${path}\\?token=[A-Za-z0-9_-]+)`).exec(text)![1]!);

  // Regression: with SMTP bound, sign-up said "confirm your address" but sign-in worked without it.
  it('refuses sign-in until the address is confirmed, offers a new link, then forwards Email-Verified: true', async () => {
    const email = unique('v');
    const c = new TestClient(gh.url);
    assert.equal((await c.signUp(email, PASSWORD)).status, 200);
    const first = await smtp.waitFor(email);
    const refused = await c.signIn(email, PASSWORD);
    assert.equal(refused.status, 403);
    assert.match(refused.text, /Confirm your email/);
    assert.equal(c.cookies.get('gatehouse_session'), undefined, 'no session for an unconfirmed address');
    assert.equal((await c.get('/x')).status, 302);
    assert.equal(upstream.requests.length, 0);

    smtp.messages.length = 0;
    const resend = await c.post('/auth/verify-email/resend', { email, csrf: csrfFrom(refused.text) });
    assert.equal(resend.status, 200);
    assert.match(resend.text, /a new link is on its way/);
    const second = await smtp.waitFor(email);
    assert.notEqual(link(second.text, '/auth/verify-email').href, link(first.text, '/auth/verify-email').href);
    const stale = await c.get(
      link(first.text, '/auth/verify-email').pathname + link(first.text, '/auth/verify-email').search,
    );
    assert.equal(stale.status, 400, 'a resend replaces the old link');
    const ok = await c.get(
      link(second.text, '/auth/verify-email').pathname + link(second.text, '/auth/verify-email').search,
    );
    assert.equal(ok.status, 200);

    assert.equal((await c.signIn(email, PASSWORD)).status, 303);
    await c.get('/echo');
    assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-email-verified'], 'true');
    const me = JSON.parse((await c.get('/auth/me', { accept: 'application/json' })).text) as { emailVerified: boolean };
    assert.equal(me.emailVerified, true);
  });

  it('answers a resend the same way for an unknown address (no enumeration)', async () => {
    const c = new TestClient(gh.url);
    await c.get('/auth/sign-in');
    const page = await c.get('/auth/sign-in');
    const r = await c.post('/auth/verify-email/resend', { email: unique('nobody'), csrf: csrfFrom(page.text) });
    assert.equal(r.status, 200);
    assert.match(r.text, /a new link is on its way/);
  });

  // Regression: completing a reset left the account's other reset links valid; no notice was sent.
  it('burns every other reset link when one is used, and tells the owner the password changed', async () => {
    const email = unique('r');
    const user = await gh.store.createUser(
      { email, name: 'R', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    const links: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = new TestClient(gh.url);
      const csrf = await c.csrf('/auth/forgot');
      smtp.messages.length = 0;
      assert.equal((await c.post('/auth/forgot', { email, csrf })).status, 200);
      const mail = await smtp.waitFor(email);
      const l = link(mail.text, '/auth/reset');
      links.push(l.pathname + l.search);
    }
    const c = new TestClient(gh.url);
    const page = await c.get(links[1]!);
    smtp.messages.length = 0;
    const done = await c.post('/auth/reset', {
      token: new URL(links[1]!, gh.url).searchParams.get('token')!,
      password: 'a brand new passphrase',
      csrf: csrfFrom(page.text),
    });
    assert.equal(done.status, 303, done.text);
    const notice = await smtp.waitFor(email);
    assert.match(notice.subject, /password was changed/);
    for (const other of [links[0]!, links[2]!]) {
      const token = new URL(other, gh.url).searchParams.get('token')!;
      assert.equal(
        await gh.store.consumeToken(sha256Hex(token), 'reset', new Date()),
        null,
        'a sibling link still worked',
      );
    }
    assert.ok(user.id);
  });

  it('a password change burns outstanding reset links too', async () => {
    const email = unique('p');
    const c = new TestClient(gh.url);
    await c.signUp(email, PASSWORD);
    const confirm = await smtp.waitFor(email);
    await c.get(link(confirm.text, '/auth/verify-email').pathname + link(confirm.text, '/auth/verify-email').search);
    assert.equal((await c.signIn(email, PASSWORD)).status, 303);
    const other = new TestClient(gh.url);
    smtp.messages.length = 0;
    await other.post('/auth/forgot', { email, csrf: await other.csrf('/auth/forgot') });
    const reset = link((await smtp.waitFor(email)).text, '/auth/reset');
    const csrf = csrfFrom((await c.get('/auth/account')).text);
    assert.equal(
      (
        await c.post('/auth/account/password', {
          csrf,
          current_password: PASSWORD,
          password: 'changed it myself today',
        })
      ).status,
      200,
    );
    assert.equal(await gh.store.consumeToken(sha256Hex(reset.searchParams.get('token')!), 'reset', new Date()), null);
  });
});

describe('the domains policy without mail', () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startTestGatehouse({ env: { GATEHOUSE_SIGN_UP: 'domains', GATEHOUSE_ALLOWED_DOMAINS: 'example.com' } });
  });
  after(async () => gh.stop());

  // Regression: with `domains` and no mail, typing an address at example.com was enough.
  it('takes a password sign-up only with an invitation, which counts as a confirmed address', async () => {
    const c = new TestClient(gh.url);
    const r = await c.signUp(unique('d'), PASSWORD);
    assert.equal(r.status, 400);
    assert.match(r.text, /needs a confirmed address/);
    const email = unique('i');
    const invite = randomBytes(24).toString('base64url');
    await gh.store.createToken({
      hash: sha256Hex(invite),
      kind: 'invite',
      userId: null,
      email,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    });
    const ok = await new TestClient(gh.url).signUp(email, PASSWORD, 'Invited', { invite });
    assert.equal(ok.status, 303, ok.text);
    assert.equal((await gh.store.findUserByEmail(email))!.emailVerified, true);
  });
});

describe('auth off means off', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });

  // Regression: after `auth disable`, a browser that still held a session sent identity headers.
  it('sends no identity headers while auth is disabled, even with a valid session cookie', async () => {
    const c = await signedUp(gh);
    await c.get('/echo');
    assert.ok(upstream.requests.at(-1)!.headers['x-forwarded-user'], 'signed in: identity sent');
    const scope = { home: gh.home, server: 'local', profile: 'main' };
    updateState(scope, (s) => ({ ...s!, auth: { ...s!.auth, enabled: false } }));
    gh.reload();
    upstream.clear();
    await c.get('/echo', { 'x-forwarded-user': 'forged' });
    const seen = upstream.requests[0]!;
    for (const h of [
      'x-forwarded-user',
      'x-forwarded-email',
      'x-forwarded-name',
      'x-forwarded-role',
      'x-forwarded-provider',
    ]) {
      assert.equal(seen.headers[h], undefined, `${h} sent while auth is off`);
    }
    assert.ok(!String(seen.headers.cookie ?? '').includes('gatehouse_'), 'and our cookies still never reach the app');
  });
});
