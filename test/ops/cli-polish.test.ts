// CLI polish ("A newcomer's first hour", item 8), through the real binary: bind names the kinds it
// knows, a bad URL is quoted back as typed (password masked), an option typo gets "did you mean",
// --version, `auth providers add` checks the issuer's discovery document, and usage errors stay one
// sentence without a stack trace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPO, runCli, tempHome, type CliResult } from '../support/gatehouse.js';
import { startTestIdp, type TestIdp } from '../support/oidc.js';
import { freePort } from '../../src/exec-app.js';
import { maskPassword } from '../../src/cli/bind.js';
import { closestWord } from '../../src/cli/parse-errors.js';

let home: ReturnType<typeof tempHome>;
let env: Record<string, string>;

before(() => {
  home = tempHome();
  env = { GATEHOUSE_HOME: home.home };
});
after(() => home.cleanup());

/** A usage error: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
function assertUsageLine(r: CliResult, line: string): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `${line}\n`);
  assert.equal(r.stdout, '');
}

const providerNames = async (): Promise<string[]> =>
  (JSON.parse((await runCli(['auth', 'providers', 'list', '--json'], env)).stdout) as Array<{ name: string }>).map(
    (p) => p.name,
  );

describe('gatehouse CLI polish', () => {
  it('1. bind names the supported kinds for an unknown one', async () => {
    assertUsageLine(
      await runCli(['bind', 'redis', 'redis://127.0.0.1:6379'], env),
      'gatehouse bind: unknown kind "redis"; supported: postgres, mysql, mongodb, smtp',
    );
    // The kind forgotten: the URL lands where the kind goes, and its password must not be echoed.
    const r = await runCli(['bind', 'postgres://bob:hunter2@db/app'], env);
    assertUsageLine(
      r,
      'gatehouse bind: unknown kind "postgres://bob:***@db/app"; supported: postgres, mysql, mongodb, smtp (the kind comes first: `gatehouse bind postgres URL`)',
    );
  });

  it('2. bind quotes a bad URL back as typed, with any password replaced by ***', async () => {
    const hint = '(e.g. postgres://user:password@host:5432/db; postgresql:// works too)';
    assertUsageLine(
      await runCli(['bind', 'postgres', 'postgress://x'], env),
      `gatehouse bind postgres: "postgress://x" is not a postgres:// URL ${hint}`,
    );
    assertUsageLine(
      await runCli(['bind', 'postgres', 'not a url'], env),
      `gatehouse bind postgres: "not a url" is not a postgres:// URL ${hint}`,
    );
    const typo = await runCli(
      ['bind', 'postgres', 'postgress://bob:hunter2@db.internal:5432/app?sslmode=require'],
      env,
    );
    assertUsageLine(
      typo,
      `gatehouse bind postgres: "postgress://bob:***@db.internal:5432/app?sslmode=require" is not a postgres:// URL ${hint}`,
    );
    // Unparseable (a "/" in the password ends the host early): still masked, never leaked.
    const slash = await runCli(['bind', 'mysql', 'mysq://bob:hun/ter2@db/app'], env);
    assert.equal(slash.code, 2);
    assert.match(slash.stderr, /"mysq:\/\/bob:\*\*\*@db\/app" is not a mysql:\/\/ URL/);
    assert.doesNotMatch(slash.stderr + typo.stderr, /hunter2|hun\/ter2/);
    // Exactly as typed otherwise: no normalisation by the URL parser.
    assert.equal(maskPassword('SMTP://Mail.Example.com:587'), 'SMTP://Mail.Example.com:587');
    assert.equal(maskPassword('smtp://user@host:587/?from=a@b.c'), 'smtp://user@host:587/?from=a@b.c');
    assert.equal(maskPassword('postgres://u:p@ss@host/db'), 'postgres://u:***@host/db');
  });

  it('3. an unknown option gets one sentence with "did you mean" (Levenshtein ≤ 2 over that command\'s options)', async () => {
    assertUsageLine(
      await runCli(['serve', '--upstrem', 'http://127.0.0.1:9'], env),
      'gatehouse serve: unknown option --upstrem (did you mean --upstream?)',
    );
    assertUsageLine(
      await runCli(['serve', '--pubic-url=https://a.example'], env),
      'gatehouse serve: unknown option --pubic-url (did you mean --public-url?)',
    );
    assertUsageLine(
      await runCli(['auth', 'enable', '--skip-fitnes'], env),
      'gatehouse auth enable: unknown option --skip-fitnes (did you mean --skip-fitness?)',
    );
    assertUsageLine(
      await runCli(['auth', 'providers', 'add', 'oidc', '--isuer', 'x'], env),
      'gatehouse auth providers add: unknown option --isuer (did you mean --issuer?)',
    );
    assertUsageLine(
      await runCli(['bind', 'smtp', 'smtp://h:25', '--form', 'a@b.c'], env),
      'gatehouse bind: unknown option --form (did you mean --from?)',
    );
    assertUsageLine(
      await runCli(['keys', 'list', '--jsno'], env),
      'gatehouse keys list: unknown option --jsno (did you mean --json?)',
    );
    // Too far from every option: no guess, a pointer to the help instead.
    assertUsageLine(
      await runCli(['serve', '--frobnicate'], env),
      'gatehouse serve: unknown option --frobnicate (see `gatehouse serve --help`)',
    );
    // A suggestion only from the command's own options: --issuer belongs to `providers add`, not `auth enable`.
    assert.doesNotMatch((await runCli(['auth', 'enable', '--isuer'], env)).stderr, /did you mean/);
    // The other parseArgs errors, in the same form.
    assertUsageLine(await runCli(['serve', '--upstream'], env), 'gatehouse serve: --upstream needs a value');
    assertUsageLine(await runCli(['serve', '--demo=yes'], env), 'gatehouse serve: --demo takes no value');
    assertUsageLine(
      await runCli(['serve', 'http://127.0.0.1:9'], env),
      'gatehouse serve: unexpected argument "http://127.0.0.1:9" (see `gatehouse serve --help`)',
    );
    assert.equal(closestWord('-x', ['--help']), null, 'one-letter flags get no guess');
    // The command itself, too.
    assertUsageLine(
      await runCli(['serv', '--demo'], env),
      'gatehouse: unknown command "serv" (did you mean `gatehouse serve`?)',
    );
    assertUsageLine(
      await runCli(['frobnicate'], env),
      'gatehouse: unknown command "frobnicate" (try `gatehouse --help`)',
    );
  });

  it('4. --version, -v and version print the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    for (const arg of ['--version', '-v', 'version']) {
      const r = await runCli([arg], env);
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        { code: 0, stdout: `${version}\n`, stderr: '' },
        arg,
      );
    }
  });

  describe("5. auth providers add checks the issuer's discovery document", () => {
    let idp: TestIdp;
    let impostor: Server;
    let impostorIssuer: string;
    before(async () => {
      idp = await startTestIdp(['http://127.0.0.1:4180/auth/oauth/corp/callback']);
      // Serves a well-formed discovery document that names somebody else as the issuer.
      impostor = createServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer: 'https://login.example.net',
            authorization_endpoint: 'https://login.example.net/auth',
          }),
        );
      });
      await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
      impostorIssuer = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    });
    after(async () => {
      await idp.close();
      await new Promise((r) => impostor.close(r));
    });

    const add = (name: string, issuer: string, ...extra: string[]) =>
      runCli(
        [
          'auth',
          'providers',
          'add',
          'oidc',
          '--name',
          name,
          '--client-id',
          'id',
          '--client-secret',
          'a-secret',
          '--issuer',
          issuer,
          ...extra,
        ],
        env,
      );

    it('stores a provider whose issuer answers for itself', async () => {
      const r = await add('corp', idp.issuer);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`✓ discovery: ${idp.issuer}/\\.well-known/openid-configuration answered`));
      assert.ok((await providerNames()).includes('corp'));
    });

    it('refuses an issuer that does not answer (exit 1) and stores nothing', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const r = await add('gone', closed);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `✗ discovery: ${closed}/.well-known/openid-configuration did not answer (is the issuer URL right? is it reachable from this machine?)\n` +
          'gatehouse auth providers add: gone was not added (`--skip-check` stores it anyway)\n',
      );
      assert.ok(!(await providerNames()).includes('gone'));
    });

    it('refuses an issuer whose metadata names another issuer', async () => {
      const r = await add('fake', impostorIssuer);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^✗ discovery: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration names issuer "https:\/\/login\.example\.net" \(--issuer must be exactly/,
      );
      assert.ok(!(await providerNames()).includes('fake'));
    });

    it('stores it anyway with --skip-check; GitHub (OAuth 2.0, no discovery) is never checked', async () => {
      const closed = `http://127.0.0.1:${await freePort()}`;
      const r = await add('later', closed, '--skip-check');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /– discovery: not checked \(--skip-check\)/);
      const gh = await runCli(['auth', 'providers', 'add', 'github', '--client-id', 'id', '--client-secret', 's'], env);
      assert.equal(gh.code, 0, gh.stderr);
      assert.doesNotMatch(gh.stdout + gh.stderr, /discovery/);
      assert.deepEqual((await providerNames()).filter((n) => n === 'later' || n === 'github').sort(), [
        'github',
        'later',
      ]);
    });
  });

  it('6. usage errors stay one sentence on one line, never a stack trace', async () => {
    const cases = [
      ['bind', 'redis', 'x'],
      ['bind', 'smtp', 'mailto:x'],
      ['serve', '--upstrem', 'x'],
      ['serve', '-x'],
      ['users', 'list', '--json=1'],
      ['auth', 'providers', 'add', 'oidc', '--scopes'],
      ['frobnicate'],
    ];
    for (const args of cases) {
      const r = await runCli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^gatehouse[ :][^\n]+\n$/, `${args.join(' ')} answers with one line`);
      assert.doesNotMatch(
        r.stderr,
        /\bat .+:\d+:\d+|Error:|ERR_PARSE_ARGS|Unknown option '/,
        `${args.join(' ')}: no stack trace, no parseArgs wording`,
      );
    }
  });
});
