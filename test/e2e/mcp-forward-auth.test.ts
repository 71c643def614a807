// OAuth tokens at forward-auth (architecture.md#oauth): a proxy that asks /auth/check about a request carrying
// an OAuth access token gets the same answer the gate would give — the identity on the token's own
// resource path, 401 invalid_token anywhere else, for a revoked token, and for one of our shape that
// does not exist. A whole-app token (the device grant's) opens every path.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';

const { gh } = withGatehouse({
  upstream: true,
  env: { GATEHOUSE_MCP: JSON.stringify([{ path: '/mcp' }]) },
  trustedProxies: ['127.0.0.1/32'], // this test plays the proxy that names the original request
});

let userId: string;
const check = (bearer: string, uri: string) =>
  fetch(`${gh.url}/auth/check`, {
    headers: {
      authorization: `Bearer ${bearer}`,
      'x-original-uri': uri,
      'x-original-method': 'GET',
      accept: 'application/json',
    },
  });

describe('OAuth tokens at /auth/check', () => {
  before(async () => {
    userId = (
      await gh.store.createUser(
        { email: 'fa-agent@example.com', name: 'FA', role: 'member', passwordHash: null, emailVerified: true },
        new Date(),
      )
    ).id;
    await gh.store.createOAuthClient({
      id: 'ghc_fa',
      kind: 'dcr',
      name: 'FA Agent',
      redirectUris: ['http://127.0.0.1/cb'],
      createdAt: new Date(),
      lastUsedAt: null,
      cachedUntil: null,
    });
  });

  it('answers 200 with the identity on the resource path, never echoing the token', async () => {
    const { accessToken } = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_fa',
      userId,
      resource: `${gh.url}/mcp`,
      scopes: ['tools'],
    });
    const r = await check(accessToken, '/mcp/tools/list');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-forwarded-user'), userId);
    assert.equal(r.headers.get('x-forwarded-provider'), 'oauth');
    assert.equal(r.headers.get('x-forwarded-client'), 'FA Agent');
    assert.equal(r.headers.get('x-forwarded-scopes'), 'tools');
    assert.ok(r.headers.get('x-forwarded-assertion'), 'signed identity too');
    assert.ok(![...r.headers.values()].some((v) => v.includes(accessToken)));
  });

  it('refuses the token off its resource path, on a look-alike path, and on an ambiguous one', async () => {
    const { accessToken } = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_fa',
      userId,
      resource: `${gh.url}/mcp`,
      scopes: [],
    });
    for (const uri of ['/', '/admin', '/mcpx', '/MCP']) {
      const r = await check(accessToken, uri);
      assert.equal(r.status, 401, uri);
      assert.equal(r.headers.get('x-forwarded-user'), null, uri);
      assert.match(r.headers.get('www-authenticate') ?? '', /invalid_token/, uri);
    }
    // An ambiguous path is refused before any credential counts, as at the gate.
    for (const uri of ['/mcp/../admin', '/%2e%2e/mcp']) {
      const r = await check(accessToken, uri);
      assert.equal(r.status, 400, uri);
      assert.equal(r.headers.get('x-forwarded-user'), null, uri);
    }
  });

  it('refuses a token of our shape that was never issued, and one revoked a moment ago', async () => {
    assert.equal((await check('ghat_' + 'A'.repeat(43), '/mcp')).status, 401);
    assert.equal((await check('ghat_short', '/mcp')).status, 401);
    const { accessToken, family } = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_fa',
      userId,
      resource: `${gh.url}/mcp`,
      scopes: [],
    });
    assert.equal((await check(accessToken, '/mcp')).status, 200);
    await gh.oauthTokens.revokeFamily(family);
    assert.equal((await check(accessToken, '/mcp')).status, 401);
  });

  it('lets the token decide when a session cookie comes with it, as the gate does', async () => {
    const browser = new TestClient(gh.url);
    assert.equal((await browser.signUp('fa-browser@example.com', 'a long enough password')).status, 303);
    const withCookie = (bearer: string, uri: string) =>
      fetch(`${gh.url}/auth/check`, {
        headers: {
          cookie: browser.cookieHeader()!,
          authorization: `Bearer ${bearer}`,
          'x-original-uri': uri,
          accept: 'application/json',
        },
      });
    const bogus = await withCookie('ghat_' + 'C'.repeat(43), '/mcp');
    assert.equal(bogus.status, 401);
    assert.equal(bogus.headers.get('x-forwarded-user'), null);
    const gate = await fetch(`${gh.url}/mcp`, {
      headers: {
        cookie: browser.cookieHeader()!,
        authorization: `Bearer ghat_${'C'.repeat(43)}`,
        accept: 'application/json',
      },
    });
    assert.equal(gate.status, 401, 'the gate gives the same answer');
    const { accessToken } = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_fa',
      userId,
      resource: `${gh.url}/mcp`,
      scopes: [],
    });
    const good = await withCookie(accessToken, '/mcp');
    assert.equal(good.status, 200);
    assert.equal(good.headers.get('x-forwarded-provider'), 'oauth', 'the token’s identity, not the cookie’s');
  });

  it('lets a whole-app token (the device grant) open every path', async () => {
    const { accessToken } = await gh.oauthTokens.issueTokens({
      clientId: 'ghc_fa',
      userId,
      resource: gh.url,
      scopes: [],
    });
    assert.equal((await check(accessToken, '/anything/at/all')).status, 200);
  });
});
