// Configuration under GATEHOUSE_HOME, through the real CLI: one start-up message that lists every
// problem (environment and state file), private files whatever the umask, and one master key when
// several processes start on a fresh home at the same moment.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';

const homes: Array<ReturnType<typeof tempHome>> = [];
const fresh = () => {
  const h = tempHome();
  homes.push(h);
  return h.home;
};
after(() => homes.forEach((h) => h.cleanup()));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('start-up validation', () => {
  it('refuses to start with one message that lists every problem of the environment', async () => {
    const r = await runCli(['serve', '--port', '0', '--upstream', 'http://127.0.0.1:9'], {
      GATEHOUSE_HOME: fresh(),
      GATEHOUSE_PUBLIC_PATHS: '/healthz,static/*,/api?token=1,/a*b',
      GATEHOUSE_ALLOWED_DOMAINS: 'example.com,not a domain',
      GATEHOUSE_DB_POOL: 'lots',
      GATEHOUSE_TABLE_PREFIX: 'x; DROP TABLE users',
      GATEHOUSE_DATABASE_URL: 'ftp://db.example.com/users',
      GATEHOUSE_SMTP_URL: 'not a url',
      GATEHOUSE_MASTER_KEY: 'too-short',
      GATEHOUSE_AUTH_SECRET: 'guessable',
      GATEHOUSE_SESSION_IDLE: 'forever',
    });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.match(/invalid configuration:/g)?.length, 1, 'one message');
    const expected = [
      /GATEHOUSE_PUBLIC_PATHS: public path "static\/\*" must start with "\/"/,
      /GATEHOUSE_PUBLIC_PATHS: public path "\/api\?token=1" must be a plain path/,
      /GATEHOUSE_PUBLIC_PATHS: public path "\/a\*b" may only end in "\/\*"/,
      /GATEHOUSE_ALLOWED_DOMAINS: "not a domain" is not a domain name/,
      /GATEHOUSE_DB_POOL must be a number/,
      /GATEHOUSE_TABLE_PREFIX must be/,
      /GATEHOUSE_DATABASE_URL must be a URL/,
      /GATEHOUSE_SMTP_URL must be a URL/,
      /GATEHOUSE_MASTER_KEY must hold 32 bytes/,
      /GATEHOUSE_AUTH_SECRET must be at least 32 characters/,
      /GATEHOUSE_SESSION_IDLE must be a duration/,
    ];
    for (const e of expected) assert.match(r.stderr, e);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('  - ')).length, expected.length, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  // Regression: an idle limit near a minute made active sessions expire; one over the absolute limit meant nothing.
  it('refuses session lifetimes that make no sense, and bad host and origin lists', async () => {
    const r = await runCli(['serve', '--port', '0'], {
      GATEHOUSE_HOME: fresh(),
      GATEHOUSE_SESSION_IDLE: '1m',
      GATEHOUSE_ALLOWED_HOSTS: 'app.internal,bad host!',
      GATEHOUSE_WS_ORIGINS: 'https://ok.example,https://x.example/path',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /GATEHOUSE_SESSION_IDLE must be at least 5m/);
    assert.match(r.stderr, /GATEHOUSE_ALLOWED_HOSTS: "bad host!" is not a host/);
    assert.match(r.stderr, /GATEHOUSE_WS_ORIGINS: "https:\/\/x.example\/path" is not an origin/);
    assert.doesNotMatch(r.stderr, /ok\.example|app\.internal/);
    const longer = await runCli(['serve', '--port', '0'], {
      GATEHOUSE_HOME: fresh(),
      GATEHOUSE_SESSION_IDLE: '40d',
      GATEHOUSE_SESSION_ABSOLUTE: '30d',
    });
    assert.equal(longer.code, 2);
    assert.match(longer.stderr, /GATEHOUSE_SESSION_IDLE must not be longer than GATEHOUSE_SESSION_ABSOLUTE/);
  });

  it('lists the problems of the state file: unknown keys, bad bindings and providers, bad settings', async () => {
    const home = fresh();
    const env = { GATEHOUSE_HOME: home };
    assert.equal((await runCli(['auth', 'enable'], env)).code, 0);
    const file = join(home, 'local.main.json');
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.auth.publicPaths = ['/ok', 'nope'];
    state.auth.signUp = 'domains';
    state.bindings.db = { kind: 'oracle', url: 'oracle://x', password: 'plain' };
    state.providers = [{ name: 'Corp Login', kind: 'saml', clientId: 'id' }];
    writeFileSync(file, JSON.stringify(state));
    const r = await runCli(['serve', '--port', '0', '--upstream', 'http://127.0.0.1:9'], env);
    assert.equal(r.code, 2);
    for (const e of [
      /unknown key "bindings\.db\.password"/,
      /"bindings\.db\.kind" must be postgres, mysql, mongodb, smtp/,
      /providers\[0\] \(Corp Login\): "name" must be lower-case/,
      /providers\[0\] \(Corp Login\): "kind" must be google/,
      /providers\[0\] \(Corp Login\): "clientSecret" is required/,
    ])
      assert.match(r.stderr, e);
    // The shape problems come first; once the shape is right the settings themselves are checked.
    state.bindings = {};
    state.providers = [];
    writeFileSync(file, JSON.stringify(state));
    const s = await runCli(['serve', '--port', '0', '--upstream', 'http://127.0.0.1:9'], env);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /auth\.publicPaths: public path "nope" must start with "\/"/);
    assert.match(s.stderr, /sign-up "domains" needs GATEHOUSE_ALLOWED_DOMAINS/);
    assert.doesNotMatch(s.stderr, /"\/ok"/);
  });
});

