// The admin console: only admins get in; disabling a user ends their sessions at once.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';

const { gh } = withGatehouse({ upstream: true });
let admin: TestClient;
let member: TestClient;
let memberId: string;

describe('admin console', () => {
  // Inside the describe: node 20 runs a file's top-level before() hooks concurrently, and this one
  // needs withGatehouse's to have finished.
  before(async () => {
    admin = new TestClient(gh.url);
    assert.equal(
      (await admin.signUp('root@example.com', 'the admin password', 'Root', { setup: gh.setupToken! })).status,
      303,
    );
    member = new TestClient(gh.url);
    await member.signUp('member@example.com', 'the member password', 'Member');
    memberId = JSON.parse((await member.get('/auth/me')).text).id;
  });

  it('is for admins only', async () => {
    assert.equal((await new TestClient(gh.url).get('/auth/admin')).status, 302);
    assert.equal((await member.get('/auth/admin')).status, 403);
    const page = await admin.get('/auth/admin');
    assert.equal(page.status, 200);
    assert.match(page.text, /member@example\.com/);
  });

  it('refuses a member posting admin actions, and forms without a token', async () => {
    const csrf = await member.csrf('/auth/account');
    assert.equal((await member.post(`/auth/admin/users/${memberId}/make-admin`, { csrf })).status, 403);
    assert.equal((await admin.post(`/auth/admin/users/${memberId}/make-admin`, {})).status, 403);
    assert.equal((await gh.store.findUserById(memberId))!.role, 'member');
  });

  it('disables a user and ends their sessions at once, then enables them again', async () => {
    assert.equal((await member.get('/echo')).status, 200);
    const csrf = await admin.csrf('/auth/account'); /* the console's own forms are behind confirm pages */
    assert.equal((await admin.post(`/auth/admin/users/${memberId}/disable`, { csrf })).status, 303);
    assert.equal((await member.get('/echo', { accept: 'application/json' })).status, 401);
    assert.equal((await new TestClient(gh.url).signIn('member@example.com', 'the member password')).status, 401);
    assert.equal((await admin.post(`/auth/admin/users/${memberId}/enable`, { csrf })).status, 303);
    assert.equal((await new TestClient(gh.url).signIn('member@example.com', 'the member password')).status, 303);
    assert.ok(gh.auditLines.some((l) => l.includes('"admin.action"') && l.includes(`disable ${memberId}`)));
  });

  it('will not let an admin disable themselves', async () => {
    const me = JSON.parse((await admin.get('/auth/me')).text).id;
    const csrf = await admin.csrf('/auth/account'); /* the console's own forms are behind confirm pages */
    assert.equal((await admin.post(`/auth/admin/users/${me}/disable`, { csrf })).status, 400);
    assert.equal((await admin.get('/auth/me')).status, 200);
  });
});
