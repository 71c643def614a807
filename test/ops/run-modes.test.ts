// Deployment: exec mode (the app as a child), the Docker entrypoint run outside Docker, compose.yaml and
// the Dockerfile checked without a Docker engine (parsed; every file they reference exists), users CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { request } from 'undici';
import { REPO, runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { startRecordingUpstream } from '../support/upstream.js';

describe('exec mode', () => {
  it('starts the app on an internal port, serves it behind sign-in, and stops it on SIGTERM', async () => {
    const home = tempHome();
    const s = await spawnServe(['--exec', `node ${join(REPO, 'docker/example-app/server.js')}`], {
      GATEHOUSE_HOME: home.home,
    });
    try {
      assert.equal((await new TestClient(s.url).get('/')).status, 302);
      const c = new TestClient(s.url);
      await c.signUp('exec@example.com', 'a long enough password', 'Exec User');
      const page = await c.get('/');
      assert.equal(page.status, 200);
      assert.match(page.text, /Hello Exec User/);
      const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
      s.child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(s.output(), /example app on :\d+/);
    } finally {
      await s.stop();
      home.cleanup();
    }
  });

  it('exits with the app when the app exits', async () => {
    const home = tempHome();
    const app = `node -e "require('http').createServer((q,r)=>r.end('x')).listen(process.env.PORT,'127.0.0.1'); setTimeout(()=>process.exit(3),1500)"`;
    const s = await spawnServe(['--exec', app], { GATEHOUSE_HOME: home.home });
    const code = await new Promise<number | null>((r) => s.child.once('exit', (c) => r(c)));
    assert.equal(code, 3);
    home.cleanup();
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, lets an in-flight request finish, then exits 0', async () => {
    const home = tempHome();
    const upstream = await startRecordingUpstream();
    const s = await spawnServe(['--upstream', upstream.url], { GATEHOUSE_HOME: home.home, GATEHOUSE_AUTH_MODE: 'off' });
    try {
      let exitedAt = 0;
      const exited = new Promise<number | null>((r) =>
        s.child.once('exit', (code) => ((exitedAt = Date.now()), r(code))),
      );
      const slow = request(`${s.url}/slow?ms=1500`).then(async (r) => ({
        status: r.statusCode,
        text: await r.body.text(),
        at: Date.now(),
      }));
      while (!upstream.requests.some((r) => r.url.startsWith('/slow'))) await new Promise((r) => setTimeout(r, 20));
      s.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const late = await request(`${s.url}/echo`, { reset: true }).then(
        (r) => (r.body.dump(), `answered ${r.statusCode}`),
        (err: Error & { code?: string }) => err.code ?? err.message,
      );
      assert.equal(late, 'ECONNREFUSED', 'no new connections once draining');
      const done = await slow;
      assert.deepEqual([done.status, done.text], [200, 'slow'], 'the in-flight request completed');
      assert.equal(await exited, 0);
      assert.ok(exitedAt >= done.at, 'exited only after the in-flight request was answered');
    } finally {
      await s.stop();
      await upstream.close();
      home.cleanup();
    }
  });
});

describe('Docker and compose (no engine here: parsed and run outside Docker)', () => {
  it('compose.yaml wires Gatehouse, the app, PostgreSQL and a mail catcher, and references only files that exist', () => {
    const compose = parse(readFileSync(join(REPO, 'compose.yaml'), 'utf8'));
    assert.deepEqual(Object.keys(compose.services).sort(), ['app', 'gatehouse', 'mailpit', 'postgres']);
    const gh = compose.services.gatehouse;
    assert.ok(existsSync(join(REPO, gh.build.context, gh.build.dockerfile)));
    assert.match(gh.environment.GATEHOUSE_UPSTREAM, /^http:\/\/app:3000$/);
    assert.match(gh.environment.GATEHOUSE_DATABASE_URL, /^postgres:\/\/.*@postgres:5432\//);
    assert.match(gh.environment.GATEHOUSE_SMTP_URL, /^smtp:\/\/mailpit:1025$/);
    assert.equal(compose.services.app.ports, undefined, 'the app publishes no port: the only way in is Gatehouse');
    const mount = compose.services.app.volumes[0].split(':')[0];
    assert.ok(existsSync(join(REPO, mount, 'server.js')));
    assert.ok(compose.services.postgres.healthcheck);
  });

  it('the Dockerfile is multi-stage, runs as a non-root user, checks /auth/health and copies files that exist', () => {
    const text = readFileSync(join(REPO, 'docker/Dockerfile'), 'utf8');
    assert.equal(text.match(/^FROM /gm)?.length, 2);
    assert.match(text, /^USER node$/m);
    assert.match(text, /^HEALTHCHECK .*\n?.*\/auth\/health/m);
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(join(REPO, src)), `COPY ${src}`);
    }
    const entry = join(REPO, 'docker/entrypoint.sh');
    accessSync(entry, constants.X_OK);
    assert.ok(statSync(entry).isFile());
  });

  it('the entrypoint serves by default and runs other commands, outside Docker', async () => {
    const home = tempHome();
    const env = {
      ...process.env,
      GATEHOUSE_HOME: home.home,
      GATEHOUSE_BIN: join(REPO, 'bin/gatehouse.js'),
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(20000 + (process.pid % 20000)),
      GATEHOUSE_UPSTREAM: 'http://127.0.0.1:9',
    };
    const child = spawn('sh', [join(REPO, 'docker/entrypoint.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = await request(`http://127.0.0.1:${env.GATEHOUSE_PORT}/auth/health`).then(
          (r) => (r.body.dump(), r.statusCode === 200),
          () => false,
        );
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(ok, 'serves /auth/health');
      // The image's HEALTHCHECK command, run as the container would.
      const hc = /CMD (node -e .*)$/m.exec(readFileSync(join(REPO, 'docker/Dockerfile'), 'utf8'))![1]!;
      const code = await new Promise<number | null>((r) =>
        spawn('sh', ['-c', hc], { env, stdio: 'ignore' }).once('exit', r),
      );
      assert.equal(code, 0);
      const status = await new Promise<string>((r) => {
        const c = spawn('sh', [join(REPO, 'docker/entrypoint.sh'), 'auth', 'status'], { env });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.once('exit', () => r(out));
      });
      assert.match(status, /auth: ENABLED/);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'SIGTERM reaches Gatehouse (exec) and it drains and exits 0');
      home.cleanup();
    }
  });
});

