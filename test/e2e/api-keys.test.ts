// API keys: accepted as a bearer token, forwarded as provider "api-key" without the Authorization
// header, refused when revoked, expired, forged, or when the owner is disabled. Also through the CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';

const { gh, upstream } = withGatehouse({ upstream: true });

const api = (token: string, path = '/api/data') =>
  new TestClient(gh.url).get(path, { accept: 'application/json', authorization: `Bearer ${token}` });

describe('API keys', () => {
  it('authenticate a script and never reach the app as a header', async () => {
    const c = new TestClient(gh.url);
    await c.signUp('script-owner@example.com', 'a long enough password');
    const user = (await gh.store.findUserByEmail('script-owner@example.com'))!;
    const { token } = await gh.apiKeys.issue(user, 'ci', 'admin', null);
    upstream.clear();
    const r = await api(token);
    assert.equal(r.status, 200);
    const seen = upstream.requests[0]!;
    assert.equal(seen.headers['x-forwarded-provider'], 'api-key');
    assert.equal(seen.headers['x-forwarded-user'], user.id);
    assert.equal(seen.headers['x-forwarded-role'], 'member', 'a member cannot mint an admin key');
    assert.equal(seen.headers.authorization, undefined);
    const me = JSON.parse((await api(token, '/auth/me')).text);
    assert.equal(me.provider, 'api-key');
    // A key never manages the account and never gets a cookie session.
    const account = await new TestClient(gh.url).get('/auth/account', { authorization: `Bearer ${token}` });
    assert.equal(account.status, 302);
    assert.ok(
      !([] as string[]).concat(account.headers['set-cookie'] ?? []).some((l) => l.startsWith('gatehouse_session')),
    );
    // Only as a bearer token: the same key in the query string is not accepted.
    assert.equal(
      (await new TestClient(gh.url).get(`/api/data?access_token=${token}`, { accept: 'application/json' })).status,
      401,
    );
  });

  it('are refused when forged, revoked, expired, or the owner is disabled; the app sees nothing', async () => {
    const c = new TestClient(gh.url);
    await c.signUp('keys2@example.com', 'a long enough password');
    const user = (await gh.store.findUserByEmail('keys2@example.com'))!;
    const good = await gh.apiKeys.issue(user, 'a', 'member', null);
    const forged = good.token.slice(0, -4) + 'AAAA';
    upstream.clear();
    assert.equal((await api(forged)).status, 401);
    assert.equal((await api('ghk_notakey')).status, 401);
    assert.equal((await api(good.token)).status, 200);
    await gh.apiKeys.revoke(good.key.id);
    assert.equal((await api(good.token)).status, 401);

    const expiring = await gh.apiKeys.issue(user, 'b', 'member', new Date(Date.now() - 1000));
    assert.equal((await api(expiring.token)).status, 401);

    const other = await gh.apiKeys.issue(user, 'c', 'member', null);
    assert.equal((await api(other.token)).status, 200);
    await gh.store.updateUser(user.id, { disabled: true }, new Date());
    await new Promise((r) => setTimeout(r, 2100)); // past the 2 s revalidation window
    assert.equal((await api(other.token)).status, 401);
    assert.equal(upstream.requests.length, 2, 'only the two accepted requests reached the app');
  });

  it('are created, listed and revoked with the CLI', async () => {
    const env = { GATEHOUSE_HOME: gh.home };
    const c = new TestClient(gh.url);
    await c.signUp('cli-keys@example.com', 'a long enough password');
    const created = await runCli(
      ['keys', 'create', '--user', 'CLI-Keys@example.com', '--name', 'deploy', '--expires', '30d'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim().split('\n').at(-1)!;
    assert.match(token, /^ghk_/);
    assert.equal((await api(token)).status, 200);
    const list = await runCli(['keys', 'list', '--json'], env);
    const rows = JSON.parse(list.stdout) as Array<{ id: string; name: string }>;
    const id = rows.find((r) => r.name === 'deploy')!.id;
    assert.ok(!list.stdout.includes(token.slice('ghk_'.length + 13)), 'listings never show the secret'); // the secret may itself contain '_'
    assert.equal((await runCli(['keys', 'revoke', id], env)).code, 0);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await api(token)).status, 401);
    const bad = await runCli(['keys', 'create', '--user', 'nobody@example.com', '--name', 'x'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no user/);
    assert.equal((await runCli(['keys', 'create', '--name', 'x'], env)).code, 2);
  });
});
