// The admin setup link, attacked the way a leaked one would be: links printed by earlier
// `auth enable` runs or starts (CI and container logs keep them), a second link presented after the
// first admin exists, and dead links that must say so instead of offering a form that fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { setupLinkLine } from '../../src/auth/setup-link.js';
import { randomToken, sha256Hex } from '../../src/security/tokens.js';
import type { Store } from '../../src/store/types.js';

const PASSWORD = 'a long admin password';
const USED = /This setup link has already been used or has expired\. An admin account exists — sign in instead\./;
const STALE = /This setup link is no longer valid\. Run `gatehouse auth enable` to print a fresh one\./;

const tokenOf = (line: string | null): string => /setup=([A-Za-z0-9_-]+)/.exec(line ?? '')![1]!;

/** What `gatehouse auth enable` or a first `serve` does: mint a link, return its token. */
async function mint(store: Store): Promise<string> {
  return tokenOf(await setupLinkLine(store, 'http://127.0.0.1:4180', '/auth', Date.now()));
}

/** A setup link written straight into the store, as one that somehow survived would be. */
async function plant(store: Store): Promise<string> {
  const token = randomToken(32);
  const now = Date.now();
  await store.createToken({
    hash: sha256Hex(token),
    kind: 'setup',
    userId: null,
    email: null,
    createdAt: new Date(now),
    expiresAt: new Date(now + 3600_000),
  });
  return token;
}

async function admins(store: Store): Promise<string[]> {
  return (await store.listUsers({ limit: 1000, offset: 0 })).filter((u) => u.role === 'admin').map((u) => u.email);
}

const signUpWith = (gh: TestGatehouse, email: string, setup: string) =>
  new TestClient(gh.url).signUp(email, PASSWORD, 'Someone', { setup });