describe('files under GATEHOUSE_HOME', () => {
  it('are 0600 in a 0700 directory even with umask 000', async () => {
    const home = join(fresh(), 'nested', 'home');
    const env = { GATEHOUSE_HOME: home };
    const saved = process.umask(0); // children inherit it
    try {
      const server = await spawnServe(['--upstream', 'http://127.0.0.1:9'], env);
      try {
        assert.equal((await runCli(['bind', 'smtp', 'smtp://u:p@127.0.0.1:2525'], env)).code, 0);
        assert.equal(
          (
            await runCli(
              ['auth', 'providers', 'add', 'google', '--client-id', 'id', '--client-secret', 'secret', '--skip-check'],
              env,
            )
          ).code,
          0,
        );
        assert.equal((await runCli(['auth', 'rotate-secret'], env)).code, 0);
      } finally {
        await server.stop();
      }
    } finally {
      process.umask(saved);
    }
    assert.equal(mode(home), 0o700);
    const files = readdirSync(home);
    assert.ok(
      files.includes('local.main.json') && files.includes('master.key') && files.includes('local.main.sqlite'),
      files.join(', '),
    );
    assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temporary file is left behind');
    for (const f of files) assert.equal(mode(join(home, f)), 0o600, `${f} is ${mode(join(home, f)).toString(8)}`);
  });

  it('gets exactly one master key when several processes start on a fresh home at once', async () => {
    const home = fresh();
    const at = Date.now() + 1500; // every process waits for the same moment, then creates the key
    const script = `
      const { loadMasterKey } = await import(${JSON.stringify(join(REPO, 'dist/config/secrets.js'))});
      while (Date.now() < ${at}) await new Promise((r) => setTimeout(r, 1));
      process.stdout.write(loadMasterKey(${JSON.stringify(home)}, {}).toString('hex'));`;
    const keys = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
            let out = '';
            child.stdout.on('data', (d) => (out += d));
            child.stderr.on('data', (d) => (out += d));
            child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
          }),
      ),
    );
    assert.equal(new Set(keys).size, 1, 'every process uses the same key');
    assert.equal(Buffer.from(readFileSync(join(home, 'master.key'), 'utf8').trim(), 'base64').toString('hex'), keys[0]);
  });
});

