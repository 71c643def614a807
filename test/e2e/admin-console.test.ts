// The admin console, complete (issue 14 item 8): search, invitations, confirm pages that name their
// target, signed result notices, and the security events from the store — over real HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGatehouse, tempHome, withGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { emptyState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey } from '../../src/config/secrets.js';
import { csrfFrom, TestClient } from '../support/client.js';

const { gh } = withGatehouse({ upstream: true });
let admin: TestClient;
let member: TestClient;
let memberId: string;

const unescape = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"');
const locationOf = (r: { headers: Record<string, string | string[] | undefined> }) => String(r.headers.location);

async function until<T>(probe: () => Promise<T | null | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('admin console, complete', () => {
  before(async () => {
    admin = new TestClient(gh.url);
    assert.equal(
      (await admin.signUp('root@example.com', 'the admin password', 'Root', { setup: gh.setupToken! })).status,
      303,
    );
    member = new TestClient(gh.url);
    await member.signUp('member@example.com', 'the member password', 'Mia Member');
    memberId = JSON.parse((await member.get('/auth/me')).text).id;
    for (const [email, name] of [
      ['alice.search@example.com', 'Alice Able'],
      ['bob@example.com', 'Bob Search-Person'],
      ['carol@example.com', 'Carol'],
    ]) {
      await new TestClient(gh.url).signUp(email!, 'a long password', name);
    }
  });

  it('searches users by email or name on the server, keeps the query in the URL, and says when none match', async () => {
    const page = await admin.get('/auth/admin?q=SEARCH');
    assert.equal(page.status, 200);
    assert.match(page.text, /alice\.search@example\.com/);
    assert.match(page.text, /Bob Search-Person/);
    assert.doesNotMatch(page.text, /carol@example\.com/);
    assert.match(page.text, /2 accounts match “SEARCH”/);
    assert.match(page.text, /<input id="q" name="q"[^>]*value="SEARCH"/, 'the query stays in the form');
    const none = await admin.get('/auth/admin?q=nobody-here');
    assert.match(none.text, /No account matches “nobody-here”/);
    const hostile = await admin.get(`/auth/admin?q=${encodeURIComponent('<script>%_')}`);
    assert.equal(hostile.status, 200);
    assert.doesNotMatch(hostile.text, /<script>%_/, 'escaped');
    assert.equal((await member.get('/auth/admin?q=alice')).status, 403);
  });

  it('links the console to the account page', async () => {
    assert.match((await admin.get('/auth/admin')).text, /href="\/auth\/account"/);
  });

  it('creates an invitation (role and expiry) shown once, lists it, and the link signs up with that role', async () => {
    const csrf = await admin.csrf('/auth/admin/invites');
    const made = await admin.post('/auth/admin/invites', {
      csrf,
      email: 'new.admin@example.com',
      role: 'admin',
      expires: '1d',
    });
    assert.equal(made.status, 201);
    const link = unescape(/<code id="invite-link"[^>]*>([^<]+)<\/code>/.exec(made.text)![1]!);
    assert.match(link, /\/auth\/sign-up\?invite=[A-Za-z0-9_-]{20,}&email=new\.admin%40example\.com$/);
    const list = await admin.get('/auth/admin/invites');
    assert.match(list.text, /new\.admin@example\.com/);
    assert.doesNotMatch(list.text, /invite=/, 'the link is shown only once');
    const secret = new URL(link).searchParams.get('invite')!;
    const joined = new TestClient(gh.url);
    assert.equal(
      (await joined.signUp('new.admin@example.com', 'a long password', 'New Admin', { invite: secret })).status,
      303,
    );
    assert.equal((await gh.store.findUserByEmail('new.admin@example.com'))!.role, 'admin');
    assert.doesNotMatch(
      (await admin.get('/auth/admin/invites')).text,
      /new\.admin@example\.com/,
      'used: no longer pending',
    );
  });

  it('refuses a bad invitation with a clear 400, and an address that has an account', async () => {
    const csrf = await admin.csrf('/auth/admin/invites');
    const bad = await admin.post('/auth/admin/invites', { csrf, email: 'not an email', role: 'member', expires: '7d' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /role="alert"/);
    const taken = await admin.post('/auth/admin/invites', {
      csrf,
      email: 'carol@example.com',
      role: 'member',
      expires: '7d',
    });
    assert.equal(taken.status, 400);
    assert.match(taken.text, /already has an account/);
    assert.equal(
      (await admin.post('/auth/admin/invites', { csrf, email: 'x@example.com', role: 'member', expires: '99y' }))
        .status,
      400,
    );
  });

  it('revokes an invitation after a confirm page naming it; the revoked link is refused', async () => {
    let csrf = await admin.csrf('/auth/admin/invites');
    const made = await admin.post('/auth/admin/invites', {
      csrf,
      email: 'revoked@example.com',
      role: 'member',
      expires: '7d',
    });
    const secret = new URL(
      unescape(/<code id="invite-link"[^>]*>([^<]+)<\/code>/.exec(made.text)![1]!),
    ).searchParams.get('invite')!;
    const list = await admin.get('/auth/admin/invites');
    const confirmHref = unescape(
      /href="([^"]+\/revoke)" aria-label="Revoke the invitation for revoked@example\.com"/.exec(list.text)![1]!,
    );
    const confirm = await admin.get(confirmHref);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Revoke this invitation\?/);
    assert.match(confirm.text, /revoked@example\.com/);
    csrf = csrfFrom(confirm.text);
    // A member reaches none of it: not the list, the confirm page, the form or the revocation.
    const mcsrf = await member.csrf('/auth/account');
    assert.equal((await member.get('/auth/admin/invites')).status, 403);
    assert.equal((await member.get(confirmHref)).status, 403);
    assert.equal((await member.post(confirmHref, { csrf: mcsrf })).status, 403);
    assert.equal(
      (
        await member.post('/auth/admin/invites', {
          csrf: mcsrf,
          email: 'sneaky@example.com',
          role: 'admin',
          expires: '7d',
        })
      ).status,
      403,
    );
    assert.equal(
      (await gh.store.listTokens('invite', new Date())).filter((t) => t.email === 'sneaky@example.com').length,
      0,
    );
    const done = await admin.post(confirmHref, { csrf });
    assert.equal(done.status, 303);
    const after = await admin.get(locationOf(done)!);
    assert.match(after.text, /Revoked the invitation for revoked@example\.com/);
    assert.doesNotMatch(after.text, /aria-label="Revoke the invitation for revoked@example\.com"/);
    const refused = await new TestClient(gh.url).signUp('revoked@example.com', 'a long password', 'Late', {
      invite: secret,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /invalid, expired or already used/);
    assert.equal(await gh.store.findUserByEmail('revoked@example.com'), null);
    assert.equal((await admin.post(confirmHref, { csrf })).status, 404, 'twice: already gone');
  });

  it('asks on its own page, naming the target, before signing someone out everywhere, and says what it did', async () => {
    const console = await admin.get('/auth/admin');
    assert.match(console.text, new RegExp(`href="/auth/admin/confirm\\?action=end-sessions&amp;user=${memberId}"`));
    const confirm = await admin.get(`/auth/admin/confirm?action=end-sessions&user=${memberId}`);
    assert.match(confirm.text, /Sign this account out everywhere\?/);
    assert.match(confirm.text, /member@example\.com/);
    const done = await admin.post(`/auth/admin/users/${memberId}/end-sessions`, { csrf: csrfFrom(confirm.text) });
    assert.equal(done.status, 303);
    assert.match((await admin.get(locationOf(done)!)).text, /Signed member@example\.com out everywhere\./);
    assert.equal((await member.get('/auth/me')).status, 401);
    await member.signIn('member@example.com', 'the member password');
    // A notice someone else wrote into a link is not shown.
    const forged = await admin.get('/auth/admin?done=delete&who=ceo%40example.com&sig=abc');
    assert.doesNotMatch(forged.text, /Deleted ceo@example\.com/);
  });

  it('lists security events newest first, with a failed sign-in, filtered by user and event; never a password or token', async () => {
    assert.equal(
      (await new TestClient(gh.url).signIn('carol@example.com', 'wrong password secret-pw-123')).status,
      401,
    );
    await until(
      async () =>
        (await gh.store.listEvents({ limit: 50, offset: 0, event: 'sign-in.failure' })).some(
          (e) => e.email === 'carol@example.com',
        ),
      'the failure event',
    );
    const all = await admin.get('/auth/admin/events');
    assert.equal(all.status, 200);
    assert.match(all.text, /sign-in\.failure/);
    assert.match(all.text, /carol@example\.com/);
    assert.match(all.text, /127\.0\.0\.1/);
    const byUser = await admin.get('/auth/admin/events?user=CAROL%40example.com&event=sign-in.failure');
    assert.match(byUser.text, /carol@example\.com/);
    assert.doesNotMatch(byUser.text, /root@example\.com|member@example\.com/);
    assert.match(byUser.text, /value="CAROL@example\.com"/, 'the filter stays in the form');
    const other = await admin.get('/auth/admin/events?user=carol%40example.com&event=sign-up');
    assert.doesNotMatch(other.text, /sign-in\.failure<\/code>/);
    const none = await admin.get('/auth/admin/events?user=nobody%40example.com');
    assert.match(none.text, /No event matches these filters\./);
    assert.equal((await member.get('/auth/admin/events')).status, 403);
    // No secret in any stored event: passwords tried, invitation links, setup token, session cookies.
    const stored = JSON.stringify(await gh.store.listEvents({ limit: 10_000, offset: 0 }));
    for (const secret of [
      'secret-pw-123',
      'the admin password',
      'the member password',
      'a long password',
      gh.setupToken!,
      'invite=',
    ])
      assert.ok(!stored.includes(secret), `no "${secret}" in events`);
    for (const c of (admin.cookieHeader() ?? '').split('; '))
      assert.ok(!stored.includes(c.split('=')[1]!), 'no session cookie in events');
    // The events page is admin actions' record too: the invitation created and revoked above.
    const invites = await admin.get('/auth/admin/events?event=invite.revoked');
    assert.match(invites.text, /revoked@example\.com/);
  });

  it("shares the events across replicas: a failure on one shows on the other's console", async () => {
    const other = await startTestGatehouse({ home: gh.home }); // same home, same SQLite store
    try {
      assert.equal(
        (await new TestClient(other.url).signIn('alice.search@example.com', 'wrong on the other replica')).status,
        401,
      );
      await until(
        async () =>
          (await gh.store.listEvents({ limit: 5, offset: 0, user: { id: null, email: 'alice.search@example.com' } }))
            .length > 0,
        'the event',
      );
      const page = await admin.get('/auth/admin/events?user=alice.search%40example.com&event=sign-in.failure');
      assert.match(page.text, /sign-in\.failure<\/code> · alice\.search@example\.com/);
    } finally {
      await other.stop();
    }
  });
});

