// `gatehouse login --remote URL` without --token (architecture.md#devices): the device grant end to end, the CLI and
// `gatehouse serve` both real subprocesses. The CLI prints the verification link and the code, an admin
// signed in with a browser-like client approves, the CLI keeps {url, token} exactly as the --token
// path does (0600 file), `--remote URL users list` works with it, and `logout` revokes it on the
// server. A member who approves gets a clear 403 sentence and nothing is kept (the token is revoked).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import Database from 'better-sqlite3';
import { REPO, runCli, spawnServe, tempHome, type CliResult } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { openStore } from '../../src/store/open.js';
import { createPasswordHasher } from '../../src/security/password.js';
import type { Store } from '../../src/store/types.js';

const PASSWORD = 'a long enough password';

/** Starts `gatehouse login`, hands over the verification link it prints, and resolves when it exits. */
function loginInBackground(
  args: string[],
  env: Record<string, string>,
): { link: Promise<string>; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [join(REPO, 'bin/gatehouse.js'), 'login', ...args], {
    env: { ...process.env, ...env },
    cwd: REPO,
  });
  let stdout = '';
  let stderr = '';
  let gotLink: (url: string) => void;
  const link = new Promise<string>((r) => (gotLink = r));
  child.stdout.on('data', (d) => {
    stdout += d;
    const m = /open (http:\/\/\S+)/.exec(stdout);
    if (m) gotLink(m[1]!);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { link, done };
}

async function approveAs(c: TestClient, link: string, decision = 'approve') {
  const u = new URL(link);
  const page = await c.get(u.pathname + u.search);
  assert.equal(page.status, 200, page.text);
  return c.post('/auth/device/decide', {
    csrf: csrfFrom(page.text),
    user_code: /name="user_code" value="([A-Z-]+)"/.exec(page.text)![1]!,
    decision,
  });
}

describe('gatehouse login --remote (device grant)', () => {
  const home = tempHome();
  const cfg = join(home.home, 'config', 'gatehouse');
  const env = { GATEHOUSE_HOME: home.home, GATEHOUSE_CONFIG_DIR: cfg };
  let serve: Awaited<ReturnType<typeof spawnServe>>;
  let store: Store;
  let admin: TestClient;
  let member: TestClient;

  before(async () => {
    serve = await spawnServe([], { GATEHOUSE_HOME: home.home });
    store = await openStore(`sqlite:${join(home.home, 'local.main.sqlite')}`);
    await store.migrate();
    const passwordHash = await createPasswordHasher().hash(PASSWORD);
    await store.createUser(
      { email: 'ops@example.com', name: 'Ops Admin', role: 'admin', passwordHash, emailVerified: true },
      new Date(),
    );
    await store.createUser(
      { email: 'dev@example.com', name: 'Dev Member', role: 'member', passwordHash, emailVerified: true },
      new Date(),
    );
    admin = new TestClient(serve.url);
    member = new TestClient(serve.url);
    assert.equal((await admin.signIn('ops@example.com', PASSWORD)).status, 303);
    assert.equal((await member.signIn('dev@example.com', PASSWORD)).status, 303);
  });
  after(async () => {
    await serve?.stop();
    await store?.close();
    home.cleanup();
  });

  it('prints the link and code, an admin approves, and {url, token} is kept as with --token; logout revokes it', async () => {
    const login = loginInBackground(['--remote', serve.url], env);
    const link = await login.link;
    assert.match(link, new RegExp(`^${serve.url}/auth/device\\?user_code=[A-Z]{4}-[A-Z]{4}$`));
    assert.equal((await approveAs(admin, link)).status, 200);
    const r = await login.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /enter the code [A-Z]{4}-[A-Z]{4}/);
    assert.match(r.stdout, /✓ logged in to http:\/\/127\.0\.0\.1:\d+ as ops@example\.com \(admin\)/);
    const file = join(cfg, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const { remotes } = JSON.parse(readFileSync(file, 'utf8')) as { remotes: Array<{ url: string; token: string }> };
    assert.equal(remotes.length, 1);
    assert.equal(remotes[0]!.url, serve.url);
    assert.match(remotes[0]!.token, /^ghat_/);

    const users = await runCli(['--remote', serve.url, 'users', 'list'], env);
    assert.equal(users.code, 0, users.stderr);
    assert.match(users.stdout, /ops@example\.com +admin/);

    const out = await runCli(['logout', '--remote', serve.url], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /the token is revoked/);
    const dead = await request(`${serve.url}/auth/api/v1/me`, {
      headers: { authorization: `Bearer ${remotes[0]!.token}` },
    });
    await dead.body.text();
    assert.equal(dead.statusCode, 401);
  });

  it('renews an expired access token with its refresh token, keeps the new pair, and logout ends the grant', async () => {
    const login = loginInBackground(['--remote', serve.url], env);
    await approveAs(admin, await login.link);
    assert.equal((await login.done).code, 0);
    const file = join(cfg, 'credentials.json');
    const before = (
      JSON.parse(readFileSync(file, 'utf8')) as { remotes: Array<{ token: string; refreshToken?: string }> }
    ).remotes[0]!;
    assert.match(before.refreshToken ?? '', /^ghrt_/);
    // An hour later, as far as the server knows: every access token has expired (its cache re-asks within 2 s).
    const db = new Database(join(home.home, 'local.main.sqlite'));
    db.prepare(`UPDATE gatehouse_oauth_tokens SET expires_at = 0 WHERE kind = 'access'`).run();
    db.close();
    await new Promise((r) => setTimeout(r, 2_100));
    const stale = await request(`${serve.url}/auth/api/v1/me`, {
      headers: { authorization: `Bearer ${before.token}` },
    });
    await stale.body.text();
    assert.equal(stale.statusCode, 401, 'the old access token is refused');

    const users = await runCli(['--remote', serve.url, 'users', 'list'], env);
    assert.equal(users.code, 0, users.stderr);
    assert.match(users.stdout, /ops@example\.com +admin/);
    const after = (
      JSON.parse(readFileSync(file, 'utf8')) as { remotes: Array<{ token: string; refreshToken?: string }> }
    ).remotes[0]!;
    assert.notEqual(after.token, before.token);
    assert.notEqual(after.refreshToken, before.refreshToken, 'the refresh token rotated and the new one is kept');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const out = await runCli(['logout', '--remote', serve.url], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /the token is revoked/);
    const dead = await request(`${serve.url}/auth/api/v1/me`, { headers: { authorization: `Bearer ${after.token}` } });
    await dead.body.text();
    assert.equal(dead.statusCode, 401, 'logout ended the grant, the renewed access token with it');
  });

  it('says to log in again when the refresh token is gone too', async () => {
    const login = loginInBackground(['--remote', serve.url], env);
    await approveAs(admin, await login.link);
    assert.equal((await login.done).code, 0);
    const db = new Database(join(home.home, 'local.main.sqlite'));
    db.prepare(`UPDATE gatehouse_oauth_tokens SET expires_at = 0 WHERE kind IN ('access', 'refresh')`).run();
    db.close();
    await new Promise((r) => setTimeout(r, 2_100));
    const r = await runCli(['--remote', serve.url, 'users', 'list'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no longer accepts this login.*gatehouse login --remote/);
    await runCli(['logout', '--remote', serve.url], env);
  });

  it('a member who approves gets a clear 403 sentence, and nothing is kept; a denial says so', async () => {
    const login = loginInBackground(['--remote', serve.url], env);
    await approveAs(member, await login.link);
    const r = await login.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /dev@example\.com is not an administrator/);
    assert.equal(
      existsSync(join(cfg, 'credentials.json'))
        ? JSON.parse(readFileSync(join(cfg, 'credentials.json'), 'utf8')).remotes.length
        : 0,
      0,
    );

    const denied = loginInBackground(['--remote', serve.url], env);
    await approveAs(admin, await denied.link, 'deny');
    const d = await denied.done;
    assert.equal(d.code, 1);
    assert.match(d.stderr, /denied in the browser/);
  });
});
