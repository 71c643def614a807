// OAuth 2.1 for MCP servers behind Gatehouse (architecture.md#oauth), end to end with the official MCP SDK: its
// client discovers everything from the 401, registers (DCR), is sent to authorize; a signed-in user
// approves on the consent page; the code comes back through finishAuth, and a tool call reaches the
// MCP server with the user's identity and without the token. Then the attacks, each refused with the
// app seeing nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { runCli, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { MemoryOAuthProvider, startMcpApp, type McpApp } from '../support/mcp.js';
import { startHttpsStub, type HttpsStub } from '../support/tls.js';
import { startTcpRelay } from '../support/tcp-relay.js';
import { request } from 'undici';

const MCP = JSON.stringify([{ path: '/mcp', name: 'Test tools', scopes: ['tools', 'read'] }, { path: '/other-mcp' }]);
let app: McpApp;
let gh: TestGatehouse;
let browser: TestClient; // a signed-in user's cookie jar

before(async () => {
  app = await startMcpApp();
  gh = await startTestGatehouse({ upstream: app.url, env: { GATEHOUSE_MCP: MCP } });
  browser = new TestClient(gh.url);
  await browser.signUp('agent-owner@example.com', 'a long enough password', 'Ada Agent');
});
after(async () => {
  await gh?.stop();
  await app?.close();
});

const json = async (path: string, init: RequestInit = {}) => {
  const r = await fetch(gh.url + path, init);
  return { status: r.status, headers: r.headers, body: r.status === 204 ? null : await r.json().catch(() => null) };
};
const form = (body: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(body).toString(),
});

/** Follows the SDK's authorization URL as the signed-in browser: consent page, Allow, the redirect back. */
async function approve(authorizationUrl: URL | string, decision = 'allow'): Promise<URL> {
  const u = new URL(authorizationUrl);
  const consent = await browser.get(u.pathname + u.search);
  if (consent.status === 302) return new URL(String(consent.headers.location)); // consent remembered
  assert.equal(consent.status, 200, consent.text.slice(0, 300));
  const fields: Record<string, string> = { csrf: csrfFrom(consent.text), decision };
  for (const m of consent.text.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g))
    if (m[1] !== 'csrf') fields[m[1]!] = unescapeHtml(m[2]!);
  const answer = await browser.post('/auth/oauth/authorize', fields);
  assert.equal(answer.status, 303, answer.text.slice(0, 300));
  return new URL(String(answer.headers.location));
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

async function connect(provider: MemoryOAuthProvider): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gh.url}/mcp`), { authProvider: provider }));
  return client;
}

describe('MCP client through the official SDK', () => {
  it('discovers from the 401, registers, is approved, and its tool call carries the user, never the token', async () => {
    const provider = new MemoryOAuthProvider();
    const transport = new StreamableHTTPClientTransport(new URL(`${gh.url}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'test-agent', version: '1.0.0' }).connect(transport), UnauthorizedError);
    assert.ok(provider.authorizationUrl, 'the SDK was sent to authorize');
    assert.match(String(provider.info?.client_id), /^ghc_/, 'registered by DCR');
    const url = provider.authorizationUrl!;
    assert.equal(url.origin + url.pathname, `${gh.url}/auth/oauth/authorize`);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('resource'), `${gh.url}/mcp`);

    const back = await approve(url);
    assert.equal(back.origin + back.pathname, provider.redirectUrl);
    assert.equal(back.searchParams.get('state'), provider.expectedState, 'state round-trips');
    assert.equal(back.searchParams.get('iss'), `${gh.url}/auth`, 'RFC 9207 iss');
    await transport.finishAuth(back.searchParams.get('code')!);
    assert.match(provider.saved!.access_token, /^ghat_/);
    assert.equal(provider.saved!.scope, 'tools read');

    const client = await connect(provider);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const seen = JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
    const user = (await gh.store.findUserByEmail('agent-owner@example.com'))!;
    assert.deepEqual(seen, {
      user: user.id,
      email: 'agent-owner@example.com',
      provider: 'oauth',
      client: 'Test Agent',
      assertion: true,
      authorization: null,
    });
    assert.ok(
      app.seen.every((h) => !String(h.authorization ?? '').includes(provider.saved!.access_token)),
      'the app never saw the token',
    );
    await client.close();
    assert.ok(
      gh.auditLines.some((l) => l.includes('"oauth.consent"')) &&
        gh.auditLines.some((l) => l.includes('"oauth.token-issued"')),
    );
  });
});

