// The console's access pages over HTTP: a user's groups (add and remove with CSRF, audited, forwarded
// within 2 s), and the rules in force with the same explanation `gatehouse access test` prints.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, withGatehouse } from '../support/gatehouse.js';
import { TestClient, csrfFrom } from '../support/client.js';
import { updateState } from '../../src/config/state.js';

const { gh, upstream } = withGatehouse({ upstream: true });
let admin: TestClient;
let member: TestClient;
let memberId: string;

async function until(what: string, check: () => Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('admin console: groups and access rules', () => {
  before(async () => {
    admin = new TestClient(gh.url);
    assert.equal(
      (await admin.signUp('root@example.com', 'the admin password', 'Root', { setup: gh.setupToken! })).status,
      303,
    );
    member = new TestClient(gh.url);
    await member.signUp('member@example.com', 'the member password', 'Member');
    memberId = JSON.parse((await member.get('/auth/me')).text).id;
    updateState({ home: gh.home, server: 'local', profile: 'main' }, (s) => ({
      ...s!,
      access: [
        { pattern: '/finance/*', allow: ['group:finance'] },
        { pattern: '/healthz', public: true },
      ],
    }));
    gh.reload();
  });

  it("adds and removes a user's groups, and the app sees them within 2 s", async () => {
    const groupsUrl = `/auth/admin/users/${encodeURIComponent(memberId)}/groups`;
    assert.match(
      (await admin.get('/auth/admin')).text,
      new RegExp(`href="${groupsUrl}"`),
      "linked from the user's row",
    );
    const page = await admin.get(groupsUrl);
    assert.equal(page.status, 200);
    assert.match(page.text, /No groups yet/);
    assert.equal((await member.get('/finance/q3', { accept: 'application/json' })).status, 403);
    const added = await admin.post(`${groupsUrl}/add`, { csrf: csrfFrom(page.text), group: 'Finance' });
    assert.equal(added.status, 303);
    const after = await admin.get(String(added.headers.location));
    assert.match(after.text, /Added to finance\./);
    assert.deepEqual((await gh.store.findUserById(memberId))!.groups, ['finance']);
    await until(
      'the gate sees the group',
      async () => (await member.get('/finance/q3', { accept: 'application/json' })).status === 200,
      4000,
    );
    assert.equal(
      [...upstream.requests].reverse().find((r) => r.url === '/finance/q3')!.headers['x-forwarded-groups'],
      'finance',
    );
    assert.ok(
      gh.auditLines.some((l) => l.includes('"admin.action"') && l.includes(`groups +finance ${memberId}`)),
      'audited',
    );
    // Removing asks first: the list links to a confirm page, which changes nothing by itself.
    const confirmHref = /href="([^"]*groups\/remove\?group=finance)"/.exec(after.text)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(confirmHref, 'a Remove link per group');
    const confirm = await admin.get(confirmHref);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Remove from group/);
    assert.match(confirm.text, /stop letting/);
    assert.deepEqual((await gh.store.findUserById(memberId))!.groups, ['finance'], 'looking removes nothing');
    assert.equal((await admin.get(`${groupsUrl}/remove?group=nope`)).status, 404, 'not a group of theirs');
    const removed = await admin.post(`${groupsUrl}/remove`, { csrf: csrfFrom(confirm.text), group: 'finance' });
    assert.equal(removed.status, 303);
    assert.deepEqual((await gh.store.findUserById(memberId))!.groups, []);
    assert.equal((await member.get(confirmHref)).status, 403, 'members do not reach the confirm page');
  });

  it('refuses a bad group name, a form without a token, and a member', async () => {
    const groupsUrl = `/auth/admin/users/${encodeURIComponent(memberId)}/groups`;
    const csrf = csrfFrom((await admin.get(groupsUrl)).text);
    const bad = await admin.post(`${groupsUrl}/add`, { csrf, group: '<script>x</script>' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /A group name is/);
    assert.doesNotMatch(bad.text, /<script>x/, 'escaped');
    assert.equal((await admin.post(`${groupsUrl}/add`, { group: 'ops' })).status, 403, 'no CSRF token');
    assert.equal(
      (await member.post(`${groupsUrl}/add`, { csrf: await member.csrf('/auth/account'), group: 'ops' })).status,
      403,
    );
    assert.equal((await member.get(groupsUrl)).status, 403);
    assert.equal((await member.get('/auth/admin/access')).status, 403);
    assert.deepEqual((await gh.store.findUserById(memberId))!.groups, []);
    assert.equal((await admin.get('/auth/admin/users/no-such-user/groups')).status, 404);
    // A forged notice: only the two fixed sentences, about a valid group name, are ever shown.
    assert.doesNotMatch(
      (await admin.get(`${groupsUrl}?done=add&group=${encodeURIComponent('you were hacked')}`)).text,
      /hacked/,
    );
  });

  it('shows the rules in force and explains a request exactly as `access test` does', async () => {
    const list = await admin.get('/auth/admin/access');
    assert.equal(list.status, 200);
    assert.match(list.text, /\/finance\/\*<\/code><\/td><td>allow group:finance/);
    assert.match(list.text, /\/healthz<\/code><\/td><td>public/);
    const page = (
      await admin.post('/auth/admin/access', {
        csrf: csrfFrom(list.text),
        as: 'member@example.com',
        method: 'POST',
        path: '/finance/q3',
      })
    ).text;
    const cli = await runCli(['access', 'test', 'POST', '/finance/q3', '--as', 'member@example.com'], {
      GATEHOUSE_HOME: gh.home,
    });
    assert.equal(cli.code, 0, cli.stderr);
    const [headline, reason] = cli.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim());
    assert.match(headline!, /^DENIED \(403\)/);
    const escape = (s: string) =>
      s
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&#34;')
        .replace(/'/g, '&#39;');
    assert.ok(page.includes(escape(headline!)), `the page shows "${headline}"`);
    assert.ok(page.includes(escape(reason!)), `the page shows "${reason}"`);
    const unknown = await admin.post('/auth/admin/access', {
      csrf: csrfFrom(list.text),
      as: 'nobody@example.com',
      method: 'GET',
      path: '/',
    });
    assert.match(unknown.text, /There is no user with that email/);
    assert.equal(
      (await admin.post('/auth/admin/access', { as: 'member@example.com', method: 'GET', path: '/' })).status,
      403,
      'no CSRF token',
    );
  });
});
