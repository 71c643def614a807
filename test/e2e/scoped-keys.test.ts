// Scoped keys (architecture.md#devices): a key's scopes are forwarded as X-Forwarded-Scopes and open `scope:S` access
// rules; a key with another scope is refused 403 and the app sees nothing; a client cannot forge the
// header; a key never carries more role than its owner; the CLI takes --scopes and refuses bad ones.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { runCli, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { updateState } from '../../src/config/state.js';
import { parseScopes } from '../../src/session/api-keys.js';

const RULES = [{ pattern: '/reports/*', allow: ['scope:reports:read'] }];

describe('scoped keys', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  const api = (token: string | null, path: string, headers: Record<string, string> = {}) =>
    new TestClient(gh.url).get(path, {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    });
  const owner = async (email: string) => {
    await new TestClient(gh.url).signUp(email, 'a long enough password');
    return (await gh.store.findUserByEmail(email))!;
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url });
    updateState({ home: gh.home, server: 'local', profile: 'main' }, (s) => ({ ...s!, access: RULES }));
    gh.reload();
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.clear());

  it('pass a rule that wants their scope, with X-Forwarded-Scopes; another scope is refused 403 and the app sees nothing', async () => {
    const u = await owner('scoped@example.com');
    const reader = await gh.apiKeys.issue(u, 'reports', 'member', null, ['reports:read', 'export']);
    const writer = await gh.apiKeys.issue(u, 'other', 'member', null, ['reports:write']);
    const plain = await gh.apiKeys.issue(u, 'plain', 'member', null);

    const ok = await api(reader.token, '/reports/q1');
    assert.equal(ok.status, 200);
    assert.equal(upstream.requests.length, 1);
    assert.equal(upstream.requests[0]!.headers['x-forwarded-scopes'], 'export reports:read', 'sorted, space-separated');

    upstream.clear();
    const refused = await api(writer.token, '/reports/q1');
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.text), { error: 'forbidden' });
    assert.equal((await api(plain.token, '/reports/q1')).status, 403, 'a key without scopes');
    assert.equal(upstream.requests.length, 0, 'the app saw none of the refused requests');

    // A path no rule covers: any key passes, and an unscoped key sends no scopes header at all.
    assert.equal((await api(plain.token, '/elsewhere')).status, 200);
    assert.equal(upstream.requests[0]!.headers['x-forwarded-scopes'], undefined);
    assert.deepEqual(JSON.parse((await api(reader.token, '/auth/me')).text).scopes, ['export', 'reports:read']);
  });

  it('a session is never a scope holder: the browser of the same owner is refused by the scope rule', async () => {
    const c = new TestClient(gh.url);
    await c.signUp('scoped-browser@example.com', 'a long enough password');
    assert.equal((await c.get('/reports/q1', { accept: 'application/json' })).status, 403);
    assert.equal(upstream.requests.length, 0);
  });

  it('strips a client-sent X-Forwarded-Scopes in every spelling, and it opens no scope rule', async () => {
    const u = await owner('forger@example.com');
    const plain = await gh.apiKeys.issue(u, 'plain', 'member', null);
    for (const name of ['X-Forwarded-Scopes', 'x_forwarded_scopes', 'X-FORWARDED-SCOPES']) {
      assert.equal((await api(plain.token, '/reports/q1', { [name]: 'reports:read' })).status, 403, name);
      const passed = await api(plain.token, '/elsewhere', { [name]: 'reports:read' });
      assert.equal(passed.status, 200);
    }
    assert.equal(upstream.requests.length, 3);
    for (const r of upstream.requests) {
      assert.ok(
        !Object.keys(r.headers).some((h) => h.replaceAll('_', '-').toLowerCase() === 'x-forwarded-scopes'),
        'no copy reached the app',
      );
    }
    // Signed out too: the forged header never reaches the app, nor opens anything.
    const anon = await api(null, '/reports/q1', { 'x-forwarded-scopes': 'reports:read', 'x-forwarded-user': 'x' });
    assert.equal(anon.status, 401);
  });

  it('/auth/check forwards the scopes of a key with the same writer', async () => {
    const u = await owner('check-scopes@example.com');
    const reader = await gh.apiKeys.issue(u, 'reports', 'member', null, ['reports:read']);
    const r = await api(reader.token, '/auth/check');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-forwarded-scopes'], 'reports:read');
    const c = new TestClient(gh.url);
    await c.signUp('check-session@example.com', 'a long enough password');
    const s = await c.get('/auth/check');
    assert.equal(s.status, 200);
    assert.equal(s.headers['x-forwarded-scopes'], '', 'present and empty for a session');
  });

  it('never exceed their owner: a member asking for admin gets member, whatever the scopes', async () => {
    const u = await owner('capped@example.com');
    const k = await gh.apiKeys.issue(u, 'greedy', 'admin', null, ['reports:read']);
    assert.equal(k.key.role, 'member');
    await api(k.token, '/elsewhere');
    assert.equal(upstream.requests[0]!.headers['x-forwarded-role'], 'member');
  });

  it('are made with `keys create --scopes` and listed with them; bad scopes are a usage error', async () => {
    const env = { GATEHOUSE_HOME: gh.home };
    await owner('cli-scopes@example.com');
    const made = await runCli(
      [
        'keys',
        'create',
        '--user',
        'cli-scopes@example.com',
        '--name',
        'etl',
        '--scopes',
        'reports:read, Reports:Write',
      ],
      env,
    );
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /scopes reports:read reports:write/);
    const token = made.stdout.trim().split('\n').at(-1)!;
    assert.equal((await api(token, '/reports/x')).status, 200);
    const list = JSON.parse((await runCli(['keys', 'list', '--json'], env)).stdout) as Array<{
      name: string;
      scopes: string[];
    }>;
    assert.deepEqual(list.find((k) => k.name === 'etl')!.scopes, ['reports:read', 'reports:write']);
    const bad = await runCli(
      ['keys', 'create', '--user', 'cli-scopes@example.com', '--name', 'x', '--scopes', 'a b"c'],
      env,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--scopes: "b"c" is not a scope name/);
  });

  it('parses scope lists: spaces or commas, lower-cased, sorted, unique, at most 32', () => {
    assert.deepEqual(parseScopes(' b:read,a  A '), ['a', 'b:read']);
    assert.deepEqual(parseScopes(''), []);
    assert.match(parseScopes('ok bad\u00e9') as string, /not a scope name/);
    assert.match(parseScopes(Array.from({ length: 33 }, (_, i) => `s${i}`).join(' ')) as string, /at most 32/);
  });
});
