// The OAuth protocol rules one module at a time (architecture.md#oauth), each refusal pinned: PKCE, redirect URIs
// and registration, the authorization request, resources and their settings, discovery documents.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { challengeProblem, verifierMatches } from '../../src/oauth/pkce.js';
import { parseRegistration, redirectMatches, redirectUriProblem, cleanName } from '../../src/oauth/clients.js';
import {
  checkAuthorization,
  consentCovers,
  formActionFor,
  redirectHost,
  type AuthorizeParams,
} from '../../src/oauth/authorize.js';
import { mcpProblems, parseResources, resourceFor } from '../../src/oauth/resources.js';
import { readPath } from '../../src/access/paths.js';
import {
  authorizationServerMetadata,
  bearerChallenge,
  isDiscoveryPath,
  resourceOfMetadataPath,
} from '../../src/oauth/metadata.js';
import { bearerOAuthToken, looksLikeOAuthBearer } from '../../src/oauth/tokens.js';
import { OAuthError } from '../../src/oauth/errors.js';
import type { OAuthClient } from '../../src/store/types.js';

const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const challenge = createHash('sha256').update(verifier).digest('base64url');

describe('PKCE', () => {
  it('accepts only S256 with a well-formed challenge', () => {
    assert.equal(challengeProblem(challenge, 'S256'), null);
    assert.match(challengeProblem(undefined, 'S256')!, /required/);
    assert.match(challengeProblem(challenge, 'plain')!, /S256, not "plain"/);
    assert.match(challengeProblem(challenge, undefined)!, /S256/, 'no method means plain (RFC 7636 §4.3): refused');
    assert.match(challengeProblem('short', 'S256')!, /43 characters/);
  });
  it('matches the verifier, and never a malformed or plain one', () => {
    assert.equal(verifierMatches(verifier, challenge), true);
    assert.equal(verifierMatches(challenge, challenge), false, 'plain: the challenge itself is no verifier');
    assert.equal(verifierMatches(undefined, challenge), false);
    assert.equal(verifierMatches('a'.repeat(42), challenge), false, 'too short');
    assert.equal(verifierMatches(verifier + ' ', challenge), false);
  });
});

describe('redirect URIs and registration', () => {
  it('allows https, loopback http and native schemes; refuses the rest', () => {
    for (const ok of [
      'https://app.example/cb',
      'http://127.0.0.1/cb',
      'http://[::1]:8080/cb',
      'http://localhost:33418/',
      'cursor://anysphere.cursor-retrieval/oauth/callback',
    ])
      assert.equal(redirectUriProblem(ok), null, ok);
    for (const bad of [
      'http://app.example/cb',
      'javascript:alert(1)',
      'data:text/html,x',
      'https://a.example/cb#x',
      'https://u:p@a.example/cb',
      'not a url',
      '',
      'file:///etc/passwd',
      'http://127.0.0.1.evil.example/cb',
    ]) {
      assert.ok(redirectUriProblem(bad), bad);
    }
  });
  it('matches exactly, except the port of a loopback URI', () => {
    const reg = ['http://127.0.0.1:5000/cb', 'https://app.example/cb?x=1'];
    assert.ok(redirectMatches(reg, 'http://127.0.0.1:5000/cb'));
    assert.ok(redirectMatches(reg, 'http://127.0.0.1:6000/cb'), 'any port on loopback');
    assert.ok(redirectMatches(reg, 'http://127.0.0.1/cb'));
    assert.ok(!redirectMatches(reg, 'http://127.0.0.1:6000/cb2'));
    assert.ok(!redirectMatches(reg, 'http://localhost:5000/cb'), 'another loopback name is another URI');
    assert.ok(!redirectMatches(reg, 'https://app.example/cb'), 'the query is part of it');
    assert.ok(!redirectMatches(reg, 'https://app.example:444/cb?x=1'), 'no port freedom off loopback');
    assert.ok(!redirectMatches(reg, 'http://127.0.0.1:6000/cb#frag'));
  });
  it('refuses registrations that are not public code-flow clients', () => {
    const refused = (body: unknown, code: string) =>
      assert.throws(
        () => parseRegistration(body),
        (e) => e instanceof OAuthError && e.code === code,
      );
    refused(null, 'invalid_client_metadata');
    refused({}, 'invalid_redirect_uri');
    refused({ redirect_uris: Array(11).fill('https://a.example/cb') }, 'invalid_redirect_uri');
    refused(
      { redirect_uris: ['https://a.example/cb'], grant_types: ['client_credentials'] },
      'invalid_client_metadata',
    );
    refused({ redirect_uris: ['https://a.example/cb'], response_types: ['token'] }, 'invalid_client_metadata');
    refused(
      { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'client_secret_post' },
      'invalid_client_metadata',
    );
    refused({ redirect_uris: ['https://a.example/cb'], client_name: 'x'.repeat(101) }, 'invalid_client_metadata');
    assert.deepEqual(parseRegistration({ redirect_uris: ['https://a.example/cb'] }), {
      name: 'Client at a.example',
      redirectUris: ['https://a.example/cb'],
    });
    assert.equal(
      cleanName('Claude\u202e\u0000 Code\n  x'),
      'Claude Code x',
      'no control or direction characters in a name shown to users',
    );
  });
});

