// `gatehouse mcp add|list|remove` (architecture.md#oauth): a path becomes an OAuth protected resource on the running
// server within 2 s, and an ordinary path of the app again after `remove`; bad settings stop start-up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempHome, withGatehouse } from '../support/gatehouse.js';

const { gh, upstream } = withGatehouse({ upstream: true });

async function until(what: string, ok: () => Promise<boolean>, ms = 3000): Promise<number> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

const post = (path: string) =>
  fetch(gh.url + path, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: '{}',
  });

describe('gatehouse mcp', () => {
  it('adds a resource live, lists it, and removes it again', async () => {
    const env = { GATEHOUSE_HOME: gh.home };
    assert.equal((await post('/tools')).headers.get('www-authenticate'), 'Cookie realm="gatehouse"');
    const added = await runCli(['mcp', 'add', '/tools', '--name', 'Team tools', '--scopes', 'tools read'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /✓ \/tools "Team tools" scopes: tools read/);
    const ms = await until(
      'the Bearer challenge',
      async () => (await post('/tools/x')).headers.get('www-authenticate')?.startsWith('Bearer ') ?? false,
    );
    assert.ok(ms < 2500, `${ms} ms`);
    assert.match(
      (await post('/tools')).headers.get('www-authenticate')!,
      /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/tools", scope="tools read"/,
    );
    const prm = await fetch(`${gh.url}/.well-known/oauth-protected-resource/tools`);
    assert.equal(prm.status, 200);
    assert.equal(((await prm.json()) as { resource_name: string }).resource_name, 'Team tools');

    const list = await runCli(['mcp', 'list', '--json'], env);
    assert.deepEqual(JSON.parse(list.stdout), [{ path: '/tools', name: 'Team tools', scopes: ['tools', 'read'] }]);
    assert.match((await runCli(['mcp', 'list'], env)).stdout, /^\/tools "Team tools" scopes: tools read$/m);

    const bad = await runCli(['mcp', 'add', 'tools/x'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /path "tools\/x" must start with "\/"/);
    assert.equal((await runCli(['mcp', 'add', '/tools/sub'], env)).code, 2, 'an overlapping resource is refused');
    assert.equal((await runCli(['mcp', 'remove', '/nothing'], env)).code, 1);
    assert.equal(
      (await runCli(['mcp', 'add', '/x'], { ...env, GATEHOUSE_MCP: '[]' })).code,
      1,
      'not while the variable decides',
    );

    assert.equal((await runCli(['mcp', 'remove', '/tools'], env)).code, 0);
    await until(
      'the cookie challenge again',
      async () => (await post('/tools')).headers.get('www-authenticate') === 'Cookie realm="gatehouse"',
    );
    upstream.clear();
    const wk = await fetch(`${gh.url}/.well-known/oauth-protected-resource/tools`);
    assert.equal(wk.status, 401, 'an ordinary path of the app again (behind the login)');
    assert.match((await runCli(['mcp', 'list'], env)).stdout, /no MCP resources/);
  });
});

describe('MCP settings at start-up', () => {
  it('refuses bad GATEHOUSE_MCP and GATEHOUSE_OAUTH_DCR with the other problems, in one message', async () => {
    const home = tempHome();
    const r = await runCli(['serve', '--port', '0'], {
      GATEHOUSE_HOME: home.home,
      GATEHOUSE_MCP: JSON.stringify([{ path: 'mcp' }, { path: '/x', scopes: ['a b'] }]),
      GATEHOUSE_OAUTH_DCR: 'maybe',
    });
    home.cleanup();
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /GATEHOUSE_MCP entry 1: path "mcp" must start with "\/"/);
    assert.match(r.stderr, /GATEHOUSE_MCP entry 2: scope "a b" must be/);
    assert.match(r.stderr, /GATEHOUSE_OAUTH_DCR must be on or off, not "maybe"/);
  });
});
