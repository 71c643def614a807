// What a newcomer sees in the log and at `npm start`: one line per change of state, never one per request.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGatehouse, REPO, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { updateState } from '../../src/config/state.js';

async function until(what: string, check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the running server says what is happening', () => {
  let app: Server;
  let port: number;
  let gh: TestGatehouse;
  before(async () => {
    app = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    port = (app.address() as AddressInfo).port;
    gh = await startTestGatehouse({ upstream: `http://127.0.0.1:${port}`, env: { GATEHOUSE_AUTH_MODE: undefined } });
  });
  after(async () => {
    await gh.stop();
    app.close();
  });

  it('logs auth switched off and on, once each', async () => {
    const scope = { home: gh.home, server: 'local', profile: 'main' };
    updateState(scope, (s) => ({ ...s!, auth: { ...s!.auth, enabled: false } }));
    gh.reload();
    gh.reload(); // a second read of the same file says nothing new
    updateState(scope, (s) => ({ ...s!, auth: { ...s!.auth, enabled: true } }));
    gh.reload();
    assert.equal(gh.logs.filter((l) => l.startsWith('auth: switched off')).length, 1, gh.logs.join('\n'));
    assert.equal(gh.logs.filter((l) => l.startsWith('auth: switched on')).length, 1, gh.logs.join('\n'));
  });

  it('logs once when the app becomes unreachable and once when it is back, not once per request', async () => {
    const c = new TestClient(gh.url);
    const scope = { home: gh.home, server: 'local', profile: 'main' };
    updateState(scope, (s) => ({ ...s!, auth: { ...s!.auth, enabled: false } })); // anonymous requests reach the app
    gh.reload();
    await new Promise<void>((r) => app.close(() => r()));
    app.closeAllConnections?.();
    for (let i = 0; i < 5; i++) assert.equal((await c.get('/x')).status, 502);
    assert.equal(gh.logs.filter((l) => l.includes('is not reachable')).length, 1, gh.logs.join('\n'));
    app = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => app.listen(port, '127.0.0.1', r));
    await until('the app to answer', () => gh.logs.some((l) => l.includes('answers again')), 100).catch(async () => {
      for (let i = 0; i < 3; i++) await c.get('/x');
    });
    assert.equal((await c.get('/x')).status, 200);
    assert.equal(gh.logs.filter((l) => l.includes('answers again')).length, 1, gh.logs.join('\n'));
  });
});

describe('npm start', () => {
  it('does not compile again when dist/ is current', () => {
    const script = join(REPO, 'scripts/build-if-stale.mjs');
    execFileSync(process.execPath, [script], { stdio: 'pipe' }); // brings dist/ up to date if needed
    const stamp = statSync(join(REPO, 'dist/.build-stamp')).mtimeMs;
    const second = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    assert.equal(second.status, 0);
    assert.match(second.stderr, /dist\/ is up to date/);
    assert.equal(statSync(join(REPO, 'dist/.build-stamp')).mtimeMs, stamp, 'nothing was rebuilt');
  });
});

describe('a page opened under the wrong name', () => {
  let gh: TestGatehouse;
  before(async () => {
    gh = await startTestGatehouse({ publicUrl: new URL('http://app.test:4180'), allowedHosts: ['127.0.0.1'] });
  });
  after(() => gh.stop());

  // Regression: with the public URL on 127.0.0.1, a page opened as localhost failed every sign-in
  // with "Your form expired" and nothing in the log.
  it('redirects a page on another host to the public URL, and logs refused POSTs with the reason', async () => {
    const port = new URL(gh.url).port;
    const c = new TestClient(gh.url, `http://localhost:${port}`);
    const nav = await c.get('/auth/sign-in', { host: `localhost:${port}` });
    assert.equal(nav.status, 302);
    assert.equal(nav.headers.location, 'http://app.test:4180/auth/sign-in');
    assert.ok(
      gh.logs.some((l) => l.startsWith('host: a request for "localhost:')),
      gh.logs.join('\n'),
    );
    // A form that was opened from another origin (behind a proxy that rewrote the Host, say).
    const csrf = await c.csrf('/auth/sign-in');
    const post = await c.post('/auth/sign-in', { email: 'a@example.com', password: 'whatever it is', csrf });
    assert.equal(post.status, 403);
    const line = gh.auditLines.find((l) => l.includes('"csrf.refused"'));
    assert.ok(line, gh.auditLines.join('\n'));
    assert.match(line, /from http:\/\/localhost:\d+, expected http:\/\/app\.test:4180/);
  });
});

describe('auth enable on the embedded store', () => {
  // Regression: the embedded store got no fitness check, so an unwritable GATEHOUSE_HOME failed only at
  // the first sign-up, with auth already on.
  it('runs the same fitness steps, and enables nothing when GATEHOUSE_HOME cannot take the database', async () => {
    const { runCli, tempHome } = await import('../support/gatehouse.js');
    const ok = tempHome();
    const pass = await runCli(['auth', 'enable'], { GATEHOUSE_HOME: ok.home });
    assert.equal(pass.code, 0, pass.stderr);
    assert.match(
      pass.stdout,
      /fitness check: embedded[\s\S]*✓ connect[\s\S]*✓ create table[\s\S]*✓ write[\s\S]*✓ read[\s\S]*✓ clean up/,
    );
    ok.cleanup();

    const bad = tempHome();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(bad.home, 'local.main.sqlite')); // the database file cannot be made (as a full or read-only disk would refuse it)
    const fail = await runCli(['auth', 'enable'], { GATEHOUSE_HOME: bad.home });
    assert.equal(fail.code, 1, fail.stdout + fail.stderr);
    assert.match(fail.stdout, /✗ connect/);
    assert.match(fail.stdout, /hint: is GATEHOUSE_HOME writable/);
    assert.match(fail.stderr, /auth was not changed/);
    const status = await runCli(['auth', 'status', '--json'], { GATEHOUSE_HOME: bad.home });
    assert.equal(JSON.parse(status.stdout).enabled, false, 'nothing enabled');
    bad.cleanup();
  });
});
