// The account page, complete (architecture.md#devices): email change through a real SMTP server, linked identities
// through a real OpenID provider, "sign out everywhere else" with two cookie jars — all over HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { startTestIdp, type TestIdp } from '../support/oidc.js';
import { startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { emptyState, readState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey, seal } from '../../src/config/secrets.js';
import { freePort } from '../../src/exec-app.js';

let smtp: SmtpSink;
let idp: TestIdp;
let upstream: RecordingUpstream;
let gh: TestGatehouse;
let home: ReturnType<typeof tempHome>;
const PASSWORD = 'a long account password';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

before(async () => {
  smtp = await startSmtpSink();
  upstream = await startRecordingUpstream();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startTestIdp([`${base}/auth/oauth/corp/callback`]);
  home = tempHome();
  const state = enableAuth(emptyState(), loadMasterKey(home.home, {}), null);
  state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
  state.providers = [
    {
      name: 'corp',
      kind: 'oidc',
      clientId: idp.clientId,
      clientSecret: seal(idp.clientSecret, loadMasterKey(home.home, {})),
      issuer: idp.issuer,
    },
  ];
  writeState({ home: home.home, server: 'local', profile: 'main' }, state);
  gh = await startTestGatehouse({ home: home.home, upstream: upstream.url, port, publicUrl: new URL(base) });
});
after(async () => {
  await gh.stop();
  home.cleanup();
  await idp.close();
  await upstream.close();
  await smtp.close();
});

const unique = (name: string) => `${name}-${randomBytes(3).toString('hex')}@example.com`;

/** A password account with a confirmed address, signed in; its verification mail is taken out of the sink. */
async function member(email: string, userAgent?: string): Promise<{ c: TestClient; id: string }> {
  const c = new TestClient(gh.url);
  assert.equal((await c.signUp(email, PASSWORD)).status, 200, 'with mail on, sign-up says "check your email"');
  await smtp.waitFor(email);
  const user = (await gh.store.findUserByEmail(email))!;
  await gh.store.updateUser(user.id, { emailVerified: true }, new Date());
  return { c: await signedIn(email, userAgent), id: user.id };
}

async function signedIn(email: string, userAgent?: string): Promise<TestClient> {
  const c = new TestClient(gh.url);
  const headers = userAgent ? { 'user-agent': userAgent } : undefined;
  const page = await c.get('/auth/sign-in', headers);
  const r = await c.post('/auth/sign-in', { email, password: PASSWORD, csrf: csrfFrom(page.text) }, headers);
  assert.equal(r.status, 303, r.text);
  return c;
}

async function accountForm(c: TestClient): Promise<{ html: string; csrf: string }> {
  const r = await c.get('/auth/account');
  assert.equal(r.status, 200);
  return { html: r.text, csrf: csrfFrom(r.text) };
}

const changeLink = (text: string) => {
  const m = /(http:\/\/\S+\/auth\/account\/email\/confirm\?token=[A-Za-z0-9_-]+)/.exec(text);
  assert.ok(m, `no confirmation link in:\n${text}`);
  return new URL(m[1]!);
};

describe('email change', () => {
  it('mails a link to the new address; the change happens once, when it is followed; the old address is told', async () => {
    const old = unique('ann');
    const next = unique('ann-new');
    const { c, id } = await member(old);
    const { html, csrf } = await accountForm(c);
    assert.match(html, /name="new_email"/);

    const wrong = await c.post('/auth/account/email', {
      new_email: next,
      email_password: 'not my password at all',
      csrf,
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /That is not your current password/);
    const bad = await c.post('/auth/account/email', {
      new_email: 'ann@exa\u200bmple.com',
      email_password: PASSWORD,
      csrf,
    });
    assert.equal(bad.status, 400, 'the address goes through accounts/email.ts');
    assert.match(bad.text, /invisible or control characters/);

    const asked = await c.post('/auth/account/email', {
      new_email: `  ${next.toUpperCase()} `,
      email_password: PASSWORD,
      csrf,
    });
    assert.equal(asked.status, 200);
    assert.match(
      asked.text,
      new RegExp(`If ${next.replace(/[.]/g, '\\.')} can be used for your account, a link is on its way`),
      'normalised',
    );
    const mail = await smtp.waitFor(next);
    assert.match(mail.subject, /Confirm your new email/);
    assert.equal(smtp.messages.filter((m) => m.to === next).length, 0, 'the wrong password sent nothing');
    assert.equal((await gh.store.findUserById(id))!.email, old, 'nothing changes before the link is followed');

    // Another browser, signed out, may finish: the link is the proof. The GET only looks.
    const link = changeLink(mail.text);
    const other = new TestClient(gh.url);
    const look = await other.get(link.pathname + link.search);
    assert.equal(look.status, 200);
    assert.match(look.text, /Use this address for your account\?/);
    assert.equal((await gh.store.findUserById(id))!.email, old, 'a mail scanner following the link spends nothing');
    const done = await other.post(link.pathname + link.search, { csrf: csrfFrom(look.text) });
    assert.equal(done.status, 200, done.text);
    assert.match(done.text, /Email changed/);
    const user = (await gh.store.findUserById(id))!;
    assert.equal(user.email, next);
    assert.equal(user.emailVerified, true, 'the link proved the new mailbox');

    const notice = await smtp.waitFor(old);
    assert.match(notice.subject, /email address was changed/);
    assert.ok(notice.text.includes(next) && !/token=/.test(notice.text), 'the old address is told, with no link');

    const again = await other.post(link.pathname + link.search, { csrf: csrfFrom(look.text) });
    assert.equal(again.status, 400, 'the link works once');
    assert.equal((await other.get(link.pathname + link.search)).status, 400);
    assert.equal(
      (await new TestClient(gh.url).signIn(old, PASSWORD)).status,
      401,
      'the old address no longer signs in',
    );
    await signedIn(next);
    assert.ok(gh.auditLines.some((l) => l.includes('"email.changed"') && l.includes(id)));
  });

  it('refuses a taken address without telling who has it: the same answer, no link, the owner told', async () => {
    const taken = unique('ben');
    await member(taken);
    const { c, id } = await member(unique('cat'));
    const free = unique('cat-free');
    const { csrf } = await accountForm(c);
    const toTaken = await c.post('/auth/account/email', { new_email: taken, email_password: PASSWORD, csrf });
    const toFree = await c.post('/auth/account/email', { new_email: free, email_password: PASSWORD, csrf });
    assert.equal(toTaken.status, toFree.status);
    const notice = (r: { text: string }) => /<p class="notice" role="status">([^<]*)<\/p>/.exec(r.text)![1]!;
    assert.equal(notice(toTaken).replace(taken, 'X'), notice(toFree).replace(free, 'X'), 'word for word the same');
    const told = await smtp.waitFor(taken);
    assert.match(told.text, /Nothing was changed/);
    assert.doesNotMatch(told.text, /token=/, 'no link to the taken address');
    await smtp.waitFor(free);
    assert.notEqual((await gh.store.findUserById(id))!.email, taken);
  });

  it('a link dies when the address changed since it was sent, and a race for the address is refused generically', async () => {
    const { c, id } = await member(unique('dan'));
    const wanted = unique('dan-wanted');
    const { csrf } = await accountForm(c);
    await c.post('/auth/account/email', { new_email: wanted, email_password: PASSWORD, csrf });
    const link = changeLink((await smtp.waitFor(wanted)).text);
    // Someone takes the address before the link is used.
    const thief = new TestClient(gh.url);
    await thief.signUp(wanted, PASSWORD);
    await smtp.waitFor(wanted);
    const look = await c.get(link.pathname + link.search);
    const r = await c.post(link.pathname + link.search, { csrf: csrfFrom(look.text) });
    assert.equal(r.status, 409);
    assert.match(r.text, /cannot be used for your account/);
    assert.notEqual((await gh.store.findUserById(id))!.email, wanted);
  });
});

describe('email change: the links and the policy', () => {
  it('one live link at a time: a newer request kills the older link', async () => {
    const { c, id } = await member(unique('jo'));
    const first = unique('jo-first');
    const second = unique('jo-second');
    const { csrf } = await accountForm(c);
    await c.post('/auth/account/email', { new_email: first, email_password: PASSWORD, csrf });
    const older = changeLink((await smtp.waitFor(first)).text);
    await c.post('/auth/account/email', { new_email: second, email_password: PASSWORD, csrf });
    await smtp.waitFor(second);
    assert.equal((await c.get(older.pathname + older.search)).status, 400);
    assert.equal((await c.post(older.pathname + older.search, { csrf })).status, 400);
    assert.notEqual((await gh.store.findUserById(id))!.email, first);
    assert.equal((await c.get('/auth/account/email/confirm?token=' + 'A'.repeat(43))).status, 400, 'a made-up token');
  });

  it('refuses an address outside the sign-up domains while the domain policy is on', async () => {
    const { c } = await member(unique('kim'));
    const scope = { home: home.home, server: 'local', profile: 'main' };
    const before = readState(scope)!;
    writeState(scope, { ...before, auth: { ...before.auth, signUp: 'domains', allowedDomains: ['example.com'] } });
    gh.reload();
    try {
      const { csrf } = await accountForm(c);
      const r = await c.post('/auth/account/email', {
        new_email: 'kim@elsewhere.test',
        email_password: PASSWORD,
        csrf,
      });
      assert.equal(r.status, 400);
      assert.match(r.text, /approved domains only/);
      assert.equal(smtp.messages.filter((m) => m.to === 'kim@elsewhere.test').length, 0);
    } finally {
      writeState(scope, before);
      gh.reload();
    }
  });
});

async function idpLogin(c: TestClient, start: { status: number; headers: Record<string, unknown> }, sub: string) {
  assert.equal(start.status, 302);
  const back = await idp.login(String(start.headers.location), sub);
  return c.get(back.pathname + back.search);
}

describe('linked accounts', () => {
  it('links a provider account from the account page, refuses one linked to someone else, unlinks while a password remains', async () => {
    const { c, id } = await member(unique('eve'));
    idp.accounts.set('eve-idp', { email: 'eve@corp.example', email_verified: true, name: 'Eve' });
    const { html, csrf } = await accountForm(c);
    assert.match(html, /Link corp|Link Corp/i);
    assert.equal(
      (await c.post('/auth/account/identities/link', { provider: 'corp' })).status,
      403,
      'no CSRF token, no flow',
    );
    const linked = await idpLogin(
      c,
      await c.post('/auth/account/identities/link', { provider: 'corp', csrf }),
      'eve-idp',
    );
    assert.equal(linked.status, 303, linked.text);
    assert.equal(linked.headers.location, '/auth/account/identities/linked');
    assert.equal((await gh.store.findIdentity(idp.issuer, 'eve-idp'))?.userId, id);
    const page = await c.get('/auth/account/identities/linked');
    assert.match(page.text, /Linked: you can now sign in with it too/);
    assert.match(page.text, /eve@corp\.example/);
    assert.match(page.text, /aria-label="Unlink corp"/i);

    // The same IdP account, linked by someone else: refused, and it stays Eve's.
    const { c: fay, id: fayId } = await member(unique('fay'));
    const refused = await idpLogin(
      fay,
      await fay.post('/auth/account/identities/link', { provider: 'corp', csrf: (await accountForm(fay)).csrf }),
      'eve-idp',
    );
    assert.equal(refused.status, 409);
    assert.match(refused.text, /already signs in to another account here/);
    assert.doesNotMatch(refused.text, /eve/i, 'the page does not say whose');
    assert.equal((await gh.store.findIdentity(idp.issuer, 'eve-idp'))?.userId, id);
    assert.deepEqual(await gh.store.listIdentities(fayId), []);

    // The IdP signs Eve in now; then she unlinks it (her password remains) and it no longer does.
    const viaIdp = new TestClient(gh.url);
    assert.equal((await idpLogin(viaIdp, await viaIdp.get('/auth/oauth/corp/start'), 'eve-idp')).status, 303);
    assert.equal(JSON.parse((await viaIdp.get('/auth/me')).text).id, id);
    const unlinked = await c.post('/auth/account/identities/unlink', {
      issuer: idp.issuer,
      subject: 'eve-idp',
      csrf: (await accountForm(c)).csrf,
    });
    assert.equal(unlinked.status, 200);
    assert.match(unlinked.text, /corp no longer signs in to your account/);
    assert.equal(await gh.store.findIdentity(idp.issuer, 'eve-idp'), null);
    assert.ok(gh.auditLines.some((l) => l.includes('"identity.linked"') && l.includes(id)));
    assert.ok(gh.auditLines.some((l) => l.includes('"identity.unlinked"') && l.includes(id)));
  });

  it('refuses to unlink the last way in', async () => {
    idp.accounts.set('gus-idp', { email: 'gus@corp.example', email_verified: true, name: 'Gus' });
    const c = new TestClient(gh.url);
    assert.equal((await idpLogin(c, await c.get('/auth/oauth/corp/start'), 'gus-idp')).status, 303);
    const { html, csrf } = await accountForm(c);
    assert.match(html, /Your only way in/);
    assert.doesNotMatch(html, /identities\/unlink/);
    const r = await c.post('/auth/account/identities/unlink', { issuer: idp.issuer, subject: 'gus-idp', csrf });
    assert.equal(r.status, 409);
    assert.match(r.text, /only way you can sign in/);
    assert.ok(await gh.store.findIdentity(idp.issuer, 'gus-idp'));
  });
});

describe('sessions', () => {
  it('lists device, place, created and last seen; "sign out everywhere else" ends the other jars and keeps this one', async () => {
    const email = unique('hal');
    const { c: first } = await member(email, CHROME);
    const phone = await signedIn(email, IPHONE);
    const third = await signedIn(email);
    const { html } = await accountForm(first);
    assert.match(html, /Chrome on Linux<\/p>|Chrome on Linux <span class="badge">this device/);
    assert.match(html, /Safari on iOS/);
    assert.match(html, /127\.0\.0\.1 · signed in <time datetime="[^"]+">[^<]+<\/time> · last seen <time/);

    const confirm = await first.get('/auth/account/sessions/others');
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Sign out everywhere else\?/);
    assert.equal((await phone.get('/auth/me')).status, 200, 'the confirmation page alone changes nothing');
    assert.equal((await first.post('/auth/account/sessions/others', {})).status, 403, 'no CSRF token: refused');
    const done = await first.post('/auth/account/sessions/others', { csrf: csrfFrom(confirm.text) });
    assert.equal(done.status, 200);
    assert.match(done.text, /Signed out 2 other sessions/);
    assert.equal((await phone.get('/auth/me')).status, 401);
    assert.equal((await third.get('/auth/me')).status, 401);
    assert.equal((await first.get('/auth/me')).status, 200, 'this browser stays signed in');
  });
});

describe('without mail', () => {
  it('says that an email change needs mail, and refuses the post', async () => {
    const plain = await startTestGatehouse({ upstream: upstream.url });
    try {
      const c = new TestClient(plain.url);
      assert.equal((await c.signUp(unique('ida'), PASSWORD)).status, 303);
      const { html, csrf } = await (async () => {
        const r = await c.get('/auth/account');
        return { html: r.text, csrf: csrfFrom(r.text) };
      })();
      assert.match(html, /Changing your email address needs mail/);
      const r = await c.post('/auth/account/email', { new_email: unique('ida-new'), email_password: PASSWORD, csrf });
      assert.equal(r.status, 409);
      assert.match(r.text, /needs mail/);
    } finally {
      await plain.stop();
    }
  });
});

describe('email change without a password', () => {
  it('a social-only account proves itself with a recent sign-in; an older session is asked to sign in again', async () => {
    const sub = `hal-${randomBytes(3).toString('hex')}`;
    const email = unique('hal');
    idp.accounts.set(sub, { email, email_verified: true, name: 'Hal' });
    const c = new TestClient(gh.url);
    assert.equal((await idpLogin(c, await c.get('/auth/oauth/corp/start'), sub)).status, 303);
    const user = (await gh.store.findUserByEmail(email))!;
    assert.equal(user.passwordHash, null, 'the IdP made a passwordless account');

    // Older than ten minutes: the form gives way to "Sign in again", and a posted change is refused.
    const sessionId = gh.sessions.idOf(c.cookies.get('gatehouse_session')!)!;
    const session = (await gh.store.findSession(sessionId))!;
    await gh.store.deleteSession(sessionId);
    await gh.store.createSession({ ...session, createdAt: new Date(Date.now() - 11 * 60_000) });
    const stale = await accountForm(c);
    assert.match(stale.html, /Moving your account to another address needs a sign-in within the last 10 minutes/);
    assert.doesNotMatch(stale.html, /name="new_email"/);
    const staleNext = unique('hal-stale');
    const refused = await c.post('/auth/account/email', { new_email: staleNext, csrf: stale.csrf });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /needs a sign-in within the last 10 minutes/);

    // Fresh: no password field, and the change goes through the mailed link as for everyone.
    await gh.store.deleteSession(sessionId);
    await gh.store.createSession({ ...session, createdAt: new Date() });
    const { html, csrf } = await accountForm(c);
    assert.match(html, /name="new_email"/);
    assert.doesNotMatch(html, /id="email_password"/, 'there is no password to ask for');
    const next = unique('hal-new');
    const asked = await c.post('/auth/account/email', { new_email: next, csrf });
    assert.equal(asked.status, 200, asked.text);
    assert.match(asked.text, /a link is on its way/);
    const link = changeLink((await smtp.waitFor(next)).text);
    const look = await c.get(link.pathname + link.search);
    assert.equal((await c.post(link.pathname + link.search, { csrf: csrfFrom(look.text) })).status, 200);
    assert.equal((await gh.store.findUserById(user.id))!.email, next);
    assert.equal(smtp.messages.filter((m) => m.to === staleNext).length, 0, 'the refused request sent nothing');
  });
});
