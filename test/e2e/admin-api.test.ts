// The admin API (architecture.md#devices) over real sockets: an admin's token (API key or personal token) or an admin
// session with CSRF; a member's token gets 403 with a sentence; every error is {"error", "message"}
// with a stable code; users, groups, keys, sessions and access rules.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { updateState } from '../../src/config/state.js';

const { gh } = withGatehouse({ upstream: true });
const PASSWORD = 'a long enough password';

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${gh.url}/auth/api/v1${path}`, {
    method: method as 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) as Record<string, any> };
}

describe('admin API', () => {
  let admin: string;
  let member: string;
  let adminBrowser: TestClient;
  before(async () => {
    adminBrowser = new TestClient(gh.url);
    await adminBrowser.signUp('api-admin@example.com', PASSWORD, 'API Admin', { setup: gh.setupToken! });
    await new TestClient(gh.url).signUp('api-member@example.com', PASSWORD, 'API Member');
    admin = (
      await gh.apiKeys.issue((await gh.store.findUserByEmail('api-admin@example.com'))!, 'ops laptop', 'admin', null)
    ).token;
    member = (
      await gh.apiKeys.issue((await gh.store.findUserByEmail('api-member@example.com'))!, 'mine', 'member', null)
    ).token;
  });

  it('answers an admin token; refuses a member token with 403 and a sentence, no token 401, a bad token 401', async () => {
    const me = await call('GET', '/me', { token: admin });
    assert.equal(me.status, 200);
    assert.deepEqual([me.json.email, me.json.role, me.json.via], ['api-admin@example.com', 'admin', 'token']);
    const users = await call('GET', '/users', { token: admin });
    assert.equal(users.status, 200);
    assert.deepEqual(
      users.json.users.map((u: { email: string }) => u.email),
      ['api-admin@example.com', 'api-member@example.com'],
    );
    assert.equal(users.json.total, 2);

    const refused = await call('GET', '/users', { token: member });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error, 'forbidden');
    assert.equal(
      refused.json.message,
      "api-member@example.com is not an administrator: the admin API needs an admin's token or session.",
    );
    assert.equal((await call('POST', '/users/api-admin@example.com/disable', { token: member })).status, 403);
    assert.equal((await gh.store.findUserByEmail('api-admin@example.com'))!.disabled, false, 'nothing changed');

    const none = await call('GET', '/users');
    assert.equal(none.status, 401);
    assert.equal(none.json.error, 'unauthenticated');
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    const bad = await call('GET', '/users', { token: 'ghk_AAAAAAAAAAAA_' + 'B'.repeat(43) });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error, 'unauthenticated');
    const adminUser = (await gh.store.findUserByEmail('api-admin@example.com'))!;
    const narrow = await gh.apiKeys.issue(adminUser, 'reports job', 'admin', null, ['reports:read']);
    const scoped = await call('GET', '/users', { token: narrow.token });
    assert.deepEqual([scoped.status, scoped.json.error], [403, 'forbidden'], 'a scoped key is for its scopes only');
    assert.match(scoped.json.message, /limited to reports:read/);
    const wide = await gh.apiKeys.issue(adminUser, 'ops job', 'admin', null, ['gatehouse:admin']);
    assert.equal((await call('GET', '/users', { token: wide.token })).status, 200);
    const unknown = await call('GET', '/nothing-here', { token: admin });
    assert.deepEqual([unknown.status, unknown.json.error], [404, 'not_found']);
  });

  it('disables, enables, sets roles and groups; JSON errors for bad input and unknown users', async () => {
    const off = await call('POST', '/users/api-member@example.com/disable', { token: admin });
    assert.equal(off.status, 200);
    assert.equal(off.json.disabled, true);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await call('GET', '/me', { token: member })).status, 401, "a disabled owner's token stops");
    assert.equal((await call('POST', '/users/api-member@example.com/enable', { token: admin })).json.disabled, false);
    const role = await call('POST', '/users/api-member@example.com/role', { token: admin, body: { role: 'operator' } });
    assert.deepEqual([role.status, role.json.role], [200, 'operator']);
    const badRole = await call('POST', '/users/api-member@example.com/role', { token: admin, body: { role: 'Root!' } });
    assert.deepEqual([badRole.status, badRole.json.error], [400, 'bad_request']);
    const notJson = await call('POST', '/users/api-member@example.com/role', {
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: undefined,
    });
    assert.deepEqual(
      [notJson.status, notJson.json.error],
      [400, 'bad_request'],
      'an empty JSON body: a sentence, not a stack trace',
    );
    const groups = await call('POST', '/users/api-member@example.com/groups', {
      token: admin,
      body: { add: ['ops', 'finance'] },
    });
    assert.deepEqual(groups.json.groups, ['finance', 'ops']);
    assert.deepEqual((await call('GET', '/groups', { token: admin })).json.groups, [
      { name: 'finance', members: ['api-member@example.com'] },
      { name: 'ops', members: ['api-member@example.com'] },
    ]);
    const missing = await call('GET', '/users/nobody@example.com', { token: admin });
    assert.deepEqual(
      [missing.status, missing.json.error, missing.json.message],
      [404, 'not_found', 'There is no user nobody@example.com.'],
    );
    const self = await call('POST', '/users/api-admin@example.com/disable', { token: admin });
    assert.deepEqual([self.status, self.json.error], [400, 'bad_request']);
  });

  it('lists, creates and revokes keys (scopes included), lists and ends sessions, reads access rules', async () => {
    const made = await call('POST', '/keys', {
      token: admin,
      body: { user: 'api-member@example.com', name: 'etl', scopes: ['reports:read'], expires: '30d' },
    });
    assert.equal(made.status, 201);
    assert.match(made.json.token, /^ghk_/);
    assert.deepEqual(made.json.key.scopes, ['reports:read']);
    assert.equal(made.json.key.hash, undefined, 'never the hash');
    const keys = await call('GET', '/keys?user=api-member@example.com', { token: admin });
    assert.ok(keys.json.keys.some((k: { id: string }) => k.id === made.json.key.id));
    assert.ok(!JSON.stringify(keys.json).includes(made.json.token.slice(17)), 'never a secret');
    assert.equal((await call('POST', `/keys/${made.json.key.id}/revoke`, { token: admin })).status, 200);
    assert.equal((await call('POST', `/keys/${made.json.key.id}/revoke`, { token: admin })).json.error, 'not_found');
    const badScopes = await call('POST', '/keys', {
      token: admin,
      body: { user: 'api-member@example.com', name: 'x', scopes: 'a"b' },
    });
    assert.deepEqual([badScopes.status, badScopes.json.error], [400, 'bad_request']);

    const sessions = await call('GET', '/users/api-admin@example.com/sessions', { token: admin });
    assert.equal(sessions.json.sessions.length, 1);
    assert.equal(sessions.json.sessions[0].id, undefined);

    updateState({ home: gh.home, server: 'local', profile: 'main' }, (s) => ({
      ...s!,
      access: [{ pattern: '/reports/*', allow: ['scope:reports:read'] }],
    }));
    gh.reload();
    const access = await call('GET', '/access', { token: admin });
    assert.deepEqual(access.json.rules, [{ pattern: '/reports/*', allow: ['scope:reports:read'] }]);
  });

  it('lists OAuth clients with whom they act for, and revokes one for everyone; a member may not', async () => {
    // The device grant's built-in client gets its row on first use, with a grant once a token exists.
    const asked = await request(`${gh.url}/auth/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=gatehouse-cli',
    });
    assert.equal(asked.statusCode, 200, await asked.body.text());
    const listed = await call('GET', '/oauth/clients', { token: admin });
    assert.equal(listed.status, 200);
    const cli = listed.json.clients.find((c: { id: string }) => c.id === 'gatehouse-cli');
    assert.ok(cli, JSON.stringify(listed.json));
    assert.equal(cli.kind, 'builtin');
    assert.deepEqual(cli.grants, []);
    assert.equal((await call('GET', '/oauth/clients', { token: member })).status, 403);
    assert.equal((await call('POST', '/oauth/clients/gatehouse-cli/revoke', { token: member })).status, 403);
    assert.equal((await call('POST', '/oauth/clients/gatehouse-cli/revoke', { token: admin })).status, 200);
    assert.ok(
      !(await call('GET', '/oauth/clients', { token: admin })).json.clients.some(
        (c: { id: string }) => c.id === 'gatehouse-cli',
      ),
      'gone for everyone',
    );
    const again = await call('POST', '/oauth/clients/gatehouse-cli/revoke', { token: admin });
    assert.deepEqual([again.status, again.json.error], [404, 'not_found']);
  });

  it('takes an admin session for reads; a change made with it needs the CSRF token, from the same origin', async () => {
    const cookie = adminBrowser.cookieHeader()!;
    const me = await call('GET', '/me', { headers: { cookie } });
    assert.deepEqual([me.status, me.json.via], [200, 'session']);
    const forged = await call('POST', '/users/api-member@example.com/groups', {
      headers: { cookie, origin: gh.url },
      body: { add: ['pwned'] },
    });
    assert.deepEqual([forged.status, forged.json.error], [403, 'csrf']);
    const { csrf } = JSON.parse(
      (await adminBrowser.send('GET', '/auth/api/v1/csrf', { headers: { accept: 'application/json' } })).text,
    ) as { csrf: string };
    const cross = await call('POST', '/users/api-member@example.com/groups', {
      headers: { cookie: adminBrowser.cookieHeader()!, origin: 'https://evil.example', 'x-csrf-token': csrf },
      body: { add: ['pwned'] },
    });
    assert.deepEqual([cross.status, cross.json.error], [403, 'csrf']);
    const ok = await call('POST', '/users/api-member@example.com/groups', {
      headers: { cookie: adminBrowser.cookieHeader()!, origin: gh.url, 'x-csrf-token': csrf },
      body: { remove: ['finance'] },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.groups, ['ops']);
    const memberBrowser = new TestClient(gh.url);
    await memberBrowser.signIn('api-member@example.com', PASSWORD);
    const refused = await call('GET', '/users', { headers: { cookie: memberBrowser.cookieHeader()! } });
    assert.deepEqual([refused.status, refused.json.error], [403, 'forbidden']);
  });
});