describe('MCP client through the official SDK: refresh and revocation', () => {
  it('refreshes when its access token stops working, and is sent back to authorize once its grant is revoked', async () => {
    const provider = new MemoryOAuthProvider('http://127.0.0.1:43118/callback');
    const transport = new StreamableHTTPClientTransport(new URL(`${gh.url}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'refresher', version: '1.0.0' }).connect(transport), UnauthorizedError);
    await transport.finishAuth((await approve(provider.authorizationUrl!)).searchParams.get('code')!);
    const first = provider.saved!;
    // The access token is dead (expired, say): the SDK uses its refresh token and carries on.
    provider.saved = { ...first, access_token: 'ghat_' + 'x'.repeat(43) };
    const client = await connect(provider);
    assert.equal(((await client.callTool({ name: 'whoami', arguments: {} })).content as unknown[]).length, 1);
    assert.notEqual(provider.saved!.refresh_token, first.refresh_token, 'rotated');
    await client.close();
    // Revoked (the user disconnected it, say): refresh fails, and the SDK has to ask the user again.
    const revoke = await fetch(
      `${gh.url}/auth/oauth/revoke`,
      form({ token: provider.saved!.refresh_token!, client_id: String(provider.info!.client_id) }),
    );
    assert.equal(revoke.status, 200);
    provider.authorizationUrl = null;
    await assert.rejects(connect(provider));
    assert.ok(provider.authorizationUrl, 'sent to authorize again');
  });
});

describe('MCP client through the official SDK: a revoked client', () => {
  it('registers again by itself (invalid_client at the token endpoint) and is sent to authorize under its new id', async () => {
    const provider = new MemoryOAuthProvider('http://127.0.0.1:43120/callback');
    const transport = new StreamableHTTPClientTransport(new URL(`${gh.url}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'revoked', version: '1.0.0' }).connect(transport), UnauthorizedError);
    await transport.finishAuth((await approve(provider.authorizationUrl!)).searchParams.get('code')!);
    const firstId = String(provider.info!.client_id);
    // An admin revokes the client for everyone; the SDK's access token has run out meanwhile.
    assert.equal((await runCli(['oauth', 'clients', 'revoke', firstId], { GATEHOUSE_HOME: gh.home })).code, 0);
    provider.saved = { ...provider.saved!, access_token: 'ghat_' + 'x'.repeat(43) };
    provider.authorizationUrl = null;
    const again = new StreamableHTTPClientTransport(new URL(`${gh.url}/mcp`), { authProvider: provider });
    await assert.rejects(new Client({ name: 'revoked', version: '1.0.0' }).connect(again), UnauthorizedError);
    const newId = String(provider.info?.client_id);
    assert.match(newId, /^ghc_/);
    assert.notEqual(newId, firstId, 'registered again by itself');
    assert.equal(
      provider.authorizationUrl!.searchParams.get('client_id'),
      newId,
      'and sent to authorize under the new id',
    );
    await again.finishAuth((await approve(provider.authorizationUrl!)).searchParams.get('code')!);
    const client = await connect(provider);
    assert.equal(((await client.callTool({ name: 'whoami', arguments: {} })).content as unknown[]).length, 1);
    await client.close();
  });

  it('answers invalid_client for an unknown client: 400, or 401 with a challenge when it sent an Authorization header', async () => {
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: 'ghrt_' + 'x'.repeat(43),
      client_id: 'ghc_gone',
    }).toString();
    const plain = await fetch(`${gh.url}/auth/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.equal(plain.status, 400);
    assert.equal(((await plain.json()) as { error: string }).error, 'invalid_client');
    const basic = await fetch(`${gh.url}/auth/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('ghc_gone:').toString('base64')}`,
      },
      body,
    });
    assert.equal(basic.status, 401);
    assert.match(String(basic.headers.get('www-authenticate')), /^Basic /);
    assert.equal(((await basic.json()) as { error: string }).error, 'invalid_client');
  });
});

// --- The protocol by hand: each refusal tried, and what the app saw checked. ---

const REDIRECT = 'http://127.0.0.1:5000/cb';

async function register(body: Record<string, unknown> = { client_name: 'Raw Client', redirect_uris: [REDIRECT] }) {
  return json('/auth/oauth/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizePath(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  return `/auth/oauth/authorize?${q}`;
}

interface Flow {
  clientId: string;
  verifier: string;
  code: string;
}

/** A registered client, approved by the user, with a fresh code. */
async function flow(extra: Record<string, string | undefined> = {}): Promise<Flow> {
  const clientId = (await register()).body.client_id as string;
  const { verifier, challenge } = pkce();
  const back = await approve(
    gh.url +
      authorizePath({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: `${gh.url}/mcp`,
        state: 's1',
        scope: 'tools',
        ...extra,
      }),
  );
  const code = back.searchParams.get('code');
  assert.ok(code, back.toString());
  return { clientId, verifier, code };
}

const exchange = (f: Flow, extra: Record<string, string> = {}) =>
  json(
    '/auth/oauth/token',
    form({
      grant_type: 'authorization_code',
      code: f.code,
      client_id: f.clientId,
      code_verifier: f.verifier,
      redirect_uri: REDIRECT,
      ...extra,
    }),
  );
const refresh = (clientId: string, token: string) =>
  json('/auth/oauth/token', form({ grant_type: 'refresh_token', refresh_token: token, client_id: clientId }));
const callMcp = (token: string, path = '/mcp') =>
  fetch(gh.url + path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });

/**
 * What an authorization request with a bad parameter answers, for a client that registered itself: a
 * page naming the error, never a redirect to the address the client chose (an open redirect).
 */
async function authorizeError(params: Record<string, string | undefined>, as: TestClient = browser): Promise<string> {
  const r = await as.get(authorizePath(params));
  assert.equal(r.status, 400, r.text.slice(0, 200));
  assert.equal(r.headers.location, undefined);
  assert.match(r.text, /<h1[^>]*>This sign-in link does not work<\/h1>/);
  assert.match(r.text, /Nothing was sent to it\./);
  return /\(([a-z_]+)\)/.exec(r.text)?.[1] ?? '';
}

describe('discovery', () => {
  it('answers a request without a session or token with a Bearer challenge naming the metadata, and the app sees nothing', async () => {
    const before = app.seen.length;
    const r = await fetch(`${gh.url}/mcp`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 401);
    assert.equal(
      r.headers.get('www-authenticate'),
      `Bearer resource_metadata="${gh.url}/.well-known/oauth-protected-resource/mcp", scope="tools read"`,
    );
    const prm = await json('/.well-known/oauth-protected-resource/mcp');
    assert.deepEqual(prm.body, {
      resource: `${gh.url}/mcp`,
      authorization_servers: [`${gh.url}/auth`],
      bearer_methods_supported: ['header'],
      resource_name: 'Test tools',
      scopes_supported: ['tools', 'read'],
    });
    for (const path of [
      '/.well-known/oauth-authorization-server/auth',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration/auth',
      '/auth/.well-known/openid-configuration',
    ]) {
      const asm = await json(path);
      assert.equal(asm.status, 200, path);
      assert.equal(asm.body.issuer, `${gh.url}/auth`);
      assert.deepEqual(asm.body.code_challenge_methods_supported, ['S256']);
      assert.deepEqual(asm.body.response_types_supported, ['code']);
      assert.equal(asm.body.registration_endpoint, `${gh.url}/auth/oauth/register`);
      assert.equal(asm.body.revocation_endpoint, `${gh.url}/auth/oauth/revoke`);
    }
    assert.equal((await json('/.well-known/oauth-protected-resource/nothing-here')).status, 404);
    assert.equal(app.seen.length, before);
  });

  it('keeps a browser with a session working on the MCP path, and leaves other paths as they were', async () => {
    const r = await browser.send('POST', '/mcp', {
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(r.status, 200, r.text);
    const signedOut = await fetch(`${gh.url}/plain`, { headers: { accept: 'application/json' } });
    assert.equal(signedOut.status, 401);
    assert.equal(signedOut.headers.get('www-authenticate'), 'Cookie realm="gatehouse"');
  });
});

describe('authorization endpoint refusals', () => {
  let clientId: string;
  const base = () => ({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    resource: `${gh.url}/mcp`,
    state: 'keep-me',
  });
  before(async () => {
    clientId = (await register()).body.client_id as string;
  });

  it('refuses a missing or plain PKCE challenge', async () => {
    for (const params of [
      { ...base(), code_challenge: undefined },
      { ...base(), code_challenge_method: 'plain' },
      { ...base(), code_challenge_method: undefined },
    ]) {
      assert.equal(await authorizeError(params), 'invalid_request');
    }
  });

  it('refuses a missing resource, and one that is not ours', async () => {
    for (const resource of [undefined, 'https://evil.example/mcp', `${gh.url}/plain`, `${gh.url}/mcp/`]) {
      assert.equal(await authorizeError({ ...base(), resource }), 'invalid_target', String(resource));
    }
  });

  it('refuses response types other than code', async () => {
    assert.equal(await authorizeError({ ...base(), response_type: 'token' }), 'unsupported_response_type');
  });

  it("never bounces a signed-out visitor to a self-registered client's address, whatever the bad parameter", async () => {
    const evil = (await register({ client_name: 'Docs', redirect_uris: ['https://evil.example/landing'] })).body
      .client_id as string;
    const seen = app.seen.length;
    const visitor = new TestClient(gh.url);
    const bad = { ...base(), client_id: evil, redirect_uri: 'https://evil.example/landing' };
    for (const params of [
      { ...bad, response_type: 'token' },
      { ...bad, code_challenge: undefined },
      { ...bad, resource: 'https://elsewhere.example/' },
      { ...bad, resource: undefined },
    ]) {
      const r = await visitor.get(authorizePath(params));
      assert.equal(r.status, 400, r.text.slice(0, 200));
      assert.ok(!String(r.headers.location ?? '').includes('evil.example'), "no Location to the client's host");
      assert.ok(!r.text.includes('https://evil.example/landing?'), 'no link there either');
    }
    assert.equal(app.seen.length, seen, 'the app saw nothing');
  });

  it('never redirects to an unregistered redirect URI, or for an unknown client: a page says so', async () => {
    for (const params of [
      { ...base(), redirect_uri: 'https://evil.example/cb' },
      { ...base(), redirect_uri: 'http://127.0.0.1:5000/cb/../evil' },
      { ...base(), client_id: 'ghc_unknown' },
    ]) {
      const r = await browser.get(authorizePath(params));
      assert.equal(r.status, 400);
      assert.equal(r.headers.location, undefined);
      assert.match(r.text, /<h1[^>]*>This sign-in link does not work<\/h1>/);
    }
    // A loopback redirect URI may change its port (RFC 8252 §7.3), nothing else.
    const other = new URL(
      await approve(gh.url + authorizePath({ ...base(), redirect_uri: 'http://127.0.0.1:6123/cb' })),
    );
    assert.equal(other.port, '6123');
    assert.ok(other.searchParams.get('code'));
  });

  it('sends a signed-out user to sign in first and back to the request', async () => {
    const r = await new TestClient(gh.url).get(authorizePath(base()));
    assert.equal(r.status, 302);
    const to = new URL(String(r.headers.location), gh.url);
    assert.equal(to.pathname, '/auth/sign-in');
    assert.match(to.searchParams.get('return_to')!, /^\/auth\/oauth\/authorize\?/);
  });

  it('returns access_denied when the user denies, and issues no code', async () => {
    const fresh = (await register({ client_name: 'Denied one', redirect_uris: [REDIRECT] })).body.client_id as string;
    const back = await approve(gh.url + authorizePath({ ...base(), client_id: fresh }), 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('code'), null);
    assert.equal(back.searchParams.get('iss'), `${gh.url}/auth`);
  });

  it('names the client, its redirect host, the resource and the scopes on the consent page (escaped)', async () => {
    const hostile = (
      await register({ client_name: '<script>alert(1)</script> Evil', redirect_uris: ['https://cb.example.net/x'] })
    ).body.client_id as string;
    const page = await browser.get(
      authorizePath({
        ...base(),
        client_id: hostile,
        redirect_uri: 'https://cb.example.net/x',
        scope: 'tools read admin',
      }),
    );
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes('<script>alert'), 'escaped');
    assert.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt; Evil/);
    assert.match(page.text, /cb\.example\.net/);
    assert.match(page.text, /Test tools/);
    assert.match(page.text, /<p class="hint">tools, read<\/p>/, 'a scope the resource does not name is not offered');
    assert.match(String(page.headers['content-security-policy']), /form-action 'self' https:\/\/cb\.example\.net/);
  });
});

describe('token endpoint refusals', () => {
  it('refuses a wrong verifier, a wrong redirect URI, another client, and a replayed code', async () => {
    const wrong = await flow();
    assert.equal((await exchange(wrong, { code_verifier: pkce().verifier })).body.error, 'invalid_grant');
    assert.equal(
      (await exchange(wrong)).body.error,
      'invalid_grant',
      'a code dies on its first use, even a failed one',
    );
    const redirect = await flow();
    assert.equal(
      (await exchange(redirect, { redirect_uri: 'http://127.0.0.1:5000/other' })).body.error,
      'invalid_grant',
    );
    const other = await flow();
    const someoneElse = (await register({ client_name: 'Someone else', redirect_uris: [REDIRECT] })).body
      .client_id as string;
    assert.equal((await exchange(other, { client_id: someoneElse })).body.error, 'invalid_grant');
    assert.equal((await exchange(other)).body.error, 'invalid_grant', 'a code shown by another client is dead');
    assert.equal((await exchange(other, { client_id: 'ghc_unknown' })).body.error, 'invalid_client');

    const good = await flow();
    const first = await exchange(good);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(first.body).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.equal((await callMcp(first.body.access_token)).status, 200);
    const replay = await exchange(good);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    // A code presented twice was intercepted: what it bought ends too (OAuth 2.1 §4.1.3).
    assert.equal((await callMcp(first.body.access_token)).status, 401);
    assert.equal((await refresh(good.clientId, first.body.refresh_token)).body.error, 'invalid_grant');
    assert.ok(gh.auditLines.some((l) => l.includes('"oauth.code-reused"')));
    assert.equal(
      (await json('/auth/oauth/token', form({ grant_type: 'password', client_id: good.clientId }))).body.error,
      'unsupported_grant_type',
    );
  });

  it('rotates refresh tokens; a replayed one revokes the whole family at once', async () => {
    const f = await flow();
    const issued = (await exchange(f)).body;
    assert.equal((await callMcp(issued.access_token)).status, 200);
    const rotated = await refresh(f.clientId, issued.refresh_token);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.refresh_token, issued.refresh_token);
    assert.equal((await callMcp(rotated.body.access_token)).status, 200);
    const third = await refresh(f.clientId, rotated.body.refresh_token);
    assert.equal(third.status, 200);
    // The old refresh token comes back (stolen) after its successor was used: everything of this grant ends.
    const replay = await refresh(f.clientId, issued.refresh_token);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal((await callMcp(third.body.access_token)).status, 401);
    assert.equal((await callMcp(rotated.body.access_token)).status, 401);
    assert.equal((await callMcp(issued.access_token)).status, 401);
    assert.equal((await refresh(f.clientId, third.body.refresh_token)).body.error, 'invalid_grant');
    assert.ok(gh.auditLines.some((l) => l.includes('"oauth.refresh-reused"')));
  });
});

describe('refresh answers that are lost', () => {
  const sha = (t: string) => createHash('sha256').update(t).digest('hex');

  it('retries a refresh whose answer a dropped connection lost: the retry works, and only its successor lives', async () => {
    const relay = await startTcpRelay('127.0.0.1', Number(new URL(gh.url).port));
    try {
      const f = await flow();
      const issued = (await exchange(f)).body;
      const viaRelay = () =>
        request(`http://127.0.0.1:${relay.port}/auth/oauth/token`, {
          method: 'POST',
          headers: { host: new URL(gh.url).host, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: issued.refresh_token,
            client_id: f.clientId,
          }).toString(),
        });
      relay.cutOnNextReply();
      await assert.rejects(viaRelay(), 'the client never hears the answer');
      relay.restore();
      // Gatehouse did the work: the refresh token is spent, and its successor was written with it.
      const spent = (await gh.store.findOAuthToken(sha(issued.refresh_token), 'refresh', new Date()))!;
      assert.ok(spent.usedAt, 'spent by the lost request');
      const unusedOf = async () =>
        (await gh.store.listOAuthTokens())
          .filter((t) => t.family === spent.family && t.kind === 'refresh' && !t.usedAt)
          .map((t) => t.hash);
      assert.equal((await unusedOf()).length, 1, 'a spent token never lacks its successor');

      const retry = await viaRelay();
      assert.equal(retry.statusCode, 200);
      const again = (await retry.body.json()) as { access_token: string; refresh_token: string };
      assert.equal((await callMcp(again.access_token)).status, 200);
      assert.deepEqual(
        await unusedOf(),
        [sha(again.refresh_token)],
        "the lost successor stopped working; the retry's is the only one",
      );
      const next = await refresh(f.clientId, again.refresh_token);
      assert.equal(next.status, 200, 'the grant goes on');
      assert.equal((await callMcp(next.body.access_token)).status, 200);
    } finally {
      await relay.close();
    }
  });

  it('gives a retry a new successor while the old one is unused; once a successor was used, a reuse ends the family', async () => {
    const f = await flow();
    const a = (await exchange(f)).body;
    const b = (await refresh(f.clientId, a.refresh_token)).body; // answered, but say the client lost it
    const c = await refresh(f.clientId, a.refresh_token);
    assert.equal(c.status, 200, 'a retry within 30 s while B is unused');
    assert.equal((await callMcp(b.access_token)).status, 401, "the unused successor's access token stopped working");
    assert.equal(
      (await refresh(f.clientId, b.refresh_token)).body.error,
      'invalid_grant',
      'and so did its refresh token',
    );
    assert.equal((await callMcp(c.body.access_token)).status, 200, 'without ending the grant');
    assert.ok(!gh.auditLines.some((l) => l.includes('"oauth.refresh-reused"') && l.includes(f.clientId)));

    const d = await refresh(f.clientId, c.body.refresh_token);
    assert.equal(d.status, 200);
    // C was used: A (or C) coming back now is a replay, and the whole grant ends.
    assert.equal((await refresh(f.clientId, a.refresh_token)).body.error, 'invalid_grant');
    assert.equal((await callMcp(d.body.access_token)).status, 401);
    assert.equal((await refresh(f.clientId, d.body.refresh_token)).body.error, 'invalid_grant');
    assert.ok(gh.auditLines.some((l) => l.includes('"oauth.refresh-reused"') && l.includes(f.clientId)));
  });

  it('ends the grant when another client presents the refresh token', async () => {
    const f = await flow();
    const a = (await exchange(f)).body;
    const other = (await register({ client_name: 'Other', redirect_uris: [REDIRECT] })).body.client_id as string;
    assert.equal((await refresh(other, a.refresh_token)).body.error, 'invalid_grant');
    assert.equal((await callMcp(a.access_token)).status, 401);
    assert.equal((await refresh(f.clientId, a.refresh_token)).body.error, 'invalid_grant');
  });
});

