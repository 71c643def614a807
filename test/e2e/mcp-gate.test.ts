// OAuth tokens at the gate beyond plain requests (architecture.md#oauth): scopes meet the access rules as `scope:S`,
// and WebSockets opened with a token work only on its resource path, never pass the token on, and
// close within seconds of the token's revocation on any replica.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { withGatehouse } from '../support/gatehouse.js';

const { gh, upstream } = withGatehouse({
  upstream: true,
  env: {
    GATEHOUSE_MCP: JSON.stringify([{ path: '/mcp', scopes: ['tools', 'admin'] }]),
    GATEHOUSE_ACCESS: JSON.stringify([{ pattern: '/mcp/admin/*', allow: ['scope:admin'] }]),
  },
});

let token: string;
let family: string;

describe('WebSockets with OAuth tokens', () => {
  before(async () => {
    const user = await gh.store.createUser(
      { email: 'ws-agent@example.com', name: 'WS', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    await gh.store.createOAuthClient({
      id: 'ghc_ws',
      kind: 'dcr',
      name: 'WS Agent',
      redirectUris: ['http://127.0.0.1/cb'],
      createdAt: new Date(),
      lastUsedAt: null,
      cachedUntil: null,
    });
    const issued = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_ws',
      userId: user.id,
      resource: `${gh.url}/mcp`,
      scopes: [],
    });
    token = issued.accessToken;
    family = issued.family;
  });

  it('lets access rules decide on scopes: scope:admin opens /mcp/admin, a token without it gets 403', async () => {
    const user = (await gh.store.findUserByEmail('ws-agent@example.com'))!;
    const admin = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_ws',
      userId: user.id,
      resource: `${gh.url}/mcp`,
      scopes: ['admin'],
    });
    const get = (t: string, path: string) =>
      fetch(gh.url + path, { headers: { authorization: `Bearer ${t}`, accept: 'application/json' } });
    upstream.clear();
    assert.equal((await get(token, '/mcp/admin/x')).status, 403);
    assert.equal((await get(token, '/mcp/tools')).status, 200);
    assert.equal((await get(admin.accessToken, '/mcp/admin/x')).status, 200);
    assert.deepEqual(
      upstream.requests.map((r) => r.url),
      ['/mcp/tools', '/mcp/admin/x'],
    );
  });

  const open = (path: string, bearer = token) =>
    new Promise<{ status: number; ws: WebSocket | null }>((resolve) => {
      const ws = new WebSocket(gh.url.replace('http', 'ws') + path, { headers: { authorization: `Bearer ${bearer}` } });
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, ws: null }));
      ws.once('open', () => resolve({ status: 101, ws }));
      ws.once('error', () => {});
    });

  it('refuses the token off its resource path, and a wrong token', async () => {
    upstream.clear();
    assert.equal((await open('/elsewhere')).status, 401);
    assert.equal((await open('/mcp', 'ghat_' + 'B'.repeat(43))).status, 401);
    assert.equal(upstream.requests.length, 0);
  });

  it('opens on the resource path without passing the token on, and closes once the token is revoked elsewhere', async () => {
    upstream.clear();
    const { status, ws } = await open('/mcp/live');
    assert.equal(status, 101);
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['x-forwarded-provider'], 'oauth');
    assert.equal(seen.headers['x-forwarded-client'], 'WS Agent');
    const echoed = new Promise<string>((r) => ws!.once('message', (m) => r(String(m))));
    ws!.send('hello');
    assert.equal(await echoed, 'echo:hello');
    const closed = new Promise<number>((r) => ws!.once('close', () => r(Date.now())));
    const t0 = Date.now();
    await gh.store.deleteOAuthFamily(family); // another replica revoked it
    assert.ok((await closed) - t0 < 5000);
  });
});