describe('users CLI', () => {
  it('lists, disables, enables, promotes and deletes users', async () => {
    const home = tempHome();
    const env = { GATEHOUSE_HOME: home.home };
    const s = await spawnServe(['--upstream', 'http://127.0.0.1:9'], env);
    try {
      const c = new TestClient(s.url);
      await c.signUp('cli-user@example.com', 'a long enough password', 'CLI User');
      assert.match((await runCli(['users', 'list'], env)).stdout, /cli-user@example\.com\s+member\s+active/);
      assert.equal((await c.get('/auth/me')).status, 200);
      assert.equal((await runCli(['users', 'disable', 'CLI-User@example.com'], env)).code, 0);
      assert.ok(await signedOutWithin2s(c), 'a disabled user is signed out on the running server');
      assert.notEqual(
        (await c.signIn('cli-user@example.com', 'a long enough password')).status,
        303,
        'and cannot sign in',
      );
      assert.equal((await c.get('/auth/me')).status, 401);
      assert.equal((await runCli(['users', 'enable', 'cli-user@example.com'], env)).code, 0);
      assert.equal((await runCli(['users', 'set-role', 'cli-user@example.com', 'admin'], env)).code, 0);
      assert.equal(JSON.parse((await runCli(['users', 'list', '--json'], env)).stdout)[0].role, 'admin');
      assert.equal(
        (await runCli(['users', 'set-role', 'cli-user@example.com', 'Root!'], env)).code,
        2,
        'role names are a-z, 0-9 and "-"',
      );
      assert.equal((await c.signIn('cli-user@example.com', 'a long enough password')).status, 303);
      assert.equal(JSON.parse((await c.get('/auth/me')).text).role, 'admin');
      assert.equal((await runCli(['users', 'delete', 'cli-user@example.com'], env)).code, 0);
      assert.ok(await signedOutWithin2s(c), 'a deleted user is signed out on the running server');
      assert.equal((await runCli(['users', 'show', 'cli-user@example.com'], env)).code, 1);
    } finally {
      await s.stop();
      home.cleanup();
    }
  });
});

/** Polls /auth/me: true once it answers 401, within the 2 s a running server may cache a session. */
async function signedOutWithin2s(c: TestClient): Promise<boolean> {
  const t = Date.now();
  while (Date.now() - t < 2000) {
    if ((await c.get('/auth/me')).status === 401) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
