// One door: one table of requests — every credential, rule kind and hostile spelling — run through the
// three entrances (the gate's HTTP path, a WebSocket upgrade, and /auth/check as a trusted proxy asks
// it). Each entrance must reach the same verdict, and whenever it refuses, the recording upstream proves
// the app received nothing. The cases named "finding N" reproduce this month's outside test: each got
// a member past a rule on the previous main.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runCli, spawnServe, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { rawRequest, statusOf } from '../support/raw.js';
import { appLandsUnder, hostileSpellings } from '../support/spellings.js';
import type { User } from '../../src/store/types.js';

const RULES = [
  { pattern: '/admin/*', allow: ['role:admin'] },
  { pattern: '/billing/*', allow: ['group:finance'], mfa: true },
  { pattern: '/reports/*', allow: ['group:finance'], methods: ['GET'] },
  { pattern: '/static/*', public: true },
  { pattern: '/scoped/*', allow: ['scope:reports:read'] },
];

type Expect = 'pass' | 'sign-in' | 'forbidden' | 'mfa' | 'ambiguous' | 'invalid-token';
/** The status each entrance answers a verdict with (JSON clients; browsers get pages or redirects). */
const STATUS: Record<Expect, number> = {
  pass: 200,
  'sign-in': 401,
  forbidden: 403,
  mfa: 403,
  ambiguous: 400,
  'invalid-token': 401,
};
const WS_STATUS: Record<Expect, number> = { ...STATUS, pass: 101 };

interface Case {
  name: string;
  as: string; // a caller below
  method?: string;
  path: string;
  /** Extra request headers (a method override, a content type). */
  headers?: Record<string, string>;
  expect: Expect;
}

