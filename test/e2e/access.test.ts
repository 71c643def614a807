// Access rules through the real gate (architecture.md#access): order, every kind of WHO, the 403 answers, live
// reload, path tricks against a protected prefix, WebSockets, and `gatehouse access test`.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { runCli, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { rawRequest, statusOf } from '../support/raw.js';
import { updateState } from '../../src/config/state.js';

const PASSWORD = 'correct horse battery staple';
const RULES = [
  { pattern: '/healthz', public: true },
  { pattern: '/admin/*', allow: ['role:admin'] },
  { pattern: '/ops/*', allow: ['group:ops', 'email:boss@corp.example'] },
  { pattern: '/corp/*', allow: ['domain:corp.example'] },
  { pattern: '/sso/*', allow: ['provider:google'] },
  { pattern: '/reports/*', allow: ['any'], methods: ['GET', 'HEAD'] },
  { pattern: '/reports/*', allow: ['role:operator'] },
];

async function until(what: string, check: () => Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('access rules at the gate', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  const scope = () => ({ home: gh.home, server: 'local', profile: 'main' });
  const user = async (email: string, setup?: { role?: string; groups?: string[] }) => {
    const c = new TestClient(gh.url);
    assert.equal((await c.signUp(email, PASSWORD, 'Test Person')).status, 303);
    if (setup) {
      const u = (await gh.store.findUserByEmail(email))!;
      await gh.store.updateUser(
        u.id,
        { ...(setup.role ? { role: setup.role } : {}), ...(setup.groups ? { groups: setup.groups } : {}) },
        new Date(),
      );
      await new Promise((r) => setTimeout(r, 2100)); // the session cache sees the change within 2 s
    }
    return c;
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url });
    updateState(scope(), (s) => ({ ...s!, access: RULES }));
    gh.reload();
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.clear());

  it('lets the first matching rule decide, for every kind of WHO, and forwards groups', async () => {
    const member = await user(`m${randomBytes(3).toString('hex')}@example.com`);
    const ops = await user(`o${randomBytes(3).toString('hex')}@example.com`, { groups: ['ops', 'finance'] });
    const corp = await user(`c${randomBytes(3).toString('hex')}@corp.example`, { role: 'operator' });
    const json = { accept: 'application/json' };
    const status = async (c: TestClient, method: string, path: string) =>
      (await c.send(method, path, { headers: json })).status;
    assert.equal(await status(member, 'GET', '/admin/users'), 403);
    assert.equal(await status(member, 'GET', '/admin'), 403, '/admin/* covers /admin itself');
    assert.equal(await status(ops, 'GET', '/ops/deploy'), 200);
    assert.equal(await status(member, 'GET', '/ops/deploy'), 403);
    assert.equal(await status(corp, 'GET', '/corp/wiki'), 200);
    assert.equal(await status(member, 'GET', '/corp/wiki'), 403);
    assert.equal(await status(member, 'GET', '/sso/x'), 403, 'password sign-in is not provider:google');
    assert.equal(await status(member, 'GET', '/reports/q3'), 200, 'any, for GET');
    assert.equal(await status(member, 'POST', '/reports/q3'), 403, 'the next rule decides POST');
    assert.equal(await status(corp, 'POST', '/reports/q3'), 200, 'role:operator');
    assert.equal(await status(member, 'GET', '/elsewhere'), 200, 'no rule: any signed-in user');
    assert.equal((await new TestClient(gh.url).send('GET', '/healthz', { headers: json })).status, 200, 'public');
    assert.match((await ops.get('/auth/account')).text, /Groups: finance, ops/, 'shown on the account page');
    const seenOps = upstream.requests.find((r) => r.url === '/ops/deploy')!;
    assert.equal(seenOps.headers['x-forwarded-groups'], 'finance,ops');
    assert.equal(
      upstream.requests.find((r) => r.url === '/elsewhere')!.headers['x-forwarded-groups'],
      undefined,
      'absent when none',
    );
    assert.ok(
      !upstream.requests.some(
        (r) =>
          r.url.startsWith('/admin') ||
          r.url === '/sso/x' ||
          (r.url === '/corp/wiki' && r.headers['x-forwarded-email']?.toString().endsWith('@example.com')),
      ),
    );
  });

  it('answers 403 with a page for browsers and JSON otherwise; the app receives nothing; the denial is audited', async () => {
    const email = `p${randomBytes(3).toString('hex')}@example.com`;
    const c = await user(email);
    const pageAnswer = await c.get('/admin/settings?tab=1');
    assert.equal(pageAnswer.status, 403);
    assert.match(pageAnswer.text, /This page is not open to you/);
    assert.ok(pageAnswer.text.includes(email), 'says who you are');
    assert.match(pageAnswer.text, /<form method="post" action="\/auth\/sign-out"/);
    assert.equal(pageAnswer.headers['x-content-type-options'], 'nosniff');
    const api = await c.send('DELETE', '/admin/users/1', { headers: { accept: 'application/json' } });
    assert.equal(api.status, 403);
    assert.deepEqual(JSON.parse(api.text), { error: 'forbidden' });
    assert.equal(upstream.requests.length, 0);
    const line = gh.auditLines.find((l) => l.includes('"access.denied"') && l.includes('/admin/settings'));
    assert.ok(line, 'audited');
    assert.match(line, /rule 2 \(\/admin\/\*\)/);
  });

  it('never lets a path trick past /admin/* for a member: refused, and the app sees nothing', async () => {
    const c = await user(`t${randomBytes(3).toString('hex')}@example.com`);
    const cookie = c.cookieHeader()!;
    const tricks = [
      '/healthz/../admin',
      '/healthz/%2e%2e/admin',
      '/healthz%2f..%2fadmin',
      '/healthz/%252e%252e/admin',
      '/healthz/..;/admin',
      '/healthz\\..\\admin',
      '/healthz/%5c../admin',
      '//admin',
      '/./admin',
      '/admin%00.css',
      '/admin/.',
      '/%c0%ae%c0%ae/admin',
      '/admin%2fusers',
      '/%61dmin',
      '/admin#/healthz',
      '/admin?x=/healthz',
      '/ADMIN/../admin/x',
    ];
    for (const path of tricks) {
      const answer = await rawRequest(
        gh.url,
        `GET ${path} HTTP/1.1\r\nHost: ${new URL(gh.url).host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
      );
      const code = statusOf(answer);
      const reached = upstream.requests.filter((r) => r.url.toLowerCase().includes('admin') || r.url.includes('%61'));
      assert.ok(
        code === 400 || code === 403 || (code === 200 && !reached.some((r) => /^\/admin(\/|$)/.test(r.url))),
        `${path}: ${code}`,
      );
    }
    for (const r of upstream.requests) assert.doesNotMatch(r.url, /^\/admin(\/|$|\?)/, `the app received ${r.url}`);
  });

  it('refuses a WebSocket the rules refuse', async () => {
    const c = await user(`w${randomBytes(3).toString('hex')}@example.com`);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(gh.url.replace('http', 'ws') + '/admin/live', {
        headers: { cookie: c.cookieHeader()! },
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => {});
    });
    assert.equal(status, 403);
    assert.equal(upstream.requests.length, 0);
  });

  it('applies a rule change to the running server within 2 s, without a reload call', async () => {
    const c = await user(`l${randomBytes(3).toString('hex')}@example.com`);
    assert.equal((await c.get('/fresh/page', { accept: 'application/json' })).status, 200);
    updateState(scope(), (s) => ({ ...s!, access: [{ pattern: '/fresh/*', allow: ['role:admin'] }, ...RULES] }));
    const t0 = Date.now();
    await until(
      'the new rule',
      async () => (await c.get('/fresh/page', { accept: 'application/json' })).status === 403,
      3000,
    );
    assert.ok(Date.now() - t0 < 2500, `${Date.now() - t0} ms`);
    updateState(scope(), (s) => ({ ...s!, access: RULES }));
    gh.reload();
  });

  it('`gatehouse access test` says which rule decides and why', async () => {
    const email = `x${randomBytes(3).toString('hex')}@example.com`;
    await user(email, { groups: ['ops'] });
    const env = { GATEHOUSE_HOME: gh.home };
    const denied = await runCli(['access', 'test', 'GET', '/admin/users', '--as', email], env);
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /^DENIED \(403\): GET \/admin\/users as .* \(role member, groups ops\)/m);
    assert.match(denied.stdout, /rule 2 \(\/admin\/\*\) allows role:admin; this user is none of them/);
    const allowed = await runCli(['access', 'test', 'GET', '/ops/x', '--as', email], env);
    assert.match(allowed.stdout, /^ALLOWED: .*\n {2}rule 3 \(\/ops\/\*\) allows group:ops/m);
    const list = await runCli(['access', 'list'], env);
    assert.match(list.stdout, /1 {2}\/healthz public\n\s+2 {2}\/admin\/\* allow role:admin/);
    const bad = await runCli(['access', 'add', '/x', '--allow', 'team:y'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"team:y" is not one of any, role:/);
    // A spelling is explained as the reading that decided it.
    const spelled = await runCli(['access', 'test', 'GET', '/%61dmin/Users/', '--as', email], env);
    assert.match(
      spelled.stdout,
      /^DENIED \(403\): GET \/%61dmin\/Users\/ .*\n {2}read as \/admin\/users, as a lenient app would/m,
    );
    const head = await runCli(['access', 'test', 'HEAD', '/admin/users', '--as', email], env);
    assert.match(head.stdout, /^DENIED/m);
  });

  it('`gatehouse access default deny` refuses what no rule allows, live; `allow` restores it', async () => {
    const c = await user(`d${randomBytes(3).toString('hex')}@example.com`);
    const env = { GATEHOUSE_HOME: gh.home };
    assert.equal((await c.get('/unruled/page', { accept: 'application/json' })).status, 200);
    const set = await runCli(['access', 'default', 'deny'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match((await runCli(['access', 'list'], env)).stdout, /where no rule applies: deny/);
    await until(
      'the default',
      async () => (await c.get('/unruled/page', { accept: 'application/json' })).status === 403,
      3000,
    );
    assert.equal((await c.get('/ops/x', { accept: 'application/json' })).status, 403, 'not in ops');
    const explained = await runCli(['access', 'test', 'GET', '/unruled', '--as', 'nobody-here@example.com'], env);
    assert.equal(explained.code, 1, 'an unknown user is an error');
    assert.equal((await runCli(['access', 'default', 'maybe'], env)).code, 2);
    assert.equal((await runCli(['access', 'default', 'allow'], env)).code, 0);
    await until(
      'the default back',
      async () => (await c.get('/unruled/page', { accept: 'application/json' })).status === 200,
      3000,
    );
  });
});

describe('access rules at start-up', () => {
  it('refuses bad GATEHOUSE_ACCESS with the other problems, in one message', async () => {
    const { tempHome } = await import('../support/gatehouse.js');
    const home = tempHome();
    const r = await runCli(['serve', '--port', '0'], {
      GATEHOUSE_HOME: home.home,
      GATEHOUSE_ACCESS: JSON.stringify([
        { pattern: 'admin', allow: ['role:admin'] },
        { pattern: '/x', public: true, allow: ['any'] },
        { pattern: '/y', allow: ['team:z'] },
      ]),
      GATEHOUSE_SESSION_IDLE: 'forever',
    });
    home.cleanup();
    assert.equal(r.code, 2);
    assert.match(r.stderr, /GATEHOUSE_ACCESS rule 1: pattern "admin" must start with "\/"/);
    assert.match(r.stderr, /GATEHOUSE_ACCESS rule 2: a rule is either public or allows someone, not both/);
    assert.match(r.stderr, /GATEHOUSE_ACCESS rule 3: "team:z" is not one of/);
    assert.match(r.stderr, /GATEHOUSE_SESSION_IDLE must be a duration/);
  });
});
