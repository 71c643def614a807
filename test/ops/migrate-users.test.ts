// Switching stores never loses users silently (issue "A newcomer's first hour", item 4). The README
// scenario through the real CLI: an admin made on the embedded store, then `bind postgres` + `auth
// enable` keeps them (on a running server too); `migrate-users` copies accounts with their ids,
// passwords, social logins, API keys and invitations into PostgreSQL / MariaDB, where the same password
// signs in; a store that already has users is refused. Also: a failed enable changes nothing, and
// GATEHOUSE_DATABASE_URL is named as itself, never with its password.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { dropMysqlTables, dropPostgresTables } from '../support/drop-tables.js';
import { MYSQL_URL, POSTGRES_URL, reachable } from '../conformance/servers.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';

const pgUp = await reachable(POSTGRES_URL);
const myUp = await reachable(MYSQL_URL);
const PREFIX = `gh_mig${process.pid}_`;
const PASSWORD = 'a long enough password';
const homes: Array<ReturnType<typeof tempHome>> = [];

after(async () => {
  for (const h of homes) h.cleanup();
  if (pgUp) await dropPostgresTables(POSTGRES_URL, PREFIX);
  if (myUp) await dropMysqlTables(MYSQL_URL, PREFIX);
});

/** A fresh GATEHOUSE_HOME with a table prefix of its own (each test its own tables on the shared servers). */
function setup(tag: string): Record<string, string> {
  const home = tempHome();
  homes.push(home);
  // Generous sign-in limits: the scenario signs in while polling for the running server's switch.
  return {
    GATEHOUSE_HOME: home.home,
    GATEHOUSE_TABLE_PREFIX: `${PREFIX}${tag}_`,
    GATEHOUSE_RATE_LIMITS: 'sign-in=1000/1m',
  };
}