const CASES: Case[] = [
  // Credentials.
  { name: 'a cookie session passes where no rule applies', as: 'member', path: '/app/x', expect: 'pass' },
  { name: 'nobody is asked to sign in', as: 'nobody', path: '/app/x', expect: 'sign-in' },
  { name: 'a public path needs no one', as: 'nobody', path: '/static/a.css', expect: 'pass' },
  { name: 'an API key passes', as: 'member-key', path: '/app/x', expect: 'pass' },
  { name: 'an API key that does not exist is nobody', as: 'bad-key', path: '/app/x', expect: 'sign-in' },
  { name: 'a revoked session is nobody', as: 'ended', path: '/app/x', expect: 'sign-in' },
  { name: 'a scoped key passes its scope rule', as: 'scoped-key', path: '/scoped/a', expect: 'pass' },
  { name: 'an unscoped key is refused a scope rule', as: 'member-key', path: '/scoped/a', expect: 'forbidden' },
  { name: 'a session is refused a scope rule', as: 'admin', path: '/scoped/a', expect: 'forbidden' },
  { name: 'an OAuth token opens its resource', as: 'token', path: '/mcp/x', expect: 'pass' },
  { name: 'an OAuth token is refused off its resource', as: 'token', path: '/app/x', expect: 'invalid-token' },
  {
    name: 'an OAuth token for another resource is refused',
    as: 'other-token',
    path: '/mcp/x',
    expect: 'invalid-token',
  },
  { name: 'a revoked OAuth token is refused', as: 'revoked-token', path: '/mcp/x', expect: 'invalid-token' },
  {
    name: 'an OAuth token does not open a case-changed resource path',
    as: 'token',
    path: '/MCP/x',
    expect: 'invalid-token',
  },
  // Rules.
  { name: 'an admin rule refuses a member', as: 'member', path: '/admin/x', expect: 'forbidden' },
  { name: 'an admin rule lets an admin in', as: 'admin', path: '/admin/x', expect: 'pass' },
  {
    name: 'the MFA policy (admins) asks an admin without a factor to enrol',
    as: 'admin-no-factor',
    path: '/app/x',
    expect: 'mfa',
  },
  { name: 'an --mfa rule asks for a factor in this session', as: 'finance', path: '/billing/pay', expect: 'mfa' },
  { name: 'an --mfa rule lets a two-factor session in', as: 'finance-mfa', path: '/billing/pay', expect: 'pass' },
  { name: 'a method-limited rule lets its group GET', as: 'finance', path: '/reports/q3', expect: 'pass' },
  { name: 'a method-limited rule refuses others', as: 'member', path: '/reports/q3', expect: 'forbidden' },
  // Finding 1: encoded letters.
  { name: 'finding 1: /%61dmin', as: 'member', path: '/%61dmin/x', expect: 'forbidden' },
  { name: 'finding 1: /adm%69n', as: 'member', path: '/adm%69n/x', expect: 'forbidden' },
  { name: 'finding 1: /%62illing skips no --mfa rule', as: 'finance', path: '/%62illing/pay', expect: 'mfa' },
  { name: 'finding 1: /%62illing refuses a member', as: 'member', path: '/%62illing/pay', expect: 'forbidden' },
  // Finding 2: case, trailing slash and dot.
  { name: 'finding 2: /ADMIN', as: 'member', path: '/ADMIN/x', expect: 'forbidden' },
  { name: 'finding 2: /admin./x', as: 'member', path: '/admin./x', expect: 'forbidden' },
  { name: 'finding 2: /billing/', as: 'member', path: '/billing/', expect: 'forbidden' },
  { name: 'finding 2: /Billing', as: 'member', path: '/Billing', expect: 'forbidden' },
  { name: 'finding 2: /billing.', as: 'member', path: '/billing.', expect: 'forbidden' },
  // Finding 3: methods.
  {
    name: 'finding 3: POST past a GET-only rule',
    as: 'member',
    method: 'POST',
    path: '/reports/q3',
    expect: 'forbidden',
  },
  {
    name: 'finding 3: POST past a GET-only rule, even for its group',
    as: 'finance',
    method: 'POST',
    path: '/reports/q3',
    expect: 'forbidden',
  },
  { name: 'finding 3: GET covers HEAD', as: 'member', method: 'HEAD', path: '/reports/q3', expect: 'forbidden' },
  { name: 'finding 3: HEAD for the GET group', as: 'finance', method: 'HEAD', path: '/reports/q3', expect: 'pass' },
  // Method overrides: frameworks run these as the method they name (red-team pass).
  {
    name: 'X-HTTP-Method-Override: POST on a GET-only rule',
    as: 'finance',
    path: '/reports/q3',
    headers: { 'X-HTTP-Method-Override': 'POST' },
    expect: 'forbidden',
  },
  {
    name: 'X-Method-Override: DELETE on a GET-only rule',
    as: 'finance',
    path: '/reports/q3',
    headers: { 'X-Method-Override': 'DELETE' },
    expect: 'forbidden',
  },
  {
    name: '?_method=DELETE on a GET-only rule',
    as: 'finance',
    path: '/reports/q3?_method=DELETE',
    expect: 'forbidden',
  },
  {
    name: 'a form POST (its body may say _method) on a GET-only rule',
    as: 'finance',
    method: 'POST',
    path: '/reports/q3',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '0' },
    expect: 'forbidden',
  },
  {
    name: 'an override naming GET itself changes nothing',
    as: 'finance',
    path: '/reports/q3',
    headers: { 'X-HTTP-Method-Override': 'GET' },
    expect: 'pass',
  },
  // Ambiguous spellings are refused outright.
  { name: 'dot segments', as: 'member', path: '/static/../admin/x', expect: 'ambiguous' },
  { name: 'an encoded slash', as: 'admin', path: '/admin%2fx', expect: 'ambiguous' },
  { name: 'an encoded dot', as: 'nobody', path: '/static/%2e%2e/admin', expect: 'ambiguous' },
  { name: 'a ; parameter', as: 'member', path: '/admin;x/y', expect: 'ambiguous' },
  { name: 'a public rule opens only the path as written', as: 'nobody', path: '/STATIC/a.css', expect: 'sign-in' },
];