describe('authorization request', () => {
  const client: OAuthClient = {
    id: 'ghc_1',
    kind: 'dcr',
    name: 'C',
    redirectUris: ['http://127.0.0.1:5000/cb'],
    createdAt: new Date(0),
    lastUsedAt: null,
    cachedUntil: null,
  };
  // A client the deployment vouches for (only the built-in kind today) gets its errors as redirects.
  const verified: OAuthClient = { ...client, id: 'ghc_v', kind: 'builtin' };
  const cimd: OAuthClient = { ...client, id: 'https://c.example/doc.json', kind: 'cimd' };
  const clients = new Map([client, verified, cimd].map((c) => [c.id, c]));
  const ctx = {
    origin: 'https://gh.example',
    prefix: '/auth',
    resources: [{ path: '/mcp', name: 'MCP', scopes: ['tools'] }],
    findClient: async (id: string) => clients.get(id) ?? null,
  };
  const good: AuthorizeParams = {
    response_type: 'code',
    client_id: 'ghc_1',
    redirect_uri: 'http://127.0.0.1:5000/cb',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: 'https://gh.example/mcp',
    scope: 'tools other',
    state: 'xyz',
  };
  const errorOf = async (p: AuthorizeParams, repeated: string[] = []) => {
    const r = await checkAuthorization({ ...p, client_id: 'ghc_v' }, repeated, ctx);
    assert.ok('redirect' in r, JSON.stringify(r));
    const u = new URL(r.redirect);
    assert.equal(u.searchParams.get('state'), p.state ?? null);
    assert.equal(u.searchParams.get('iss'), 'https://gh.example/auth');
    return u.searchParams.get('error');
  };

  it('accepts a good request and keeps only the scopes the resource names', async () => {
    const r = await checkAuthorization(good, [], ctx);
    assert.ok('ok' in r);
    assert.deepEqual(r.ok.scopes, ['tools']);
  });
  it('shows a page — never a redirect — while the client or its redirect URI is in doubt', async () => {
    for (const [p, repeated] of [
      [{ ...good, client_id: undefined }, []],
      [{ ...good, client_id: 'nope' }, []],
      [{ ...good, redirect_uri: 'https://evil.example/cb' }, []],
      [good, ['redirect_uri']],
      [{ ...good, redirect_uri: 'x'.repeat(3000) }, []],
    ] as const) {
      assert.ok('page' in (await checkAuthorization(p, repeated, ctx)), JSON.stringify(p).slice(0, 80));
    }
  });
  it('shows every problem of a self-registered client (DCR, metadata document) as a page, never a redirect', async () => {
    const bad: AuthorizeParams[] = [
      { ...good, response_type: 'token' },
      { ...good, code_challenge: undefined },
      { ...good, resource: undefined },
      { ...good, resource: 'https://gh.example/x' },
    ];
    for (const id of [client.id, cimd.id]) {
      for (const p of bad) {
        const r = await checkAuthorization({ ...p, client_id: id }, [], ctx);
        assert.ok('page' in r && /Nothing was sent to it/.test(r.page), `${id} ${JSON.stringify(r).slice(0, 120)}`);
      }
      assert.ok('page' in (await checkAuthorization({ ...good, client_id: id }, ['scope'], ctx)));
    }
  });
  it('sends every other problem back to a client the deployment verified', async () => {
    assert.equal(await errorOf({ ...good, response_type: 'token' }), 'unsupported_response_type');
    assert.equal(await errorOf({ ...good, code_challenge: undefined }), 'invalid_request');
    assert.equal(await errorOf({ ...good, code_challenge_method: 'plain' }), 'invalid_request');
    assert.equal(await errorOf({ ...good, resource: undefined }), 'invalid_target');
    assert.equal(await errorOf({ ...good, resource: 'https://gh.example/mcp/' }), 'invalid_target');
    assert.equal(await errorOf({ ...good, resource: 'http://gh.example/mcp' }), 'invalid_target');
    assert.equal(await errorOf(good, ['scope']), 'invalid_request');
  });
  it('says where the answer goes, and lets the consent form post there', () => {
    assert.equal(redirectHost('http://127.0.0.1:5000/cb'), '127.0.0.1:5000');
    assert.equal(formActionFor('https://a.example/cb?x'), "'self' https://a.example");
    assert.equal(formActionFor('cursor://anysphere/cb'), "'self' cursor:");
    assert.ok(consentCovers('tools read', ['read']));
    assert.ok(!consentCovers('read', ['read', 'tools']));
  });
});

