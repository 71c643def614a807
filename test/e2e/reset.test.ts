// Password reset and email verification against a real SMTP server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { TestClient } from '../support/client.js';
import { emptyState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey } from '../../src/config/secrets.js';

let smtp: SmtpSink;
let upstream: RecordingUpstream;
let gh: TestGatehouse;
let home: ReturnType<typeof tempHome>;
const PASSWORD = 'first password is long';
const PUBLIC = 'http://app.test:8080';
const NEW_PASSWORD = 'second password is longer';

before(async () => {
  smtp = await startSmtpSink();
  upstream = await startRecordingUpstream();
  home = tempHome();
  const scope = { home: home.home, server: 'local', profile: 'main' };
  const state = enableAuth(emptyState(), loadMasterKey(home.home, {}), null);
  state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
  writeState(scope, state);
  // The tests reach it at 127.0.0.1 while its public URL names app.test: list that host.
  gh = await startTestGatehouse({
    home: home.home,
    upstream: upstream.url,
    publicUrl: new URL('http://app.test:8080'),
    allowedHosts: ['127.0.0.1'],
  });
});
after(async () => {
  await gh.stop();
  home.cleanup();
  await upstream.close();
  await smtp.close();
});

const linkIn = (text: string, path: string) => {
  const m = new RegExp(`(http://\\S+${path}\\?token=[A-Za-z0-9_-]+)`).exec(text);
  assert.ok(m, `no ${path} link in:\n${text}`);
  return new URL(m[1]!);
};