interface Caller {
  headers: Record<string, string>;
  user?: User;
}

let gh: TestGatehouse;
let upstream: RecordingUpstream;
const callers = new Map<string, Caller>();

async function user(email: string, role: 'admin' | 'member', groups: string[] = []): Promise<User> {
  const u = await gh.store.createUser(
    { email, name: email.split('@')[0]!, role, passwordHash: null, emailVerified: true },
    new Date(),
  );
  return groups.length ? (await gh.store.updateUser(u.id, { groups }, new Date()))! : u;
}

async function cookieOf(u: User, amr: string[]): Promise<Record<string, string>> {
  const { cookieValue } = await gh.sessions.create(u, 'password', { ip: null, userAgent: null }, amr);
  return { cookie: `gatehouse_session=${cookieValue}` };
}

async function setUp(): Promise<void> {
  upstream = await startRecordingUpstream();
  gh = await startTestGatehouse({
    upstream: upstream.url,
    trustedProxies: ['127.0.0.1/32'], // this test plays the proxy that asks /auth/check
    env: {
      GATEHOUSE_ACCESS: JSON.stringify(RULES),
      GATEHOUSE_MCP: JSON.stringify([{ path: '/mcp' }]),
      GATEHOUSE_MFA: 'admins',
    },
  });
  const member = await user('member@example.com', 'member');
  const finance = await user('finance@example.com', 'member', ['finance']);
  const admin = await user('admin@example.com', 'admin');
  callers.set('nobody', { headers: {} });
  callers.set('member', { headers: await cookieOf(member, ['pwd']), user: member });
  callers.set('finance', { headers: await cookieOf(finance, ['pwd']) });
  callers.set('finance-mfa', { headers: await cookieOf(finance, ['pwd', 'otp']) });
  callers.set('admin', { headers: await cookieOf(admin, ['pwd', 'otp']) });
  callers.set('admin-no-factor', { headers: await cookieOf(admin, ['pwd']) });
  const ended = await gh.sessions.create(member, 'password', { ip: null, userAgent: null });
  await gh.sessions.revoke(ended.session.id);
  callers.set('ended', { headers: { cookie: `gatehouse_session=${ended.cookieValue}` } });
  const key = await gh.apiKeys.issue(member, 'one-door', 'member', null);
  callers.set('member-key', { headers: { authorization: `Bearer ${key.token}` } });
  const scoped = await gh.apiKeys.issue(member, 'one-door-scoped', 'member', null, ['reports:read']);
  callers.set('scoped-key', { headers: { authorization: `Bearer ${scoped.token}` } });
  callers.set('bad-key', {
    headers: { authorization: `Bearer ghk_AAAAAAAAAAAA_${randomBytes(32).toString('base64url').slice(0, 43)}` },
  });
  await gh.store.createOAuthClient({
    id: 'ghc_door',
    kind: 'dcr',
    name: 'Door Agent',
    redirectUris: ['http://127.0.0.1/cb'],
    createdAt: new Date(),
    lastUsedAt: null,
    cachedUntil: null,
  });
  const grant = { clientId: 'ghc_door', userId: member.id, scopes: [] };
  const token = await gh.oauthTokens.issueTokens({ ...grant, resource: `${gh.url}/mcp` });
  callers.set('token', { headers: { authorization: `Bearer ${token.accessToken}` } });
  const other = await gh.oauthTokens.issueTokens({ ...grant, resource: `${gh.url}/elsewhere` });
  callers.set('other-token', { headers: { authorization: `Bearer ${other.accessToken}` } });
  const revoked = await gh.oauthTokens.issueTokens({ ...grant, resource: `${gh.url}/mcp` });
  await gh.oauthTokens.revokeFamily(revoked.family);
  callers.set('revoked-token', { headers: { authorization: `Bearer ${revoked.accessToken}` } });
}