describe('admin console invitations with SMTP bound', () => {
  let smtp: SmtpSink;
  let mailed: TestGatehouse;
  let home: ReturnType<typeof tempHome>;
  before(async () => {
    smtp = await startSmtpSink();
    home = tempHome();
    const state = enableAuth(emptyState(), loadMasterKey(home.home, {}), null);
    state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
    writeState({ home: home.home, server: 'local', profile: 'main' }, state);
    mailed = await startTestGatehouse({ home: home.home });
  });
  after(async () => {
    await mailed.stop();
    home.cleanup();
    await smtp.close();
  });

  it('emails the link it shows once, and the mail holds the same link', async () => {
    const root = new TestClient(mailed.url);
    assert.equal(
      (await root.signUp('root@example.com', 'the admin password', 'Root', { setup: mailed.setupToken! })).status,
      303,
    );
    const made = await root.post('/auth/admin/invites', {
      csrf: await root.csrf('/auth/admin/invites'),
      email: 'mailed@example.com',
      role: 'member',
      expires: '7d',
    });
    assert.equal(made.status, 201);
    assert.match(made.text, /was emailed to them/);
    const link = unescape(/<code id="invite-link"[^>]*>([^<]+)<\/code>/.exec(made.text)![1]!);
    const mail = await smtp.waitFor('mailed@example.com');
    assert.ok(mail.text.includes(link), mail.text);
  });
});