describe('resources and discovery', () => {
  it('refuses bad MCP settings, every problem at once', () => {
    const { problems } = parseResources(
      [
        { path: 'mcp' },
        { path: '/' },
        { path: '/a/../b' },
        { path: '/x', scopes: ['a b'] },
        { path: '/x/y' },
        { path: '/.well-known/x' },
        { path: '/ok', extra: 1 },
      ],
      'mcp',
    );
    assert.equal(problems.length, 7, problems.join('\n'));
    assert.deepEqual(mcpProblems('not json', undefined).problems, [
      'GATEHOUSE_MCP must be JSON: a list such as [{"path":"/mcp","scopes":["tools"]}]',
    ]);
    assert.deepEqual(
      mcpProblems('[{"path":"/mcp"}]', [{ path: '/ignored' }]).resources.map((r) => r.path),
      ['/mcp'],
      'the variable replaces the file',
    );
  });
  it('matches a resource path and everything below it, nothing beside it', () => {
    const rs = [{ path: '/mcp', name: '/mcp', scopes: [] }];
    assert.ok(resourceFor(rs, readPath('/mcp')!));
    assert.ok(resourceFor(rs, readPath('/mcp/x')!));
    assert.equal(resourceFor(rs, readPath('/mcpx')!), undefined);
    assert.equal(resourceFor(rs, readPath('/')!), undefined);
  });
  it('builds the challenge and documents a client discovers from', () => {
    const r = { path: '/mcp', name: 'M', scopes: ['a', 'b'] };
    assert.equal(
      bearerChallenge('https://gh.example', r),
      'Bearer resource_metadata="https://gh.example/.well-known/oauth-protected-resource/mcp", scope="a b"',
    );
    assert.equal(
      bearerChallenge('https://gh.example', { ...r, scopes: [] }, 'invalid_token'),
      'Bearer resource_metadata="https://gh.example/.well-known/oauth-protected-resource/mcp", error="invalid_token"',
    );
    assert.equal(resourceOfMetadataPath('/.well-known/oauth-protected-resource/mcp', [r]), r);
    assert.equal(resourceOfMetadataPath('/.well-known/oauth-protected-resource/mcp/x', [r]), undefined);
    assert.ok(isDiscoveryPath('/.well-known/openid-configuration/auth'));
    assert.ok(!isDiscoveryPath('/.well-known/security.txt'), 'the app keeps its other well-known paths');
    const m = authorizationServerMetadata({
      origin: 'https://gh.example',
      prefix: '/auth',
      resources: [r],
      dcr: false,
      cimd: false,
    });
    assert.equal(m.registration_endpoint, undefined);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
  });
  it('recognises only well-formed access tokens in an Authorization header', () => {
    const t = 'ghat_' + 'a'.repeat(43);
    assert.equal(bearerOAuthToken(`Bearer ${t}`), t);
    assert.equal(bearerOAuthToken(`bearer ${t}`), t);
    assert.equal(bearerOAuthToken(`Bearer ${t}x`), null);
    assert.equal(bearerOAuthToken(`Basic ${t}`), null);
    assert.ok(looksLikeOAuthBearer('Bearer ghat_short'));
    assert.ok(looksLikeOAuthBearer('Bearer ghrt_refresh-used-as-access'));
    assert.ok(!looksLikeOAuthBearer('Bearer ghk_apikey'));
    assert.ok(
      !looksLikeOAuthBearer('Bearer gho_16C7e42F292c6912E7710c838347Ae178B4a'),
      "a GitHub token is the app's business",
    );
  });
});