const head = (headers: Record<string, string>) =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
const host = () => new URL(gh.url).host;

/** The gate's HTTP path, with the request target exactly as written (no client library normalises it). */
async function throughGate(method: string, path: string, caller: Caller): Promise<number> {
  const text = `${method} ${path} HTTP/1.1\r\nHost: ${host()}\r\nAccept: application/json\r\n${head(caller.headers)}Connection: close\r\n\r\n`;
  return statusOf(await rawRequest(gh.url, text));
}

async function throughWebSocket(path: string, caller: Caller): Promise<number> {
  const text =
    `GET ${path} HTTP/1.1\r\nHost: ${host()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${head(caller.headers)}\r\n`;
  return statusOf(await rawRequest(gh.url, text, { quietMs: 100 }));
}

/** /auth/check as nginx asks it: the original method and URI in headers, the client's credentials as sent. */
async function throughCheck(method: string, path: string, caller: Caller): Promise<number> {
  const text =
    `GET /auth/check HTTP/1.1\r\nHost: ${host()}\r\nAccept: application/json\r\nX-Original-Method: ${method}\r\n` +
    `X-Original-URI: ${path}\r\n${head(caller.headers)}Connection: close\r\n\r\n`;
  return statusOf(await rawRequest(gh.url, text));
}

/** Runs one request through the entrance; asserts its status and that a refusal reached nobody. */
async function assertEntrance(entrance: string, status: Promise<number>, want: number, label: string): Promise<void> {
  const before = upstream.requests.length;
  const got = await status;
  assert.equal(got, want, `${label} through ${entrance}`);
  if (want >= 400 && entrance !== '/auth/check')
    assert.equal(upstream.requests.length, before, `${label}: the app received a refused request through ${entrance}`);
}

describe('one door: every entrance decides alike', () => {
  before(setUp);
  after(async () => {
    await gh.stop();
    await upstream.close();
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const known = callers.get(c.as)!;
      const caller = { ...known, headers: { ...known.headers, ...c.headers } };
      const method = c.method ?? 'GET';
      const label = `${c.as} ${method} ${c.path}`;
      await assertEntrance('the gate', throughGate(method, c.path, caller), STATUS[c.expect], label);
      // A WebSocket handshake is a GET; the other methods have no upgrade to compare.
      if (method === 'GET')
        await assertEntrance('a WebSocket upgrade', throughWebSocket(c.path, caller), WS_STATUS[c.expect], label);
      await assertEntrance('/auth/check', throughCheck(method, c.path, caller), STATUS[c.expect], label);
    });
  }

  it('no generated spelling of /admin/x reaches the app for a member, at any entrance', async () => {
    const member = callers.get('member')!;
    const spellings = hostileSpellings('/admin/x');
    assert.ok(spellings.length > 200, `${spellings.length} spellings`);
    const before = upstream.requests.length;
    const leaks: string[] = [];
    for (const p of spellings) {
      const answers = [
        await throughGate('GET', p, member),
        await throughWebSocket(p, member),
        await throughCheck('GET', p, member),
      ];
      // Either refused everywhere, or (a spelling no lenient app takes for /admin) let through everywhere.
      const refused = answers.map((s) => s >= 400);
      if (refused.some((r) => r !== refused[0])) leaks.push(`${p}: entrances disagree ${answers.join('/')}`);
      if (!refused[0] && appLandsUnder(p, '/admin'))
        leaks.push(`${p}: ${answers.join('/')} though an app reads it as /admin`);
    }
    assert.deepEqual(leaks, []);
    const reached = upstream.requests.slice(before).filter((r) => appLandsUnder(r.url, '/admin'));
    assert.deepEqual(
      reached.map((r) => r.url),
      [],
    );
  });
});