describe('concurrent changes to one server/profile', () => {
  it('loses none of them: binds and provider changes run side by side all land in the state file', async () => {
    const env = { GATEHOUSE_HOME: fresh() };
    const runs = [
      ...Array.from({ length: 8 }, (_, i) =>
        runCli(['bind', 'smtp', `smtp://u:p${i}@127.0.0.1:${2500 + i}`, '--name', `mail${i}`], env),
      ),
      ...['alpha', 'beta', 'gamma'].map((name) =>
        runCli(
          [
            'auth',
            'providers',
            'add',
            'oidc',
            '--name',
            name,
            '--client-id',
            name,
            '--client-secret',
            's',
            '--issuer',
            'https://idp.example.com',
            '--skip-check',
          ],
          env,
        ),
      ),
      runCli(['auth', 'enable'], env),
    ];
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stdout + r.stderr);
    const state = JSON.parse(readFileSync(join(env.GATEHOUSE_HOME, 'local.main.json'), 'utf8'));
    assert.deepEqual(
      Object.keys(state.bindings).sort(),
      Array.from({ length: 8 }, (_, i) => `mail${i}`),
    );
    assert.deepEqual(state.providers.map((p: { name: string }) => p.name).sort(), ['alpha', 'beta', 'gamma']);
    assert.equal(state.auth.enabled, true);
    assert.ok(!readdirSync(env.GATEHOUSE_HOME).some((f) => f.endsWith('.lock')), 'no lock is left behind');
  });
});

describe('social login from the environment', () => {
  it('shows the providers given as GATEHOUSE_<KIND>_* and GATEHOUSE_OIDC_<NAME>_* variables, with no state file entry', async () => {
    const env = {
      GATEHOUSE_HOME: fresh(),
      GATEHOUSE_GOOGLE_CLIENT_ID: 'google-id',
      GATEHOUSE_GOOGLE_CLIENT_SECRET: 'google-secret-value',
      GATEHOUSE_OIDC_CORP_SSO_CLIENT_ID: 'corp-id',
      GATEHOUSE_OIDC_CORP_SSO_CLIENT_SECRET: 'corp-secret-value',
      GATEHOUSE_OIDC_CORP_SSO_ISSUER: 'http://127.0.0.1:1',
    };
    const server = await spawnServe(['--upstream', 'http://127.0.0.1:9'], env);
    try {
      const page = await new TestClient(server.url).get('/auth/sign-in');
      assert.match(page.text, /\/auth\/oauth\/google\/start/);
      assert.match(page.text, /\/auth\/oauth\/corp_sso\/start/);
    } finally {
      await server.stop();
    }
    const status = await runCli(['auth', 'status', '--json'], env);
    assert.deepEqual(JSON.parse(status.stdout).providers, ['google', 'corp_sso']);
    assert.doesNotMatch(
      readFileSync(join(env.GATEHOUSE_HOME, 'local.main.json'), 'utf8'),
      /secret-value/,
      'nothing from the environment is written down',
    );
  });

  it('refuses incomplete or insecure provider variables at start-up, listed with the rest', async () => {
    const r = await runCli(['serve', '--port', '0', '--upstream', 'http://127.0.0.1:9'], {
      GATEHOUSE_HOME: fresh(),
      GATEHOUSE_GITHUB_CLIENT_ID: 'only-the-id',
      GATEHOUSE_OIDC_CORP_CLIENT_ID: 'id',
      GATEHOUSE_OIDC_CORP_CLIENT_SECRET: 'secret',
      GATEHOUSE_OIDC_CORP_ISSUER: 'http://idp.example.com',
      GATEHOUSE_GOOGLE_CLIENT_NAME: 'typo',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /social login "github" from the environment also needs GATEHOUSE_GITHUB_CLIENT_SECRET/);
    assert.match(r.stderr, /GATEHOUSE_OIDC_CORP_ISSUER "http:\/\/idp\.example\.com" must be https:\/\//);
    assert.match(r.stderr, /unknown environment variable GATEHOUSE_GOOGLE_CLIENT_NAME/);
  });
});
