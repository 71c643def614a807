// The remote CLI against a `gatehouse serve` subprocess (architecture.md#devices): login checks the token and keeps
// {url, token} in $GATEHOUSE_CONFIG_DIR/credentials.json (0600 in a 0700 directory); `--remote URL users
// list` prints exactly what the local command prints; changes land in the server's store; a member's
// token is refused with a sentence and not kept; logout revokes the token and forgets it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { openStore } from '../../src/store/open.js';
import { createApiKeyService } from '../../src/session/api-keys.js';
import type { Store } from '../../src/store/types.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('gatehouse --remote', () => {
  const home = tempHome();
  const cfg = join(home.home, 'config', 'gatehouse'); // not there yet: login makes it
  const env = { GATEHOUSE_HOME: home.home, GATEHOUSE_CONFIG_DIR: cfg };
  let serve: Awaited<ReturnType<typeof spawnServe>>;
  let store: Store;
  let adminToken: string;
  let memberToken: string;

  before(async () => {
    serve = await spawnServe([], { GATEHOUSE_HOME: home.home });
    store = await openStore(`sqlite:${join(home.home, 'local.main.sqlite')}`);
    await store.migrate();
    const admin = await store.createUser(
      { email: 'ops@example.com', name: 'Ops Admin', role: 'admin', passwordHash: null, emailVerified: true },
      new Date(),
    );
    const member = await store.createUser(
      { email: 'dev@example.com', name: 'Dev Member', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    const keys = createApiKeyService(store);
    adminToken = (await keys.issue(admin, 'ops laptop', 'admin', null)).token;
    memberToken = (await keys.issue(member, 'dev laptop', 'member', null)).token;
  });
  after(async () => {
    await serve?.stop();
    await store?.close();
    home.cleanup();
  });

  it('logs in with an admin token into a 0600 file in a 0700 directory', async () => {
    const r = await runCli(['login', '--remote', `${serve.url}/some/page`, '--token', adminToken], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ logged in to http:\/\/127\.0\.0\.1:\d+ as ops@example\.com \(admin\)/);
    assert.equal(mode(cfg), 0o700);
    const file = join(cfg, 'credentials.json');
    assert.equal(mode(file), 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { remotes: [{ url: serve.url, token: adminToken }] });
  });

  it('acts on that server with the same output as the local command', async () => {
    const remote = await runCli(['--remote', serve.url, 'users', 'list'], env);
    const local = await runCli(['users', 'list'], env);
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout, local.stdout);
    assert.match(remote.stdout, /ops@example\.com +admin +active +Ops Admin/);
    const remoteJson = await runCli(['--remote', serve.url, 'users', 'list', '--json'], env);
    assert.deepEqual(
      JSON.parse(remoteJson.stdout),
      JSON.parse((await runCli(['users', 'list', '--json'], env)).stdout),
    );

    const disabled = await runCli(['--remote', serve.url, 'users', 'disable', 'dev@example.com'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal((await store.findUserByEmail('dev@example.com'))!.disabled, true, "in the server's store");
    assert.equal((await runCli(['--remote', serve.url, 'users', 'enable', 'dev@example.com'], env)).code, 0);

    const made = await runCli(
      [
        '--remote',
        serve.url,
        'keys',
        'create',
        '--user',
        'dev@example.com',
        '--name',
        'etl',
        '--scopes',
        'reports:read',
      ],
      env,
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /scopes reports:read/);
    const keys = await runCli(['--remote', serve.url, 'keys', 'list'], env);
    assert.match(keys.stdout, /etl {2}member {2}\[reports:read\] {2}active/);
    assert.match((await runCli(['--remote', serve.url, 'access', 'list'], env)).stdout, /no access rules/);

    const missing = await runCli(['--remote', serve.url, 'users', 'show', 'nobody@example.com'], env);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), `gatehouse: ${serve.url} refused: There is no user nobody@example.com.`);
  });

  it("refuses a member's token with a clear 403 sentence and keeps nothing", async () => {
    const r = await runCli(['login', '--remote', serve.url, '--token', memberToken], env);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `gatehouse: ${serve.url} refused: dev@example.com is not an administrator: the admin API needs an admin's token or session.`,
    );
    assert.ok(!readFileSync(join(cfg, 'credentials.json'), 'utf8').includes(memberToken));
    const res = await request(`${serve.url}/auth/api/v1/users`, {
      headers: { authorization: `Bearer ${memberToken}` },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(((await res.body.json()) as { error: string }).error, 'forbidden');
  });

  it('logout revokes the token and forgets the server; then --remote asks for a login', async () => {
    const r = await runCli(['logout', '--remote', serve.url], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /the token is revoked/);
    assert.deepEqual(JSON.parse(readFileSync(join(cfg, 'credentials.json'), 'utf8')), { remotes: [] });
    assert.equal(mode(join(cfg, 'credentials.json')), 0o600);
    const res = await request(`${serve.url}/auth/api/v1/me`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(res.statusCode, 401);
    await res.body.dump();
    const after = await runCli(['--remote', serve.url, 'users', 'list'], env);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /not logged in to http:\/\/127\.0\.0\.1:\d+: run `gatehouse login --remote/);
    assert.equal((await runCli(['login', '--remote', 'ftp://x'], env)).code, 2);
    // An admin token is never sent in clear beyond this machine: a usage error before any request.
    const clear = await runCli(['login', '--remote', 'http://gatehouse.example', '--token', adminToken], env);
    assert.equal(clear.code, 2);
    assert.match(
      clear.stderr,
      /--remote http:\/\/gatehouse\.example would send an admin token in clear: use https:\/\//,
    );
    assert.equal((await runCli(['--remote', 'http://10.1.2.3:8080', 'users', 'list'], env)).code, 2);
    assert.deepEqual(JSON.parse(readFileSync(join(cfg, 'credentials.json'), 'utf8')), { remotes: [] }, 'nothing kept');
    // Without --token, login runs the device grant: test/ops/remote-device-login.test.ts.
  });
});