describe('one door: /auth/check from a peer that is not a trusted proxy', () => {
  let plain: TestGatehouse;
  before(async () => {
    plain = await startTestGatehouse({ env: { GATEHOUSE_ACCESS: JSON.stringify(RULES) } });
  });
  after(() => plain.stop());

  it('never answers 200 for an original URI it cannot believe while rules exist (finding 5)', async () => {
    const u = await plain.store.createUser(
      { email: 'm@example.com', name: 'M', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    const { cookieValue } = await plain.sessions.create(u, 'password', { ip: null, userAgent: null });
    const named: Array<Record<string, string>> = [
      { 'x-original-uri': '/admin/x' },
      { 'x-forwarded-uri': '/admin/x', 'x-forwarded-method': 'GET' },
    ];
    for (const h of named) {
      const r = await fetch(`${plain.url}/auth/check`, {
        headers: { ...h, cookie: `gatehouse_session=${cookieValue}`, accept: 'application/json' },
      });
      assert.equal(r.status, 403, JSON.stringify(h));
      assert.match(((await r.json()) as { reason: string }).reason, /trusted proxy/);
    }
  });

  it('says at start that /auth/check cannot learn the original request', () => {
    assert.ok(
      plain.logs.some((l) => /trusted prox/i.test(l) && /rules/.test(l)),
      plain.logs.join('\n'),
    );
  });
});

describe('one door: nothing configured before the first start leaves it open (finding 4)', () => {
  const commands: Array<[string, string[]]> = [
    ['mcp add', ['mcp', 'add', '/mcp']],
    ['access add', ['access', 'add', '/admin/*', '--allow', 'role:admin']],
    ['bind smtp', ['bind', 'smtp', 'smtp://127.0.0.1:2525']],
  ];
  for (const [name, args] of commands) {
    it(`\`${name}\` on a fresh home, then serve: auth is on and the setup link is printed`, async () => {
      const home = tempHome();
      const up = await startRecordingUpstream();
      try {
        const cli = await runCli(args, { GATEHOUSE_HOME: home.home });
        assert.equal(cli.code, 0, cli.stderr);
        const s = await spawnServe(['--upstream', up.url], { GATEHOUSE_HOME: home.home });
        try {
          assert.match(s.output(), /setup=/, s.output());
          assert.doesNotMatch(s.output(), /auth: DISABLED|auth is off/i);
          for (const path of ['/', '/mcp']) {
            const r = await fetch(s.url + path, {
              method: 'POST',
              headers: { accept: 'application/json', 'content-type': 'application/json' },
              body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
            });
            assert.equal(r.status, 401, `${name}: POST ${path}`);
          }
          assert.equal(up.requests.length, 0, 'the app received nothing');
        } finally {
          await s.stop();
        }
      } finally {
        await up.close();
        home.cleanup();
      }
    });
  }
});

describe('one door: the JWKS answers on every host name (finding 6)', () => {
  let pub: TestGatehouse;
  before(async () => {
    pub = await startTestGatehouse({ publicUrl: new URL('https://login.example.com') });
  });
  after(() => pub.stop());

  it("serves the keys on Gatehouse's internal address though a public URL is set", async () => {
    const r = await fetch(`${pub.url}/auth/.well-known/jwks.json`);
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { keys: unknown[] }).keys.length >= 1);
    // Other routes still go to the public URL.
    assert.equal((await fetch(`${pub.url}/auth/sign-in`, { redirect: 'manual' })).status, 421);
  });
});

describe('one door: hybrid mode at forward-auth', () => {
  let hybrid: TestGatehouse;
  before(async () => {
    hybrid = await startTestGatehouse({ env: { GATEHOUSE_AUTH_MODE: 'hybrid' } });
  });
  after(() => hybrid.stop());

  it('does not let a loopback proxy through for everyone it asks about (red-team pass)', async () => {
    // A local nginx asking /auth/check is always loopback: without a trusted proxy naming the client,
    // hybrid mode's "the loopback peer passes" must not make every visitor pass.
    const r = await fetch(`${hybrid.url}/auth/check`, { headers: { accept: 'application/json' } });
    assert.equal(r.status, 401);
  });
});
