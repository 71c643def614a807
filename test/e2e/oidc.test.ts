// Social login against a real OpenID Connect provider (oidc-provider) over real sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestIdp, type TestIdp } from '../support/oidc.js';
import { startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { TestClient } from '../support/client.js';
import { readState, writeState } from '../../src/config/state.js';
import { seal, loadMasterKey } from '../../src/config/secrets.js';
import { freePort } from '../../src/exec-app.js';

let idp: TestIdp;
let gh: TestGatehouse;
let upstream: RecordingUpstream;
let home: ReturnType<typeof tempHome>;

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startTestIdp([`${base}/auth/oauth/corp/callback`]);
  upstream = await startRecordingUpstream();
  home = tempHome();
  // First start writes the state; then the provider is added as `auth providers add` would.
  gh = await startTestGatehouse({ home: home.home, upstream: upstream.url, port, publicUrl: new URL(base) });
  const scope = { home: home.home, server: 'local', profile: 'main' };
  const state = readState(scope)!;
  state.providers = [
    {
      name: 'corp',
      kind: 'oidc',
      clientId: idp.clientId,
      clientSecret: seal(idp.clientSecret, loadMasterKey(home.home, {})),
      issuer: idp.issuer,
    },
  ];
  writeState(scope, state);
  gh.reload();
});
after(async () => {
  await gh.stop();
  home.cleanup();
  await idp.close();
  await upstream.close();
});

async function socialLogin(
  c: TestClient,
  sub: string,
  returnTo = '/',
): Promise<{ status: number; location?: string; text: string }> {
  const start = await c.get(`/auth/oauth/corp/start?return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(start.status, 302, start.text);
  const authUrl = String(start.headers.location);
  assert.ok(authUrl.startsWith(idp.issuer), authUrl);
  assert.match(authUrl, /code_challenge_method=S256/);
  const back = await idp.login(authUrl, sub);
  const r = await c.get(back.pathname + back.search);
  return { status: r.status, location: r.headers.location as string | undefined, text: r.text };
}

describe('social login (OpenID Connect)', () => {
  it('shows the provider on the sign-in page', async () => {
    const page = await new TestClient(gh.url).get('/auth/sign-in');
    assert.match(page.text, /\/auth\/oauth\/corp\/start/);
  });

  it('signs a new user up, keyed on issuer and subject, and forwards the provider name', async () => {
    idp.accounts.set('alice-sub', { email: 'Alice@Corp.example', email_verified: true, name: 'Alice Corp' });
    const c = new TestClient(gh.url);
    const r = await socialLogin(c, 'alice-sub', '/after');
    assert.equal(r.status, 303, r.text);
    assert.equal(r.location, '/after');
    const me = JSON.parse((await c.get('/auth/me')).text);
    assert.equal(me.email, 'alice@corp.example');
    assert.equal(me.provider, 'corp');
    await c.get('/echo');
    assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-provider'], 'corp');
    const identity = await gh.store.findIdentity(idp.issuer, 'alice-sub');
    assert.equal(identity?.userId, me.id);
    // The same IdP account later: the same user, even if its email changed at the IdP.
    idp.accounts.set('alice-sub', { email: 'alice.new@corp.example', email_verified: true, name: 'Alice' });
    const c2 = new TestClient(gh.url);
    assert.equal((await socialLogin(c2, 'alice-sub')).status, 303);
    assert.equal(JSON.parse((await c2.get('/auth/me')).text).id, me.id);
  });

  it('links to an existing password account only when the IdP and the account both verified the email', async () => {
    const owner = new TestClient(gh.url);
    assert.equal((await owner.signUp('bob@corp.example', 'bob has a long password')).status, 303);
    const ownerId = JSON.parse((await owner.get('/auth/me')).text).id;

    idp.accounts.set('mallory-sub', { email: 'bob@corp.example', email_verified: false, name: 'Not Bob' });
    const attacker = new TestClient(gh.url);
    const refused = await socialLogin(attacker, 'mallory-sub');
    assert.equal(refused.status, 403);
    assert.equal((await attacker.get('/auth/me')).status, 401);
    assert.equal(await gh.store.findIdentity(idp.issuer, 'mallory-sub'), null);

    // Verified at the IdP, but the local account never confirmed the address (no mail bound): refused,
    // or whoever registered it first would receive bob's IdP sign-in (test/security/sso.test.ts).
    idp.accounts.set('bob-sub', { email: 'bob@corp.example', email_verified: true, name: 'Bob' });
    assert.equal((await socialLogin(new TestClient(gh.url), 'bob-sub')).status, 409);
    assert.equal(await gh.store.findIdentity(idp.issuer, 'bob-sub'), null);

    await gh.store.updateUser(ownerId, { emailVerified: true }, new Date());
    const bob = new TestClient(gh.url);
    assert.equal((await socialLogin(bob, 'bob-sub')).status, 303);
    assert.equal(JSON.parse((await bob.get('/auth/me')).text).id, ownerId);
  });

  it('refuses a callback without the transaction cookie, with a tampered state, or replayed', async () => {
    idp.accounts.set('carol-sub', { email: 'carol@corp.example', email_verified: true });
    const c = new TestClient(gh.url);
    const start = await c.get('/auth/oauth/corp/start');
    const back = await idp.login(String(start.headers.location), 'carol-sub');
    // Another browser (no transaction cookie) presents the code: refused (login CSRF).
    assert.equal((await new TestClient(gh.url).get(back.pathname + back.search)).status, 400);
    // Tampered state.
    const tampered = new URL(back);
    tampered.searchParams.set('state', 'x' + tampered.searchParams.get('state'));
    const c2 = new TestClient(gh.url);
    for (const [k, v] of c.cookies) c2.cookies.set(k, v);
    assert.equal((await c2.get(tampered.pathname + tampered.search)).status, 400);
    // The genuine callback, once; then the same again is refused (cookie cleared, code spent).
    const ok = await c.get(back.pathname + back.search);
    assert.equal(ok.status, 303);
    assert.equal((await c.get(back.pathname + back.search)).status, 400);
  });

  it("refuses a transaction minted for one provider at another provider's callback", async () => {
    const scope = { home: home.home, server: 'local', profile: 'main' };
    const state = readState(scope)!;
    state.providers = [...state.providers, { ...state.providers[0]!, name: 'other' }];
    writeState(scope, state);
    gh.reload();
    idp.accounts.set('dave-sub', { email: 'dave@corp.example', email_verified: true });
    const c = new TestClient(gh.url);
    const start = await c.get('/auth/oauth/corp/start');
    const back = await idp.login(String(start.headers.location), 'dave-sub');
    const r = await c.get(back.pathname.replace('/corp/', '/other/') + back.search);
    assert.equal(r.status, 400);
    assert.equal((await c.get('/auth/me')).status, 401);
  });

  it('answers 404 for an unknown provider and reports IdP errors plainly', async () => {
    const c = new TestClient(gh.url);
    assert.equal((await c.get('/auth/oauth/nope/start')).status, 404);
    await c.get('/auth/oauth/corp/start');
    const r = await c.get('/auth/oauth/corp/callback?error=access_denied&state=x');
    assert.equal(r.status, 400);
    assert.match(r.text, /cancelled/);
  });
});
