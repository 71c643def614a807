// Second factor end to end (architecture.md#mfa), over real sockets with a recording app behind Gatehouse and an
// injected clock: enrolment, two-step sign-in with codes computed here from RFC 6238, replay, recovery
// codes, the shared lockout, the pending step's binding to one browser and its 5 minutes, `--mfa`
// rules (browser step-up vs API 403), GATEHOUSE_MFA=admins, social sign-in, operators' reset, amr.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { onFreePort, runCli, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { TestClient, type Reply } from '../support/client.js';
import { startTestIdp, type TestIdp } from '../support/oidc.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { totpAt } from '../support/totp.js';
import { readState, writeState } from '../../src/config/state.js';
import { loadMasterKey, seal } from '../../src/config/secrets.js';
import { openStore } from '../../src/store/open.js';
import { join } from 'node:path';

const PASSWORD = 'correct horse battery staple';
const ACCESS = JSON.stringify([{ pattern: '/secure/*', allow: ['any'], mfa: true }]);
const email = (tag: string) => `${tag}-${randomBytes(3).toString('hex')}@example.com`;
const sessionCookieSet = (r: Reply) =>
  ([] as string[]).concat(r.headers['set-cookie'] ?? []).some((l) => /^gatehouse_session=[^;]+/.test(l));

/** A clock the test moves: every Gatehouse part (TOTP, lockout, pending steps, sessions) reads it. */
function testClock() {
  const clock = { t: Date.now(), now: () => clock.t, advance: (ms: number) => void (clock.t += ms) };
  return clock;
}

/** The secret as the enrolment page shows it (text, in groups of four). */
const secretOf = (html: string) => /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(html)![1]!.replace(/ /g, '');