describe('setup links: one live link, and none once an admin exists', () => {
  let gh: TestGatehouse;
  let linkA: string;
  let linkB: string;
  let survivor: string;
  before(async () => {
    gh = await startTestGatehouse();
    linkA = gh.setupToken!;
    assert.ok(linkA, 'the first start prints a link');
  });
  after(() => gh.stop());

  it('minting a new link burns every older one: link A is refused, and says so', async () => {
    linkB = await mint(gh.store);
    const page = await new TestClient(gh.url).get(`/auth/sign-up?setup=${linkA}`);
    assert.equal(page.status, 410);
    assert.match(page.text, STALE);
    assert.doesNotMatch(page.text, /name="password"/, 'no form that can only fail');
    const r = await signUpWith(gh, 'early@example.com', linkA);
    assert.equal(r.status, 410);
    assert.match(r.text, STALE);
    assert.equal(await gh.store.countUsers(), 0, 'the old link made nobody anything');
  });

  it('the newest link shows the admin form, and looking at it does not use it up', async () => {
    for (let i = 0; i < 2; i++) {
      const page = await new TestClient(gh.url).get(`/auth/sign-up?setup=${linkB}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /Create the admin account/);
    }
  });

  it('the first admin, made with link B, kills every other stored link', async () => {
    survivor = await plant(gh.store); // e.g. printed by a racing `auth enable`
    const r = await signUpWith(gh, 'root@example.com', linkB);
    assert.equal(r.status, 303);
    assert.deepEqual(await admins(gh.store), ['root@example.com']);
    assert.equal(
      await gh.store.findToken(sha256Hex(survivor), 'setup', new Date()),
      null,
      'burnt with the first admin',
    );
  });

  it('a used link says an admin exists, on GET and on POST, and makes no one admin', async () => {
    for (const link of [linkA, linkB, survivor, randomToken(32)]) {
      const page = await new TestClient(gh.url).get(`/auth/sign-up?setup=${link}`);
      assert.equal(page.status, 410);
      assert.match(page.text, USED);
      assert.match(page.text, /href="\/auth\/sign-in"/);
    }
    const r = await signUpWith(gh, 'second@example.com', linkB);
    assert.equal(r.status, 410);
    assert.match(r.text, USED);
    assert.equal(await gh.store.findUserByEmail('second@example.com'), null);
  });

  it('no new link is minted once users exist, and a link still stored is refused and burnt', async () => {
    assert.equal(await setupLinkLine(gh.store, gh.url, '/auth', Date.now()), null);
    const leaked = await plant(gh.store);
    const r = await signUpWith(gh, 'intruder@example.com', leaked);
    assert.equal(r.status, 410);
    assert.match(r.text, USED);
    assert.equal(await gh.store.findUserByEmail('intruder@example.com'), null, 'the old code made a second admin here');
    assert.equal(await gh.store.findToken(sha256Hex(leaked), 'setup', new Date()), null);

    const onGet = await plant(gh.store);
    assert.match((await new TestClient(gh.url).get(`/auth/sign-up?setup=${onGet}`)).text, USED);
    assert.equal(
      await gh.store.findToken(sha256Hex(onGet), 'setup', new Date()),
      null,
      'a live link met after setup is burnt',
    );
    assert.deepEqual(await admins(gh.store), ['root@example.com']);
  });
});

describe('`gatehouse auth enable` setup links', () => {
  let home: ReturnType<typeof tempHome>;
  before(() => (home = tempHome()));
  after(() => home.cleanup());

  const enable = async (args: string[] = [], extra: Record<string, string> = {}) => {
    const r = await runCli(['auth', 'enable', ...args], { GATEHOUSE_HOME: home.home, ...extra });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  it('two runs: the first link is refused, the second makes the admin; a later link is refused', async () => {
    const first = tokenOf(await enable());
    const second = tokenOf(await enable());
    assert.notEqual(first, second);
    // The same home and scope the CLI wrote; the server itself prints no link here (that would burn both).
    const gh = await startTestGatehouse({ home: home.home, announceSetup: false });
    try {
      assert.match((await new TestClient(gh.url).get(`/auth/sign-up?setup=${first}`)).text, STALE);
      assert.equal((await signUpWith(gh, 'first@example.com', first)).status, 410);
      assert.equal((await signUpWith(gh, 'admin@example.com', second)).status, 303);
      assert.doesNotMatch(await enable(), /setup=/, 'no link once an admin exists');
      assert.equal((await signUpWith(gh, 'again@example.com', second)).status, 410);
      assert.equal((await signUpWith(gh, 'first-again@example.com', first)).status, 410);
      assert.deepEqual(await admins(gh.store), ['admin@example.com']);
      assert.equal(await gh.store.countUsers(), 1);
    } finally {
      await gh.stop();
    }
  });

  it('prints the public URL when configured, else the configured host and port', async () => {
    const fresh = tempHome();
    try {
      const run = (args: string[], extra: Record<string, string>) =>
        runCli(['auth', 'enable', ...args], {
          GATEHOUSE_HOME: fresh.home,
          GATEHOUSE_PUBLIC_URL: '',
          GATEHOUSE_PORT: '',
          GATEHOUSE_HOST: '',
          ...extra,
        });
      const link = (out: string) => /create the admin account at (\S+)\/auth\/sign-up\?setup=/.exec(out)?.[1];
      assert.equal(link((await run([], { GATEHOUSE_PORT: '4999' })).stdout), 'http://127.0.0.1:4999');
      assert.equal(
        link((await run([], { GATEHOUSE_PORT: '5000', GATEHOUSE_HOST: '0.0.0.0' })).stdout),
        'http://127.0.0.1:5000',
        'a wildcard bind is not a browser address',
      );
      assert.equal(
        link((await run([], { GATEHOUSE_PORT: '5000', GATEHOUSE_HOST: 'gate.internal' })).stdout),
        'http://gate.internal:5000',
      );
      assert.equal(
        link((await run(['--port', '5001'], { GATEHOUSE_PORT: '4999' })).stdout),
        'http://127.0.0.1:5001',
        'the flag wins, as with serve',
      );
      assert.equal(
        link(
          (await run([], { GATEHOUSE_PUBLIC_URL: 'https://login.example.com/ignored/path', GATEHOUSE_PORT: '4999' }))
            .stdout,
        ),
        'https://login.example.com',
      );
      assert.equal(
        link((await run(['--public-url', 'https://gate.example.org:8443'], {})).stdout),
        'https://gate.example.org:8443',
      );
      assert.equal(link((await run([], {})).stdout), 'http://127.0.0.1:4180', 'the default serve port');
      const bad = await run([], { GATEHOUSE_PUBLIC_URL: 'ftp://x' });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /public URL "ftp:\/\/x" must be an http:\/\/ or https:\/\/ URL/);
    } finally {
      fresh.cleanup();
    }
  });
});