describe('password reset', () => {
  it('sends a reset link built from the public URL, resets once, and ends old sessions', async () => {
    const email = `r${randomBytes(3).toString('hex')}@example.com`;
    const old = new TestClient(gh.url, PUBLIC);
    assert.equal((await old.signUp(email, PASSWORD)).status, 200, 'with mail on, sign-up says "check your email"');
    const verification = await smtp.waitFor(email);
    assert.match(verification.subject, /Confirm your email/);
    assert.equal((await old.signIn(email, PASSWORD)).status, 403, 'not before the address is confirmed');
    const confirm = linkIn(verification.text, '/auth/verify-email');
    assert.equal((await old.get(`/auth/verify-email?${confirm.searchParams}`)).status, 200);
    assert.equal((await old.signIn(email, PASSWORD)).status, 303);
    assert.equal((await old.get('/auth/me')).status, 200);

    const c = new TestClient(gh.url, PUBLIC);
    const csrf = await c.csrf('/auth/forgot');
    // A hostile Host header must not end up in a link: such a request is not even served.
    const hostile = await c.post(
      '/auth/forgot',
      { email: email.toUpperCase(), csrf },
      { host: 'evil.example', origin: 'http://app.test:8080' },
    );
    assert.equal(hostile.status, 421);
    const r = await c.post('/auth/forgot', { email: email.toUpperCase(), csrf }, { origin: 'http://app.test:8080' });
    assert.equal(r.status, 200);
    assert.match(r.text, /Check your email/);
    const mail = await smtp.waitFor(email);
    const link = linkIn(mail.text, '/auth/reset');
    assert.equal(link.origin, 'http://app.test:8080');
    const token = link.searchParams.get('token')!;

    const form = await c.get(`/auth/reset?token=${token}`);
    assert.equal(form.status, 200);
    const resetCsrf = (await import('../support/client.js')).csrfFrom(form.text);
    // A weak password is refused without spending the token.
    assert.equal(
      (await c.post('/auth/reset', { token, password: 'short', csrf: resetCsrf }, { origin: 'http://app.test:8080' }))
        .status,
      400,
    );
    const done = await c.post(
      '/auth/reset',
      { token, password: NEW_PASSWORD, csrf: resetCsrf },
      { origin: 'http://app.test:8080' },
    );
    assert.equal(done.status, 303);
    assert.equal(JSON.parse((await c.get('/auth/me')).text).email, email);

    assert.equal((await old.get('/auth/me')).status, 401, 'sessions from before the reset ended');
    const again = await new TestClient(gh.url, PUBLIC).post(
      '/auth/reset',
      { token, password: 'third password here', csrf: resetCsrf },
      { origin: 'http://app.test:8080' },
    );
    assert.notEqual(again.status, 303, 'a reset link works once');
    assert.equal((await new TestClient(gh.url, PUBLIC).signIn(email, PASSWORD, {})).status, 401);
    assert.equal((await new TestClient(gh.url, PUBLIC).signIn(email, NEW_PASSWORD)).status, 303);
  });

  it('answers the same for an unknown address and sends nothing', async () => {
    const c = new TestClient(gh.url, PUBLIC);
    const known = `k${randomBytes(3).toString('hex')}@example.com`;
    await new TestClient(gh.url, PUBLIC).signUp(known, PASSWORD);
    await smtp.waitFor(known); // the verification mail
    const a = await c.post('/auth/forgot', { email: known, csrf: await c.csrf('/auth/forgot') });
    const b = await c.post('/auth/forgot', { email: 'nobody-here@example.com', csrf: await c.csrf('/auth/forgot') });
    assert.equal(a.status, b.status);
    const strip = (t: string) => t.replace(/value="[^"]*"/g, '');
    assert.equal(strip(a.text), strip(b.text));
    await smtp.waitFor(known);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(smtp.messages.filter((m) => m.to === 'nobody-here@example.com').length, 0);
  });

  it('answers sign-up the same for a new and an existing address, and tells the owner', async () => {
    const email = `dup${randomBytes(3).toString('hex')}@example.com`;
    const strip = (t: string) => t.replace(/value="[^"]*"/g, '');
    const first = new TestClient(gh.url, PUBLIC);
    const a = await first.signUp(email, PASSWORD);
    await smtp.waitFor(email); // verification
    const second = new TestClient(gh.url, PUBLIC);
    const b = await second.signUp(email, 'another long password');
    assert.equal(a.status, b.status);
    assert.equal(strip(a.text), strip(b.text));
    assert.equal((await second.get('/auth/me')).status, 401, 'no session either way');
    const notice = await smtp.waitFor(email);
    assert.match(notice.text, /already have one/);
    assert.equal(
      (await new TestClient(gh.url, PUBLIC).signIn(email, 'another long password')).status,
      401,
      'the first password stands',
    );
  });

  it('refuses a forged or expired token', async () => {
    const c = new TestClient(gh.url, PUBLIC);
    const csrf = (await import('../support/client.js')).csrfFrom((await c.get('/auth/reset?token=forged')).text);
    const r = await c.post('/auth/reset', { token: 'forged', password: NEW_PASSWORD, csrf });
    assert.equal(r.status, 400);
  });

  it('verifies an email address once', async () => {
    const email = `v${randomBytes(3).toString('hex')}@example.com`;
    const c = new TestClient(gh.url, PUBLIC);
    await c.signUp(email, PASSWORD);
    const link = linkIn((await smtp.waitFor(email)).text, '/auth/verify-email');
    const first = await c.get(`/auth/verify-email?${link.searchParams}`);
    assert.equal(first.status, 200);
    assert.equal((await gh.store.findUserByEmail(email))!.emailVerified, true);
    assert.equal((await c.get(`/auth/verify-email?${link.searchParams}`)).status, 400);
  });

  it('is switched off without an smtp binding', async () => {
    const plain = await startTestGatehouse({ upstream: upstream.url });
    try {
      // The page says what to do instead of a bare 404, and sign-in offers no link to it.
      const forgot = await new TestClient(plain.url).get('/auth/forgot');
      assert.equal(forgot.status, 200);
      assert.match(
        forgot.text,
        /Password reset by email is not set up for this app\. Ask an administrator to reset your password\./,
      );
      assert.doesNotMatch(forgot.text, /<form/);
      assert.doesNotMatch((await new TestClient(plain.url).get('/auth/sign-in')).text, /\/auth\/forgot/);
    } finally {
      await plain.stop();
    }
  });
});