async function enrol(c: TestClient, clock: { t: number }): Promise<{ secret: string; codes: string[]; page: Reply }> {
  const page = await c.get('/auth/account/totp');
  assert.equal(page.status, 200, page.text);
  const secret = secretOf(page.text);
  const done = await c.post('/auth/account/totp', { csrf: csrfOf(page.text), code: totpAt(secret, clock.t) });
  assert.equal(done.status, 200, done.text);
  const codes = [...done.text.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
  return { secret, codes, page };
}

function csrfOf(html: string): string {
  return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
}

/** Password first step: with a factor, a 303 to the code page and no session. */
async function firstStep(c: TestClient, address: string): Promise<Reply> {
  const r = await c.signIn(address, PASSWORD);
  assert.equal(r.status, 303, r.text);
  assert.equal(r.headers.location, '/auth/sign-in/code');
  assert.ok(!sessionCookieSet(r), 'no session before the second step');
  return r;
}

async function secondStep(c: TestClient, code: string): Promise<Reply> {
  const page = await c.get('/auth/sign-in/code');
  const token = page.status === 200 ? csrfOf(page.text) : await c.csrf('/auth/sign-in');
  return c.post('/auth/sign-in/code', { csrf: token, code });
}

const me = async (c: TestClient) => JSON.parse((await c.get('/auth/me', { accept: 'application/json' })).text);

describe('second factor: authenticator app and two-step sign-in', () => {
  const clock = testClock();
  let gh: TestGatehouse;
  let upstream: RecordingUpstream;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({
      upstream: upstream.url,
      now: clock.now,
      env: { GATEHOUSE_ACCESS: ACCESS },
      trustedProxies: ['127.0.0.1/32'],
    });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });

  it('enrols over HTTP: secret as text, otpauth URI, QR code as SVG under the page CSP; recovery codes shown once', async () => {
    const address = email('enrol');
    const c = new TestClient(gh.url);
    await c.signUp(address, PASSWORD);
    const security = await c.get('/auth/account/security');
    assert.equal(security.status, 200);
    assert.match(security.text, /Authenticator app <span class="badge">off<\/span>/);
    assert.match(security.text, /href="\/auth\/account\/passkeys"/);
    assert.match(security.text, /href="\/auth\/account\/tokens"/);
    assert.match((await c.get('/auth/account')).text, /href="\/auth\/account\/security"/);

    const page = await c.get('/auth/account/totp');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'; style-src 'self'/);
    const secret = secretOf(page.text);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = /href="(otpauth:\/\/totp\/[^"]+)"/.exec(page.text)![1]!.replaceAll('&amp;', '&');
    assert.equal(new URL(uri).searchParams.get('secret'), secret);
    assert.match(
      page.text,
      /<div class="qr" role="img" aria-label="[^"]+"><svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>(<path [^>]*\/>)+<\/svg>\s*<\/div>/,
    );
    assert.doesNotMatch(page.text, /<style|style=|<script(?! src="\/auth\/assets\/gatehouse.js")/);
    assert.match(page.text, /name="code"[^>]*autocomplete="one-time-code"|autocomplete="one-time-code"[^>]*/);
    assert.equal(secretOf((await c.get('/auth/account/totp')).text), secret, 'a reload keeps the secret being set up');

    const wrong = await c.post('/auth/account/totp', {
      csrf: csrfOf(page.text),
      code: '000000' === totpAt(secret, clock.t) ? '111111' : '000000',
    });
    assert.equal(wrong.status, 400);
    const done = await c.post('/auth/account/totp', { csrf: csrfOf(page.text), code: totpAt(secret, clock.t) });
    assert.equal(done.status, 200);
    const codes = [...done.text.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    assert.equal(codes.length, 10);
    assert.deepEqual(await me(c).then((m) => m.amr), ['pwd', 'otp'], 'the enrolling session proved the factor');

    const u = (await gh.store.findUserByEmail(address))!;
    const stored = (await gh.store.findTotp(u.id))!;
    assert.equal(stored.confirmed, true);
    assert.match(stored.secret, /^enc:v1:/, 'sealed at rest');
    assert.ok(!stored.secret.includes(secret));
    assert.equal(await gh.store.countRecoveryCodes(u.id), 10);
    const again = await c.get('/auth/account/totp');
    assert.equal(again.status, 302, 'no second app while one is on');
    assert.match((await c.get('/auth/account/security')).text, /10 of 10 left/);
    assert.ok(gh.auditLines.some((l) => l.includes('"mfa.enrolled"') && l.includes(u.id)));
  });

  it('signs in in two steps; no session exists before the code; a code is accepted once; amr in /auth/me and the assertion', async () => {
    const address = email('two-step');
    const setup = new TestClient(gh.url);
    await setup.signUp(address, PASSWORD);
    const { secret } = await enrol(setup, clock);
    clock.advance(30_000);

    upstream.clear();
    const c = new TestClient(gh.url);
    await firstStep(c, address);
    const app = await c.get('/private', { accept: 'application/json' });
    assert.equal(app.status, 401, 'a pending step opens nothing');
    const form = await c.get('/auth/sign-in/code');
    assert.match(
      form.text,
      /<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"/,
    );
    assert.match((await c.get('/auth/sign-in/code?recovery')).text, /inputmode="text"/);
    const code = totpAt(secret, clock.t);
    const done = await secondStep(c, code);
    assert.equal(done.status, 303);
    assert.equal(done.headers.location, '/');
    assert.ok(sessionCookieSet(done));
    const who = await me(c);
    assert.equal(who.email, address);
    assert.deepEqual(who.amr, ['pwd', 'otp']);

    // The same code again, from another sign-in within its window: refused.
    const replay = new TestClient(gh.url);
    await firstStep(replay, address);
    const refused = await secondStep(replay, code);
    assert.equal(refused.status, 401);
    assert.ok(!sessionCookieSet(refused));

    // What the app receives: the assertion's amr is the session's, and never a Gatehouse cookie.
    c.cookies.set('gatehouse_mfa', 'left-over-pending-step');
    await c.get('/echo');
    const seen = upstream.requests.at(-1)!;
    assert.doesNotMatch(String(seen.headers.cookie ?? ''), /gatehouse_/);
    const jwks = (await (await request(`${gh.url}/auth/.well-known/jwks.json`)).body.json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(String(seen.headers['x-forwarded-assertion']), createLocalJWKSet(jwks), {
      currentDate: new Date(clock.t),
    });
    assert.deepEqual(payload.amr, ['pwd', 'otp']);
    assert.equal(
      upstream.requests.filter((r) => r.url === '/private').length,
      0,
      'the app never saw the pending browser',
    );
  });

  it('cannot finish a pending step from another cookie jar, and forgets it after 5 minutes', async () => {
    const address = email('bound');
    const setup = new TestClient(gh.url);
    await setup.signUp(address, PASSWORD);
    const { secret } = await enrol(setup, clock);
    clock.advance(30_000);

    const victim = new TestClient(gh.url);
    await firstStep(victim, address);
    const attacker = new TestClient(gh.url); // knows the code, has its own cookies
    const token = await attacker.csrf('/auth/sign-in');
    const stolen = await attacker.post('/auth/sign-in/code', { csrf: token, code: totpAt(secret, clock.t) });
    assert.equal(stolen.status, 400);
    assert.ok(!sessionCookieSet(stolen));
    assert.equal((await attacker.get('/auth/me', { accept: 'application/json' })).status, 401);
    // The victim's own step still works, once.
    clock.advance(30_000);
    assert.equal((await secondStep(victim, totpAt(secret, clock.t))).status, 303);

    clock.advance(30_000);
    const slow = new TestClient(gh.url);
    await firstStep(slow, address);
    const page = await slow.get('/auth/sign-in/code');
    clock.advance(5 * 60_000 + 1000);
    const late = await slow.post('/auth/sign-in/code', { csrf: csrfOf(page.text), code: totpAt(secret, clock.t) });
    assert.equal(late.status, 400);
    assert.match(late.text, /longer than 5 minutes/);
    assert.ok(!sessionCookieSet(late));
  });

  it('accepts each recovery code once (however it is typed), and tells the audit log', async () => {
    const address = email('recovery');
    const setup = new TestClient(gh.url);
    await setup.signUp(address, PASSWORD);
    const { codes } = await enrol(setup, clock);
    const c = new TestClient(gh.url);
    await firstStep(c, address);
    const typed = codes[3]!.toUpperCase().replace('-', ' ');
    assert.equal((await secondStep(c, typed)).status, 303);
    assert.deepEqual((await me(c)).amr, ['pwd', 'otp']);
    const again = new TestClient(gh.url);
    await firstStep(again, address);
    assert.equal((await secondStep(again, codes[3]!)).status, 401);
    assert.equal((await secondStep(again, codes[4]!)).status, 303);
    const u = (await gh.store.findUserByEmail(address))!;
    assert.equal(await gh.store.countRecoveryCodes(u.id), 8);
    assert.ok(gh.auditLines.some((l) => l.includes('"mfa.recovery-used"') && l.includes(u.id)));

    // New codes: the old ones die.
    const security = await setup.get('/auth/account/security');
    const fresh = await setup.post('/auth/account/recovery-codes', { csrf: csrfOf(security.text) });
    assert.equal(fresh.status, 200);
    const newCodes = [...fresh.text.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    assert.equal(newCodes.length, 10);
    const third = new TestClient(gh.url);
    await firstStep(third, address);
    assert.equal((await secondStep(third, codes[5]!)).status, 401, 'an old code no longer works');
    assert.equal((await secondStep(third, newCodes[0]!)).status, 303);
  });

  it('counts wrong codes towards the password lockout; a right password does not reset the count', async () => {
    const address = email('lock');
    const setup = new TestClient(gh.url);
    await setup.signUp(address, PASSWORD);
    const { secret } = await enrol(setup, clock);
    clock.advance(30_000);
    const c = new TestClient(gh.url);
    await firstStep(c, address);
    const wrong = totpAt(secret, clock.t) === '123456' ? '654321' : '123456';
    assert.equal((await secondStep(c, wrong)).status, 401);
    assert.equal((await secondStep(c, wrong)).status, 401);
    await firstStep(c, address); // the password again: the failures stand (and it is an attempt too)
    assert.equal(
      (await secondStep(c, wrong)).status,
      401,
      'the fifth attempt of the round (two passwords, three codes) locks',
    );
    const locked = await secondStep(c, totpAt(secret, clock.t));
    assert.equal(locked.status, 429, 'even the right code is refused while locked');
    assert.ok(!sessionCookieSet(locked));
    const pw = await c.signIn(address, PASSWORD);
    assert.equal(pw.status, 401);
    assert.match(pw.text, /Too many attempts/);
    assert.ok(gh.auditLines.some((l) => l.includes('"lockout"') && l.includes(address)));
    clock.advance(2 * 60_000); // the first lock lasts a minute
    await firstStep(c, address);
    assert.equal((await secondStep(c, totpAt(secret, clock.t))).status, 303);
  });

  it('sends a browser without a second factor to step up at an --mfa rule; an API gets 403 mfa_required; the app sees nothing', async () => {
    const address = email('rule');
    const old = new TestClient(gh.url);
    await old.signUp(address, PASSWORD); // a session made with the password alone
    upstream.clear();
    const browser = await old.get('/secure/report?x=1');
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.location, '/auth/step-up?return_to=%2Fsecure%2Freport%3Fx%3D1');
    const api = await old.get('/secure/report', { accept: 'application/json' });
    assert.equal(api.status, 403);
    assert.deepEqual(JSON.parse(api.text), { error: 'mfa_required' });
    const post = await old.send('POST', '/secure/report', {
      headers: { accept: 'text/html', 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(post.status, 403, 'a form post is not redirected');
    assert.equal((await old.get('/elsewhere')).status, 200, 'paths without the rule pass');
    // Forward-auth asks the same: Traefik/Caddy relay a browser to step up, an API gets 403.
    const relayed = { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/secure/report' };
    const check = await old.get('/auth/check', relayed);
    assert.equal(check.status, 302);
    assert.equal(check.headers.location, '/auth/step-up?return_to=%2Fsecure%2Freport');
    const checkApi = await old.get('/auth/check', { ...relayed, accept: 'application/json' });
    assert.equal(checkApi.status, 403);
    assert.deepEqual(JSON.parse(checkApi.text), { error: 'mfa_required' });
    // No factor yet: the step-up page sends them to set one up.
    const noFactor = await old.get('/auth/step-up?return_to=%2Fsecure%2Freport');
    assert.equal(noFactor.status, 302);
    assert.equal(noFactor.headers.location, '/auth/account/totp?return_to=%2Fsecure%2Freport');

    // Enrolled in another browser: this older session shows a code and continues under a new token.
    const other = new TestClient(gh.url);
    await other.signIn(address, PASSWORD);
    const { secret } = await enrol(other, clock);
    assert.equal((await other.get('/secure/report')).status, 200, 'the enrolling session passes');
    clock.advance(30_000);
    const step = await old.get('/auth/step-up?return_to=%2Fsecure%2Freport');
    assert.equal(step.status, 200);
    assert.match(step.text, /name="code"/);
    const before = old.cookies.get('gatehouse_session');
    const bad = await old.post('/auth/step-up', {
      csrf: csrfOf(step.text),
      return_to: '/secure/report',
      code: '000000' === totpAt(secret, clock.t) ? '111111' : '000000',
    });
    assert.equal(bad.status, 401);
    const ok = await old.post('/auth/step-up', {
      csrf: csrfOf(step.text),
      return_to: '/secure/report',
      code: totpAt(secret, clock.t),
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, '/secure/report');
    assert.notEqual(old.cookies.get('gatehouse_session'), before, 'a new session token');
    assert.deepEqual((await me(old)).amr, ['pwd', 'otp']);
    assert.equal((await old.get('/secure/report')).status, 200);
    assert.equal(
      (await old.get('/auth/check', { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/secure/report' })).status,
      200,
    );
    assert.deepEqual(
      upstream.requests.map((r) => r.url),
      ['/elsewhere', '/secure/report', '/secure/report'],
    );
  });

  it('removes the app with a code or the current password, and the admin console resets a user', async () => {
    const address = email('remove');
    const c = new TestClient(gh.url);
    await c.signUp(address, PASSWORD);
    await enrol(c, clock);
    const page = await c.get('/auth/account/security');
    const bad = await c.post('/auth/account/totp/remove', {
      csrf: csrfOf(page.text),
      current_password: 'not the password at all',
    });
    assert.equal(bad.status, 400);
    const removed = await c.post('/auth/account/totp/remove', { csrf: csrfOf(page.text), current_password: PASSWORD });
    assert.equal(removed.status, 200);
    assert.match(removed.text, /were removed/);
    const u = (await gh.store.findUserByEmail(address))!;
    assert.equal(await gh.store.findTotp(u.id), null);
    assert.equal(await gh.store.countRecoveryCodes(u.id), 0);
    assert.ok(gh.auditLines.some((l) => l.includes('"mfa.removed"') && l.includes(u.id)));

    // The console: an admin resets another user's factor; the user's sessions end.
    await enrol(c, clock);
    const adminAddress = email('admin');
    await new TestClient(gh.url).signUp(adminAddress, PASSWORD);
    await gh.store.updateUser((await gh.store.findUserByEmail(adminAddress))!.id, { role: 'admin' }, new Date(clock.t));
    const admin = new TestClient(gh.url);
    await admin.signIn(adminAddress, PASSWORD);
    const confirm = await admin.get(`/auth/admin/confirm?action=reset-mfa&user=${u.id}`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Reset two-step sign-in\?/);
    const done = await admin.post(`/auth/admin/users/${u.id}/reset-mfa`, { csrf: csrfOf(confirm.text) });
    assert.equal(done.status, 303);
    assert.equal(await gh.store.findTotp(u.id), null);
    assert.deepEqual(await gh.store.listUserSessions(u.id), []);
    assert.ok(gh.auditLines.some((l) => l.includes('"mfa.reset"') && l.includes(u.id)));
    // A plain sign-in again, no second step.
    const back = await new TestClient(gh.url).signIn(address, PASSWORD);
    assert.equal(back.status, 303);
    assert.equal(back.headers.location, '/');
  });

  it(
    'reset-mfa through the CLI removes the factor and ends the sessions',
    { skip: process.env.GATEHOUSE_SKIP_CLI ? 'no dist build' : false },
    async () => {
      const address = email('cli');
      const c = new TestClient(gh.url);
      await c.signUp(address, PASSWORD);
      await enrol(c, clock);
      const u = (await gh.store.findUserByEmail(address))!;
      const r = await runCli(['users', 'reset-mfa', address], { GATEHOUSE_HOME: gh.home });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /second factor removed; 1 session\(s\) ended/);
      assert.match(r.stderr, /"event":"mfa.reset"/);
      assert.equal(await gh.store.findTotp(u.id), null);
      clock.advance(3000); // past the session cache's 2 s
      assert.equal((await c.get('/auth/me', { accept: 'application/json' })).status, 401);
      const unknown = await runCli(['users', 'reset-mfa', 'nobody@example.com'], { GATEHOUSE_HOME: gh.home });
      assert.equal(unknown.code, 1);
    },
  );

  it('migrate-users carries a second factor to the new store: a store switch never turns it off quietly', async () => {
    const address = email('moved');
    const c = new TestClient(gh.url);
    await c.signUp(address, PASSWORD);
    const { codes } = await enrol(c, clock);
    const u = (await gh.store.findUserByEmail(address))!;
    const file = join(gh.home, 'moved.sqlite');
    const r = await runCli(['migrate-users', '--from', 'embedded', '--to', 'GATEHOUSE_DATABASE_URL'], {
      GATEHOUSE_HOME: gh.home,
      GATEHOUSE_DATABASE_URL: `sqlite:${file}`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /second factor\(s\)/);
    const target = await openStore(`sqlite:${file}`);
    try {
      assert.deepEqual(await target.findTotp(u.id), await gh.store.findTotp(u.id));
      assert.deepEqual(await target.listRecoveryCodes(u.id), await gh.store.listRecoveryCodes(u.id));
      assert.equal((await target.listRecoveryCodes(u.id)).length, codes.length);
    } finally {
      await target.close();
    }
  });
});

describe('GATEHOUSE_MFA=admins', () => {
  const clock = testClock();
  let gh: TestGatehouse;
  let upstream: RecordingUpstream;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url, now: clock.now, env: { GATEHOUSE_MFA: 'admins' } });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });

  it('takes an admin without a factor to enrolment right after sign-in, and nowhere else first', async () => {
    const address = email('boss');
    await new TestClient(gh.url).signUp(address, PASSWORD);
    await gh.store.updateUser((await gh.store.findUserByEmail(address))!.id, { role: 'admin' }, new Date(clock.t));
    const c = new TestClient(gh.url);
    const signIn = await c.signIn(address, PASSWORD, { return_to: '/reports' });
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.location, '/auth/account/totp?return_to=%2Freports');
    upstream.clear();
    const app = await c.get('/reports');
    assert.equal(app.status, 302);
    assert.equal(app.headers.location, '/auth/account/totp?return_to=%2Freports');
    const api = await c.get('/api/x', { accept: 'application/json' });
    assert.equal(api.status, 403);
    assert.deepEqual(JSON.parse(api.text), { error: 'mfa_required' });
    assert.equal((await c.get('/auth/admin')).status, 302);
    assert.equal((await c.get('/auth/account')).headers.location, '/auth/account/totp?return_to=%2Fauth%2Faccount');
    assert.equal((await c.get('/auth/me', { accept: 'application/json' })).status, 403);
    assert.equal(upstream.requests.length, 0, 'the app saw nothing');
    // What stays open: enrolment, sign-out, assets.
    assert.equal((await c.get('/auth/sign-out')).status, 200);
    assert.equal((await c.get('/auth/assets/gatehouse.css')).status, 200);
    const page = await c.get('/auth/account/totp?return_to=%2Freports');
    assert.equal(page.status, 200);
    assert.match(page.text, /asks for a second step at sign-in/);
    const done = await c.post('/auth/account/totp', {
      csrf: csrfOf(page.text),
      return_to: '/reports',
      code: totpAt(secretOf(page.text), clock.t),
    });
    assert.equal(done.status, 200);
    assert.match(done.text, /href="\/reports"/);
    assert.equal((await c.get('/reports')).status, 200);
    assert.equal((await c.get('/auth/admin')).status, 200);
  });

  it('leaves members alone', async () => {
    const c = new TestClient(gh.url);
    const r = await c.signUp(email('member'), PASSWORD);
    assert.equal(r.status, 303);
    assert.equal((await c.get('/reports')).status, 200);
  });
});

describe('social sign-in with a second factor, and the email a factor change sends', () => {
  const clock = testClock();
  let idp: TestIdp;
  let gh: TestGatehouse;
  let smtp: SmtpSink;
  let home: ReturnType<typeof tempHome>;
  before(async () => {
    home = tempHome();
    gh = await onFreePort((port) =>
      startTestGatehouse({
        home: home.home,
        port,
        publicUrl: new URL(`http://127.0.0.1:${port}`),
        now: clock.now,
        upstream: null,
      }),
    );
    idp = await startTestIdp([`${gh.url}/auth/oauth/corp/callback`]);
    smtp = await startSmtpSink();
    const scope = { home: home.home, server: 'local', profile: 'main' };
    const state = readState(scope)!;
    state.providers = [
      {
        name: 'corp',
        kind: 'oidc',
        clientId: idp.clientId,
        clientSecret: seal(idp.clientSecret, loadMasterKey(home.home, {})),
        issuer: idp.issuer,
      },
    ];
    state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
    writeState(scope, state);
    gh.reload();
  });
  after(async () => {
    // Whatever before() managed to start: a half-started suite must not hold the file open.
    await gh?.stop();
    home?.cleanup();
    await idp?.close();
    await smtp?.close();
  });

  const socialLogin = async (c: TestClient, sub: string): Promise<Reply> => {
    const start = await c.get('/auth/oauth/corp/start');
    assert.equal(start.status, 302, start.text);
    const back = await idp.login(String(start.headers.location), sub);
    return c.get(back.pathname + back.search);
  };

  it('asks for the code after the IdP, records amr fed+otp, and mails the user about factor changes', async () => {
    idp.accounts.set('mfa-sub', { email: 'social@corp.example', email_verified: true, name: 'Social User' });
    const c = new TestClient(gh.url);
    const first = await socialLogin(c, 'mfa-sub');
    assert.equal(first.status, 303, first.text);
    assert.deepEqual((await me(c)).amr, ['fed']);
    const { secret } = await enrol(c, clock);
    assert.match((await smtp.waitFor('social@corp.example')).text, /authenticator app was added/);
    clock.advance(30_000);

    const again = new TestClient(gh.url);
    const r = await socialLogin(again, 'mfa-sub');
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/auth/sign-in/code');
    assert.ok(!sessionCookieSet(r), 'no session after the IdP alone');
    assert.equal((await again.get('/auth/me', { accept: 'application/json' })).status, 401);
    const done = await secondStep(again, totpAt(secret, clock.t));
    assert.equal(done.status, 303);
    const who = await me(again);
    assert.equal(who.provider, 'corp');
    assert.deepEqual(who.amr, ['fed', 'otp']);
    // No password on this account: removing the app takes a code.
    clock.advance(30_000);
    const page = await again.get('/auth/account/security');
    assert.doesNotMatch(page.text, /current_password/);
    const removed = await again.post('/auth/account/totp/remove', {
      csrf: csrfOf(page.text),
      code: totpAt(secret, clock.t),
    });
    assert.equal(removed.status, 200);
    assert.match((await smtp.waitFor('social@corp.example')).text, /authenticator app was removed/);
  });

  it('mails the user when an operator resets their factor with the CLI (SMTP bound in the state file)', async () => {
    idp.accounts.set('reset-sub', { email: 'reset@corp.example', email_verified: true, name: 'Reset User' });
    const c = new TestClient(gh.url);
    assert.equal((await socialLogin(c, 'reset-sub')).status, 303);
    await enrol(c, clock);
    await smtp.waitFor('reset@corp.example'); // the enrolment notice
    const r = await runCli(['users', 'reset-mfa', 'reset@corp.example'], { GATEHOUSE_HOME: home.home });
    assert.equal(r.code, 0, r.stderr);
    assert.match((await smtp.waitFor('reset@corp.example')).text, /administrator removed the second factor/);
    const again = new TestClient(gh.url);
    const back = await socialLogin(again, 'reset-sub');
    assert.equal(back.status, 303);
    assert.equal(back.headers.location, '/', 'no second step any more');
  });
});
