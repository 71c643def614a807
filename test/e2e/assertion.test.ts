// The signed identity end to end: what the app receives verifies against the published JWKS, says who
// the user is, survives a key rotation for the overlap, and cannot be forged by a client.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { runCli, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { builtinClient } from '../../src/oauth/device.js';

const PASSWORD = 'correct horse battery staple';

async function jwksOf(gh: TestGatehouse): Promise<JSONWebKeySet> {
  const r = await request(`${gh.url}/auth/.well-known/jwks.json`);
  assert.equal(r.statusCode, 200);
  return (await r.body.json()) as JSONWebKeySet;
}

describe('X-Forwarded-Assertion', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url, env: { GATEHOUSE_PUBLIC_PATHS: '/pub/*' } });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });
  beforeEach(() => upstream.clear());

  const verify = async (jwt: string) =>
    jwtVerify(jwt, createLocalJWKSet(await jwksOf(gh)), {
      issuer: `${gh.url}/auth`,
      audience: gh.url,
      algorithms: ['ES256'],
    });

  it('comes with every forwarded request and verifies against the published keys, with its claims', async () => {
    const email = `a${randomBytes(3).toString('hex')}@example.com`;
    const c = new TestClient(gh.url);
    assert.equal((await c.signUp(email, PASSWORD, 'Ada Lovelace')).status, 303);
    const u = (await gh.store.findUserByEmail(email))!;
    await gh.store.updateUser(u.id, { groups: ['ops'] }, new Date());
    await new Promise((r) => setTimeout(r, 2100));
    await c.get('/x', { 'x-forwarded-assertion': 'forged.by.client' });
    const seen = upstream.requests.at(-1)!;
    const jwt = String(seen.headers['x-forwarded-assertion']);
    assert.notEqual(jwt, 'forged.by.client');
    const { payload } = await verify(jwt);
    assert.equal(payload.sub, u.id);
    assert.equal(payload.email, email);
    assert.equal(payload.name, 'Ada Lovelace');
    assert.equal(payload.role, 'member');
    assert.deepEqual(payload.groups, ['ops']);
    assert.deepEqual(payload.amr, ['pwd']);
    assert.equal(payload.provider, 'password');
    assert.ok(payload.exp! - payload.iat! <= 60);
    const check = await request(`${gh.url}/auth/check`, { headers: { cookie: c.cookieHeader()! } });
    await check.body.text();
    assert.equal(
      (await verify(String(check.headers['x-forwarded-assertion']))).payload.sub,
      u.id,
      '/auth/check carries one too',
    );
  });

  it('is absent for anonymous requests, and a client-sent one never reaches the app', async () => {
    await new TestClient(gh.url).get('/pub/page', {
      'x-forwarded-assertion': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2aWN0aW0ifQ.',
    });
    assert.equal(upstream.requests[0]!.headers['x-forwarded-assertion'], undefined);
  });

  it('tells a scoped API key from a session: scope (RFC 9068) for the key, no scope or client_id for a session', async () => {
    const email = `k${randomBytes(3).toString('hex')}@example.com`;
    const c = new TestClient(gh.url);
    assert.equal((await c.signUp(email, PASSWORD)).status, 303);
    await c.get('/as-session');
    const bySession = (await verify(String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']))).payload;
    assert.equal('scope' in bySession || 'client_id' in bySession, false);
    const u = (await gh.store.findUserByEmail(email))!;
    const { token } = await gh.apiKeys.issue(u, 'reports', 'member', null, ['reports:write', 'reports:read']);
    await new TestClient(gh.url).get('/as-key', { authorization: `Bearer ${token}` });
    const byKey = (await verify(String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']))).payload;
    assert.equal(byKey.sub, u.id);
    assert.equal(byKey.scope, 'reports:read reports:write');
    assert.deepEqual(byKey.amr, ['key']);
    assert.equal('client_id' in byKey, false);
  });

  it('names the OAuth client of a token (client_id), with its scopes when it has any', async () => {
    const email = `o${randomBytes(3).toString('hex')}@example.com`;
    assert.equal((await new TestClient(gh.url).signUp(email, PASSWORD)).status, 303);
    const u = (await gh.store.findUserByEmail(email))!;
    const client = await builtinClient(gh.store, new Date());
    const grant = { clientId: client.id, userId: u.id, resource: gh.url, scopes: [] }; // a token for the whole app
    const { accessToken } = await gh.oauthTokens.issueTokens(grant);
    await new TestClient(gh.url).get('/as-token', { authorization: `Bearer ${accessToken}` });
    const byToken = (await verify(String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']))).payload;
    assert.equal(byToken.sub, u.id);
    assert.equal(byToken.client_id, 'gatehouse-cli');
    assert.deepEqual(byToken.amr, ['oauth']);
    assert.equal('scope' in byToken, false, 'a whole-app token carries no scopes');
  });

  // key-rotation.test.ts follows a rotation through to the new key signing and the old one leaving.
  it('publishes a rotated key at once and keeps signing with the old one for now', async () => {
    const c = new TestClient(gh.url);
    assert.equal((await c.signUp(`r${randomBytes(3).toString('hex')}@example.com`, PASSWORD)).status, 303);
    await c.get('/before');
    const before = String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']);
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await runCli(['auth', 'rotate-signing-key'], { GATEHOUSE_HOME: gh.home });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /sign with it from \d{4}-/);
    gh.reload(); // looks at the store now rather than at the next tick
    let keys = await jwksOf(gh);
    for (let i = 0; i < 50 && keys.keys.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      keys = await jwksOf(gh);
    }
    assert.equal(keys.keys.length, 2, 'both keys published');
    const again = new TestClient(gh.url);
    assert.equal((await again.signUp(`s${randomBytes(3).toString('hex')}@example.com`, PASSWORD)).status, 303);
    await again.get('/after');
    const after = String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']);
    assert.equal(decodeProtectedHeader(after).kid, oldKid, 'the new key does not sign yet');
    await verify(before);
    await verify(after);
  });
});

describe('GATEHOUSE_ASSERTION=off', () => {
  it('sends no assertion and publishes no keys', async () => {
    const upstream = await startRecordingUpstream();
    const gh = await startTestGatehouse({ upstream: upstream.url, env: { GATEHOUSE_ASSERTION: 'off' } });
    try {
      const c = new TestClient(gh.url);
      await c.signUp(`o${randomBytes(3).toString('hex')}@example.com`, PASSWORD);
      await c.get('/x');
      assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-assertion'], undefined);
      const r = await request(`${gh.url}/auth/.well-known/jwks.json`);
      await r.body.text();
      assert.equal(r.statusCode, 404);
    } finally {
      await gh.stop();
      await upstream.close();
    }
  });
});