async function cli(args: string[], env: Record<string, string>, code = 0) {
  const r = await runCli(args, env);
  assert.equal(r.code, code, `gatehouse ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return r;
}

async function withStore<T>(url: string, env: Record<string, string>, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(url, { prefix: env.GATEHOUSE_TABLE_PREFIX });
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

const embedded = (env: Record<string, string>) => `sqlite:${join(env.GATEHOUSE_HOME!, 'local.main.sqlite')}`;

/** Until `probe` holds (a running server re-reads the state file twice a second). */
async function until(probe: () => Promise<boolean>): Promise<boolean> {
  const t = Date.now();
  while (Date.now() - t < 5000) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** The same URL with a password in it, so the tests can show it is never printed. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  if (!u.password) u.password = password;
  return u.toString();
}

/**
 * The quick start, then a bound database: an admin with a social login, two API keys (one revoked) and
 * an open invitation on the embedded store; `bind` + `auth enable` keeps them; `migrate-users` copies
 * them; `auth enable --db` moves the running server, where the same password and key still work.
 */
async function readmeScenario(kind: 'postgres' | 'mysql', url: string, tag: string) {
  const env = setup(tag);
  await cli(['auth', 'enable'], env);
  const server = await spawnServe(['--upstream', 'http://127.0.0.1:9'], env);
  try {
    const email = `admin-${tag}@example.com`;
    assert.equal((await new TestClient(server.url).signUp(email, PASSWORD, 'Ada')).status, 303);
    await cli(['users', 'set-role', email, 'admin'], env);
    const token = (await cli(['keys', 'create', '--user', email, '--name', 'deploy'], env)).stdout
      .split('\n')[1]!
      .trim();
    const revokedId = /key (\S+) for/.exec(
      (await cli(['keys', 'create', '--user', email, '--name', 'old'], env)).stdout,
    )![1]!;
    await cli(['keys', 'revoke', revokedId], env);
    await cli(['users', 'invite', `friend-${tag}@example.com`], env);
    const admin = await withStore(embedded(env), env, async (s) => {
      const u = (await s.findUserByEmail(email))!;
      await s.linkIdentity({
        issuer: 'https://idp.example.com',
        subject: `sub-${tag}`,
        provider: 'corp',
        userId: u.id,
        email,
        createdAt: new Date(1_700_000_000_000),
      });
      await s.createPasskey({
        id: `cred-${tag}`,
        userId: u.id,
        publicKey: 'pQECAyYg',
        counter: 4,
        transports: ['internal'],
        name: 'Laptop',
        createdAt: new Date(1_700_000_000_000),
        lastUsedAt: null,
      });
      return u;
    });

    // bind + enable: the users stay where they are, and the output says how to move them.
    // PostgreSQL here trusts local users, so a password in its URL is accepted and can be shown not to
    // leak; MariaDB's root has none, so its URL stays as it is.
    const secret = 'n0t-pr1nted-pw';
    await cli(['bind', kind, kind === 'postgres' ? withPassword(url, secret) : url, '--name', 'db'], env);
    const enabled = await cli(['auth', 'enable'], env);
    assert.match(enabled.stdout, /users stay in the embedded store/);
    assert.match(
      enabled.stdout,
      /`gatehouse migrate-users --from embedded --to db`, then `gatehouse auth enable --db db`/,
    );
    assert.match(enabled.stdout, /users in the embedded store/);
    assert.doesNotMatch(enabled.stdout, /fitness check: db/, 'the bound database was not even considered');
    assert.equal(JSON.parse((await cli(['auth', 'status', '--json'], env)).stdout).db, 'embedded');
    const list = await cli(['users', 'list'], env);
    assert.match(list.stdout, new RegExp(`${email}\\s+admin`), 'the admin is still there');
    assert.match(list.stderr, /users in the embedded store/, 'users list says which store it read');
    assert.equal(
      (await new TestClient(server.url).signIn(email, PASSWORD)).status,
      303,
      'the running server still signs the admin in',
    );

    // migrate-users copies everything but sessions, and never prints the password.
    const dry = await cli(['migrate-users', '--from', 'embedded', '--to', 'db', '--dry-run'], env);
    assert.match(dry.stdout, /dry run: would copy 1 user\(s\) and their 2 API key\(s\)/);
    await withStore(url, env, async (s) => assert.equal(await s.countUsers(), 0, 'a dry run writes nothing'));
    const copied = await cli(['migrate-users', '--from', 'embedded', '--to', 'db'], env);
    assert.match(
      copied.stdout,
      /copied 1 user\(s\), 1 social login\(s\), 2 API key\(s\), 1 invitation\(s\), 1 passkey\(s\) from the embedded store .* to binding "db" \(\w+, [^)]+\)/,
    );
    assert.match(copied.stdout, /sessions were not copied: everyone signs in again/);
    for (const r of [enabled, dry, copied]) assert.doesNotMatch(r.stdout + r.stderr, new RegExp(secret));
    await withStore(url, env, async (s) => {
      assert.deepEqual(
        await s.findUserById(admin.id),
        { ...admin, role: 'admin' },
        'same id, password hash, flags and dates',
      );
      assert.equal((await s.findIdentity('https://idp.example.com', `sub-${tag}`))?.userId, admin.id);
      const keys = await s.listApiKeys(admin.id);
      assert.deepEqual(
        keys.map((k) => [k.name, k.revoked]),
        [
          ['deploy', false],
          ['old', true],
        ],
      );
      assert.deepEqual(
        (await s.listTokens('invite', new Date())).map((t) => t.email),
        [`friend-${tag}@example.com`],
      );
      assert.equal((await s.listUserSessions(admin.id)).length, 0, 'no sessions copied');
      assert.deepEqual(
        (await s.listPasskeys(admin.id)).map((k) => [k.id, k.name, k.counter]),
        [[`cred-${tag}`, 'Laptop', 4]],
        'passkeys come along',
      );
    });

    // A store that already has users is refused, in one sentence.
    const again = await cli(['migrate-users', '--from', 'embedded', '--to', 'db'], env, 1);
    assert.match(
      again.stderr,
      /^gatehouse: binding "db" \([^)]+\) already has 1 user\(s\); migrate-users only copies into a store without users, so nothing was copied\n$/,
    );

    // Switch the running server: the same password and API key work against the new database.
    const moved = await cli(['auth', 'enable', '--db', 'db'], env);
    assert.match(moved.stdout, new RegExp(`users in "db" \\(${kind}\\)`));
    assert.doesNotMatch(moved.stderr, /warning/, 'the new store has the users');
    // Marks the copy, so signing in shows which database the running server reads. The copied passkey
    // would make the password the first of two steps: removed here, so a password alone signs in.
    await withStore(url, env, async (s) => {
      await s.updateUser(admin.id, { name: 'Ada (moved)' }, new Date());
      await s.deletePasskey(admin.id, `cred-${tag}`);
    });
    const onNewStore = async () => {
      const me = new TestClient(server.url);
      if ((await me.signIn(email, PASSWORD)).status !== 303) return false;
      return JSON.parse((await me.get('/auth/me')).text).name === 'Ada (moved)';
    };
    assert.ok(
      await until(onNewStore),
      'the running server signs the admin in from the new database: the copied password hash verifies',
    );
    const bearer = await new TestClient(server.url).get('/echo', {
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    });
    assert.equal(bearer.status, 502, 'the copied API key passes the gate (the app is absent)');
    assert.equal(JSON.parse((await cli(['auth', 'status', '--json'], env)).stdout).db, 'db');
  } finally {
    await server.stop();
  }
}

describe('switching stores keeps every user', () => {
  it(
    'README scenario on PostgreSQL: bind + enable keeps the admin; migrate-users copies them',
    { skip: pgUp ? false : 'PostgreSQL not reachable' },
    async () => {
      await readmeScenario('postgres', POSTGRES_URL, 'pg');
    },
  );

  it('README scenario on MariaDB', { skip: myUp ? false : 'MariaDB not reachable' }, async () => {
    await readmeScenario('mysql', MYSQL_URL, 'my');
  });

  it(
    '--db to an empty database while the old store has users warns and names migrate-users',
    { skip: pgUp ? false : 'PostgreSQL not reachable' },
    async () => {
      const env = setup('warn');
      await cli(['auth', 'enable'], env);
      await withStore(embedded(env), env, (s) =>
        s.createUser(
          { email: 'left@example.com', name: 'L', role: 'admin', passwordHash: null, emailVerified: true },
          new Date(),
        ),
      );
      await cli(['bind', 'postgres', POSTGRES_URL, '--name', 'pg'], env);
      const r = await cli(['auth', 'enable', '--db', 'pg'], env);
      assert.match(
        r.stderr,
        /warning: binding "pg" \(postgres, [^)]+\) has no users yet, while 1 user\(s\) stay behind in the embedded store .*: copy them with `gatehouse migrate-users --from embedded --to pg`/,
      );
      const list = await cli(['users', 'list'], env);
      assert.match(list.stdout, /no users yet/);
      assert.match(list.stderr, /users in binding "pg" \(postgres, /, 'says which store "no users yet" is about');
    },
  );

  it(
    'resumes an interrupted copy, and refuses a store with users of its own',
    { skip: pgUp ? false : 'PostgreSQL not reachable' },
    async () => {
      const env = setup('resume');
      await cli(['auth', 'enable'], env);
      const made = await withStore(embedded(env), env, async (s) => [
        await s.createUser(
          { email: 'one@example.com', name: '1', role: 'admin', passwordHash: '$argon2id$one', emailVerified: true },
          new Date(1000),
        ),
        await s.createUser(
          { email: 'two@example.com', name: '2', role: 'member', passwordHash: '$argon2id$two', emailVerified: false },
          new Date(2000),
        ),
      ]);
      await cli(['bind', 'postgres', POSTGRES_URL, '--name', 'pg'], env);
      // What a run cut off after its first user leaves behind: that user, and the in-progress mark.
      await withStore(POSTGRES_URL, env, async (s) => {
        await s.importUser(made[0]!);
        await s.hit('gatehouse:migrate-users:incomplete', 86_400_000, new Date());
      });
      const r = await cli(['migrate-users', '--from', 'embedded', '--to', 'pg'], env);
      assert.match(r.stdout, /resuming an interrupted copy: the 1 user\(s\) already in binding "pg"/);
      assert.match(r.stdout, /copied 1 user\(s\)/);
      await withStore(POSTGRES_URL, env, async (s) => {
        assert.deepEqual(
          (await s.listUsers({ limit: 10, offset: 0 })).map((u) => u.email),
          ['one@example.com', 'two@example.com'],
        );
        assert.equal(
          await s.peekCounter('gatehouse:migrate-users:incomplete', new Date()),
          null,
          'a finished copy clears its mark',
        );
      });
      const refused = await cli(['migrate-users', '--from', 'embedded', '--to', 'pg'], env, 1);
      assert.match(refused.stderr, /already has 2 user\(s\)/);
    },
  );

  it('answers usage mistakes with exit 2 and a missing source with exit 1', async () => {
    const env = setup('usage');
    assert.match((await cli(['migrate-users', '--from', 'embedded'], env, 2)).stderr, /needs --from and --to/);
    assert.match(
      (await cli(['migrate-users', '--from', 'embedded', '--to', 'nope'], env, 2)).stderr,
      /no database binding named "nope"/,
    );
    assert.match(
      (await cli(['migrate-users', '--from', 'embedded', '--to', 'embedded'], env, 2)).stderr,
      /name the same store/,
    );
    await cli(['bind', 'postgres', 'postgres://postgres@127.0.0.1:1/test', '--name', 'pg'], env);
    assert.match(
      (await cli(['migrate-users', '--from', 'embedded', '--to', 'pg'], env, 1)).stderr,
      /does not exist yet: there are no users to copy/,
    );
    assert.match(
      (await cli(['--help'], env)).stdout,
      /gatehouse migrate-users --from embedded\|NAME --to embedded\|NAME \[--dry-run\]/,
    );
  });
});

describe('a failed auth enable changes nothing', () => {
  it('keeps status ENABLED on the embedded store when the new database is unreachable', async () => {
    const env = setup('fail');
    await cli(['auth', 'enable'], env);
    await cli(['bind', 'postgres', 'postgres://postgres:secretpw@127.0.0.1:1/test', '--name', 'gone'], env);
    const kept = await cli(['auth', 'enable'], env);
    assert.match(kept.stdout, /users stay in the embedded store/);
    assert.doesNotMatch(kept.stdout, /fitness check: gone/);
    const checks = [
      await cli(['auth', 'enable', '--db', 'gone'], env, 1),
      await cli(['auth', 'enable', '--db', 'gone', '--skip-fitness'], env, 1),
    ];
    for (const r of checks) {
      assert.match(r.stderr, /auth was not changed \(it is still ENABLED with users in the embedded store \(/);
      assert.doesNotMatch(r.stdout + r.stderr, /secretpw/);
    }
    const status = JSON.parse((await cli(['auth', 'status', '--json'], env)).stdout);
    assert.equal(status.enabled, true);
    assert.equal(status.db, 'embedded');
    assert.match(
      (await cli(['auth', 'status'], env)).stdout,
      /auth: ENABLED[^\n]*\n {2}database: {4}the embedded store \(/,
    );
    await cli(['auth', 'disable'], env);
    assert.match(
      (await cli(['auth', 'enable', '--db', 'gone'], env, 1)).stderr,
      /it is still DISABLED with users in the embedded store/,
    );
    assert.equal(JSON.parse((await cli(['auth', 'status', '--json'], env)).stdout).enabled, false);
  });
});

describe('GATEHOUSE_DATABASE_URL is reported as what it is', () => {
  it('auth status names the variable, the kind and the host, never the password', async () => {
    const env = { ...setup('env'), GATEHOUSE_DATABASE_URL: 'postgres://app:hunter2pw@127.0.0.1:5432/test' };
    await cli(['auth', 'disable'], env);
    const text = await cli(['auth', 'status'], env);
    assert.match(text.stdout, /database: {4}GATEHOUSE_DATABASE_URL \(postgres, 127\.0\.0\.1:5432\/test\)/);
    const json = JSON.parse((await cli(['auth', 'status', '--json'], env)).stdout);
    assert.equal(json.db, 'GATEHOUSE_DATABASE_URL');
    assert.equal(json.database, 'GATEHOUSE_DATABASE_URL (postgres, 127.0.0.1:5432/test)');
    assert.doesNotMatch(text.stdout + JSON.stringify(json), /hunter2pw|embedded/);
  });

  it('users list and auth enable say they use it', { skip: pgUp ? false : 'PostgreSQL not reachable' }, async () => {
    const env = { ...setup('envdb'), GATEHOUSE_DATABASE_URL: POSTGRES_URL };
    // A binding added later does not take over from the variable.
    await cli(['bind', 'mysql', 'mysql://root@127.0.0.1:1/test', '--name', 'other'], env);
    const enabled = await cli(['auth', 'enable'], env);
    assert.match(enabled.stdout, /users in GATEHOUSE_DATABASE_URL \(postgres, /);
    assert.doesNotMatch(enabled.stdout, /fitness check: other/);
    const list = await cli(['users', 'list'], env);
    assert.match(list.stderr, /^gatehouse: users in GATEHOUSE_DATABASE_URL \(postgres, [^)]+\)\n$/);
    const unset = { ...env, GATEHOUSE_DATABASE_URL: '' };
    assert.match(
      (await cli(['users', 'list'], unset)).stderr,
      /^gatehouse: users in the embedded store \(/,
      'without the variable: the embedded store, and it says so',
    );
  });
});