describe('tokens on the hot path', () => {
  it("opens only its resource: refused on another MCP path and on the app's other paths; the app sees nothing", async () => {
    const f = await flow();
    const { access_token } = (await exchange(f)).body;
    const before = app.seen.length;
    for (const path of ['/plain', '/other-mcp', '/mcpx', '/auth/me']) {
      const r = await fetch(gh.url + path, {
        headers: { authorization: `Bearer ${access_token}`, accept: 'application/json' },
      });
      assert.equal(r.status, 401, path);
      await r.arrayBuffer();
    }
    const wrong = await callMcp('ghat_' + 'A'.repeat(43));
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate')!, /error="invalid_token"/);
    assert.match(wrong.headers.get('www-authenticate')!, /resource_metadata=/);
    assert.equal(app.seen.length, before);
    assert.equal((await callMcp(access_token, '/mcp/sub/path')).status, 200, 'below the resource path it works');
    // Someone else's bearer token (GitHub's gho_…) is the app's business: it passes, with the session.
    const github = 'gho_16C7e42F292c6912E7710c838347Ae178B4a';
    assert.equal((await browser.get('/plain', { authorization: `Bearer ${github}` })).status, 200);
    assert.equal(app.seen.at(-1)!.authorization, `Bearer ${github}`);
  });

  it('is refused within 5 s of a revocation made elsewhere (another replica), and at once through the endpoint', async () => {
    const a = await flow();
    const first = (await exchange(a)).body;
    assert.equal((await callMcp(first.access_token)).status, 200);
    const user = (await gh.store.findUserByEmail('agent-owner@example.com'))!;
    await gh.store.revokeOAuthGrant(user.id, a.clientId); // as another replica would: past this process's cache
    const t0 = Date.now();
    while ((await callMcp(first.access_token)).status !== 401) {
      assert.ok(Date.now() - t0 < 5000, 'still accepted after 5 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const b = await flow();
    const second = (await exchange(b)).body;
    assert.equal((await callMcp(second.access_token)).status, 200);
    assert.equal(
      (await json('/auth/oauth/revoke', form({ token: second.refresh_token, client_id: b.clientId }))).status,
      200,
    );
    assert.equal(
      (await callMcp(second.access_token)).status,
      401,
      'revoking the refresh token ends its access token in this process at once',
    );
    assert.equal(
      (await json('/auth/oauth/revoke', form({ token: 'ghat_unknown', client_id: b.clientId }))).status,
      200,
      'unknown tokens are no error (RFC 7009)',
    );
  });

  it('ends an open event stream within 5 s of a revocation made elsewhere', async () => {
    const f = await flow();
    const { access_token } = (await exchange(f)).body;
    const res = await fetch(`${gh.url}/mcp/events`, {
      headers: { authorization: `Bearer ${access_token}`, accept: 'text/event-stream' },
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /data: tick/);
    const user = (await gh.store.findUserByEmail('agent-owner@example.com'))!;
    await gh.store.revokeOAuthGrant(user.id, f.clientId);
    const t0 = Date.now();
    const ended = await (async () => {
      try {
        for (;;) if ((await reader.read()).done) return true;
      } catch {
        return true; // cut off: the stream ended
      }
    })();
    assert.ok(ended);
    assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
  });

  it('is refused once the user is disabled', async () => {
    const c = new TestClient(gh.url);
    await c.signUp('soon-disabled@example.com', 'a long enough password');
    const saved = browser;
    browser = c;
    try {
      const f = await flow();
      const { access_token } = (await exchange(f)).body;
      assert.equal((await callMcp(access_token)).status, 200);
      const user = (await gh.store.findUserByEmail('soon-disabled@example.com'))!;
      await gh.store.updateUser(user.id, { disabled: true }, new Date());
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await callMcp(access_token)).status, 401);
    } finally {
      browser = saved;
    }
  });
});

describe('registration', () => {
  it('refuses bad client metadata with RFC 7591 errors', async () => {
    assert.equal((await register({ redirect_uris: ['http://evil.example/cb'] })).body.error, 'invalid_redirect_uri');
    assert.equal((await register({ redirect_uris: ['javascript:alert(1)'] })).body.error, 'invalid_redirect_uri');
    assert.equal((await register({ redirect_uris: ['https://a.example/cb#frag'] })).body.error, 'invalid_redirect_uri');
    assert.equal((await register({ redirect_uris: [] })).body.error, 'invalid_redirect_uri');
    assert.equal(
      (await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' })).body.error,
      'invalid_client_metadata',
    );
    const bad = await json('/auth/oauth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(bad.body.error, 'invalid_client_metadata');
    const ok = await register({
      redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback', REDIRECT],
      client_name: 'Cursor',
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.token_endpoint_auth_method, 'none');
    assert.equal(ok.body.client_secret, undefined);
  });

  it('is refused with GATEHOUSE_OAUTH_DCR=off, and not advertised', async () => {
    const off = await startTestGatehouse({
      upstream: app.url,
      env: { GATEHOUSE_MCP: MCP, GATEHOUSE_OAUTH_DCR: 'off' },
    });
    try {
      const r = await fetch(`${off.url}/auth/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT] }),
      });
      assert.equal(r.status, 403);
      assert.equal(((await r.json()) as { error: string }).error, 'access_denied');
      const asm = (await (await fetch(`${off.url}/.well-known/oauth-authorization-server/auth`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(asm.registration_endpoint, undefined);
      assert.equal((await off.store.listOAuthClients()).length, 0);
    } finally {
      await off.stop();
    }
  });
});

describe('people stay in control', () => {
  it('lists connected apps on the account page; disconnecting one ends its tokens at once', async () => {
    const f = await flow();
    const issued = (await exchange(f)).body;
    assert.equal((await callMcp(issued.access_token)).status, 200);
    const page = await browser.get('/auth/account');
    assert.match(page.text, /<h2>Connected apps<\/h2>/);
    assert.match(page.text, new RegExp(`name="client_id" value="${f.clientId}"`));
    assert.match(page.text, /Raw Client/);
    const csrf = csrfFrom(page.text);
    const r = await browser.post('/auth/account/connected/revoke', { csrf, client_id: f.clientId });
    assert.equal(r.status, 303);
    assert.equal((await callMcp(issued.access_token)).status, 401);
    assert.equal((await refresh(f.clientId, issued.refresh_token)).body.error, 'invalid_grant');
    assert.doesNotMatch((await browser.get('/auth/account')).text, new RegExp(`value="${f.clientId}"`));
    // Another user's client cannot be disconnected through this form: only the signed-in user's own grants end.
    const mine = await flow();
    const mineTokens = (await exchange(mine)).body;
    const other = new TestClient(gh.url);
    await other.signUp('someone-else@example.com', 'a long enough password');
    const otherCsrf = csrfFrom((await other.get('/auth/account')).text);
    await other.post('/auth/account/connected/revoke', { csrf: otherCsrf, client_id: mine.clientId });
    assert.equal((await callMcp(mineTokens.access_token)).status, 200);
  });

  it('shows admins every client and whom it acts for; Revoke ends a client for everyone; members cannot', async () => {
    const f = await flow();
    const issued = (await exchange(f)).body;
    await new TestClient(gh.url).signUp('oauth-admin@example.com', 'a long enough password');
    const adminUser = (await gh.store.findUserByEmail('oauth-admin@example.com'))!;
    await gh.store.updateUser(adminUser.id, { role: 'admin' }, new Date());
    const admin = new TestClient(gh.url);
    await admin.signIn('oauth-admin@example.com', 'a long enough password');
    const page = await admin.get('/auth/admin/oauth');
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      new RegExp(`${f.clientId}[\\s\\S]*agent-owner@example\\.com · ${gh.url.replace(/\./g, '\\.')}/mcp · tools`),
    );
    const member = await browser.get('/auth/admin/oauth');
    assert.equal(member.status, 403);
    const refused = await browser.post('/auth/admin/oauth/revoke', {
      csrf: csrfFrom((await browser.get('/auth/account')).text),
      client_id: f.clientId,
    });
    assert.equal(refused.status, 403);
    assert.equal((await callMcp(issued.access_token)).status, 200, 'a member cannot revoke');
    // Revoke asks first, on a page naming the client; its form carries the client id.
    const confirm = await admin.get(`/auth/admin/confirm?action=revoke-oauth&client=${encodeURIComponent(f.clientId)}`);
    assert.match(confirm.text, /Revoke this OAuth client for everyone\?/);
    assert.ok(confirm.text.includes(f.clientId));
    const r = await admin.post('/auth/admin/oauth/revoke', { csrf: csrfFrom(confirm.text), client_id: f.clientId });
    assert.equal(r.status, 303);
    assert.match((await admin.get(String(r.headers.location))).text, /Revoked the OAuth client “[^”]+” for everyone\./);
    assert.equal((await callMcp(issued.access_token)).status, 401, 'at once in this process');
    assert.equal(await gh.store.findOAuthClient(f.clientId), null);
  });

  it('`gatehouse oauth clients list | revoke` shows every client with its users and ends one everywhere', async () => {
    const env = { GATEHOUSE_HOME: gh.home };
    const f = await flow();
    const issued = (await exchange(f)).body;
    const list = await runCli(['oauth', 'clients', 'list', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    const row = (JSON.parse(list.stdout) as Array<{ id: string; users: string[]; name: string }>).find(
      (c) => c.id === f.clientId,
    )!;
    assert.deepEqual([row.name, row.users], ['Raw Client', ['agent-owner@example.com']]);
    assert.ok(!list.stdout.includes(issued.access_token.slice(4)), 'never a token');
    assert.equal((await runCli(['oauth', 'clients', 'revoke', f.clientId], env)).code, 0);
    const t0 = Date.now();
    while ((await callMcp(issued.access_token)).status !== 401) {
      assert.ok(Date.now() - t0 < 5000, 'still accepted after 5 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await runCli(['oauth', 'clients', 'revoke', f.clientId], env)).code, 1);
    assert.equal((await runCli(['oauth', 'clients'], env)).code, 2);
  });
});

describe('Client ID Metadata Documents through the official SDK', () => {
  let stub: HttpsStub;
  let gh2: TestGatehouse;
  let user2: TestClient;
  const provider = () => new MemoryOAuthProvider('http://127.0.0.1:43119/callback', `${stub.url}/client.json`);
  before(async () => {
    stub = await startHttpsStub((req, res) => {
      // evil.json: a document anyone can publish, naming an address of its own choosing.
      const redirect =
        req.url === '/client.json'
          ? 'http://127.0.0.1:43119/callback'
          : req.url === '/evil.json'
            ? 'https://evil.example/cb'
            : null;
      if (!redirect) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(
        JSON.stringify({
          client_id: `${stub.url}${req.url}`,
          client_name: 'Docs Agent',
          redirect_uris: [redirect],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    // On loopback, so a document on loopback may be fetched (the loopback exception); the stub's certificate trusted.
    gh2 = await startTestGatehouse({ upstream: app.url, env: { GATEHOUSE_MCP: MCP }, cimdCa: stub.cert });
    user2 = new TestClient(gh2.url);
    await user2.signUp('cimd-user@example.com', 'a long enough password');
  });
  after(async () => {
    await gh2?.stop();
    await stub?.close();
  });

  it("uses the URL as client id, fetches and caches the document, and the app sees the document's name", async () => {
    const p = provider();
    const transport = new StreamableHTTPClientTransport(new URL(`${gh2.url}/mcp`), { authProvider: p });
    await assert.rejects(new Client({ name: 'cimd', version: '1.0.0' }).connect(transport), UnauthorizedError);
    assert.equal(p.info?.client_id, `${stub.url}/client.json`, 'no registration: the URL is the id');
    assert.equal((await gh2.store.listOAuthClients()).length, 0);
    const u = p.authorizationUrl!;
    const consent = await user2.get(u.pathname + u.search);
    assert.equal(consent.status, 200, consent.text.slice(0, 300));
    assert.match(consent.text, /Allow Docs Agent\?/);
    assert.match(consent.text, new RegExp(`Published by ${stub.url.slice('https://'.length).replace(/\./g, '\\.')}`));
    const fields: Record<string, string> = { csrf: csrfFrom(consent.text), decision: 'allow' };
    for (const m of consent.text.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g))
      if (m[1] !== 'csrf') fields[m[1]!] = unescapeHtml(m[2]!);
    const answer = await user2.post('/auth/oauth/authorize', fields);
    assert.equal(answer.status, 303);
    await transport.finishAuth(new URL(String(answer.headers.location)).searchParams.get('code')!);
    const client = new Client({ name: 'cimd', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gh2.url}/mcp`), { authProvider: p }));
    const seen = JSON.parse(
      ((await client.callTool({ name: 'whoami', arguments: {} })).content as Array<{ text: string }>)[0]!.text,
    );
    assert.equal(seen.client, 'Docs Agent');
    assert.equal(seen.provider, 'oauth');
    await client.close();
    const stored = (await gh2.store.findOAuthClient(`${stub.url}/client.json`))!;
    assert.equal(stored.kind, 'cimd');
    assert.ok(stored.cachedUntil!.getTime() > Date.now() + 200_000, 'cached for max-age');
    assert.equal(stub.hits.filter((h) => h === '/client.json').length, 1, 'fetched once, then from the cache');
  });

  it('refuses a document that cannot be fetched, and a redirect URI the document does not list: a page, nothing sent', async () => {
    const { challenge } = pkce();
    const base = {
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:43119/callback',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: `${gh2.url}/mcp`,
    };
    const missing = await user2.get(authorizePath({ ...base, client_id: `${stub.url}/missing.json` }));
    assert.equal(missing.status, 400);
    assert.match(missing.text, /metadata document at 127\.0\.0\.1:\d+ cannot be used: it answered 404/);
    const wrongUri = await user2.get(
      authorizePath({
        ...base,
        client_id: `${stub.url}/client.json`,
        redirect_uri: 'http://127.0.0.1:43119/elsewhere',
      }),
    );
    assert.equal(wrongUri.status, 400);
    assert.equal(wrongUri.headers.location, undefined);
  });

  it('never bounces a signed-out visitor to the address a metadata document names: a page', async () => {
    const { challenge } = pkce();
    const base = {
      client_id: `${stub.url}/evil.json`,
      redirect_uri: 'https://evil.example/cb',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: `${gh2.url}/mcp`,
    };
    const visitor = new TestClient(gh2.url);
    for (const params of [
      { ...base, response_type: 'token' },
      { ...base, response_type: 'code', code_challenge_method: 'plain' },
      { ...base, response_type: 'code', resource: 'https://x.example/' },
    ]) {
      const r = await visitor.get(authorizePath(params));
      assert.equal(r.status, 400, r.text.slice(0, 200));
      assert.ok(!String(r.headers.location ?? '').includes('evil.example'), "no Location to the document's address");
      assert.match(r.text, /Nothing was sent to it\./);
    }
  });

  it('refuses a document on loopback when the deployment is not on loopback', async () => {
    const outside = await startTestGatehouse({
      upstream: app.url,
      env: { GATEHOUSE_MCP: MCP },
      cimdCa: stub.cert,
      host: '0.0.0.0',
    });
    try {
      const c = new TestClient(outside.url.replace('0.0.0.0', '127.0.0.1'));
      await c.signUp('outside@example.com', 'a long enough password');
      const hits = stub.hits.length;
      const { challenge } = pkce();
      const r = await c.get(
        authorizePath({
          response_type: 'code',
          client_id: `${stub.url}/client.json`,
          redirect_uri: 'http://127.0.0.1:43119/callback',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: `${c.base}/mcp`,
        }),
      );
      assert.equal(r.status, 400);
      assert.match(r.text, /private, loopback or reserved address/);
      assert.equal(stub.hits.length, hits, 'the document host saw nothing');
    } finally {
      await outside.stop();
    }
  });
});
