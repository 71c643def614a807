// Social-login attacks, tried against a running Gatehouse and a real OpenID Connect provider
// (oidc-provider) over real sockets:
// - account pre-registration: someone signs up with the victim's address (never confirmed); the
//   victim's later IdP sign-in must not land in, or be linked to, that account;
// - a tampered ID token (corrupted signature, a signature by another key, an `iat` an hour ahead) on
//   the token-endpoint answer must be refused, while the genuine flow still succeeds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
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
  // No SMTP bound: a password sign-up is signed in at once and its email stays unconfirmed.
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

async function socialLogin(c: TestClient, sub: string): Promise<{ status: number; location?: string; text: string }> {
  const start = await c.get('/auth/oauth/corp/start');
  assert.equal(start.status, 302, start.text);
  const back = await idp.login(String(start.headers.location), sub);
  const r = await c.get(back.pathname + back.search);
  return { status: r.status, location: r.headers.location as string | undefined, text: r.text };
}

const meOf = async (c: TestClient) => {
  const r = await c.get('/auth/me');
  return r.status === 200 ? (JSON.parse(r.text) as { id: string; email: string; provider: string }) : null;
};

const audited = (event: string, needle: string) =>
  gh.auditLines.some((l) => l.includes(`"event":"${event}"`) && l.includes(needle));

describe('social login into a pre-registered account (item 4)', () => {
  it("refuses to link a verified IdP email to a password account that never confirmed it: no identity, no session, the squatter's password untouched", async () => {
    const attacker = new TestClient(gh.url);
    assert.equal((await attacker.signUp('victim@example.com', 'the squatter password')).status, 303);
    const squat = await meOf(attacker);
    assert.ok(squat);
    assert.equal((await gh.store.findUserById(squat.id))?.emailVerified, false);

    idp.accounts.set('victim-sub', { email: 'victim@example.com', email_verified: true, name: 'The Victim' });
    const victim = new TestClient(gh.url);
    const r = await socialLogin(victim, 'victim-sub');
    assert.equal(r.status, 409, r.text);
    assert.match(r.text, /already exists/);
    assert.equal(await meOf(victim), null, 'the victim got no session');
    assert.equal(await gh.store.findIdentity(idp.issuer, 'victim-sub'), null, 'nothing was linked');
    assert.ok(audited('provider.link-refused', squat.id));
    // Only the squatter's own sign-up session exists; nothing was added to the account.
    assert.equal((await gh.store.listUserSessions(squat.id)).length, 1);

    // The account is exactly as it was: the squatter's password works, and so does their session.
    assert.equal((await meOf(attacker))?.id, squat.id);
    const again = new TestClient(gh.url);
    assert.equal((await again.signIn('victim@example.com', 'the squatter password')).status, 303);
    assert.equal((await meOf(again))?.id, squat.id);

    // A second try is refused the same way (nothing half-linked by the first).
    assert.equal((await socialLogin(new TestClient(gh.url), 'victim-sub')).status, 409);
  });

  it('links to, and signs in, a local account whose email is confirmed', async () => {
    const owner = new TestClient(gh.url);
    assert.equal((await owner.signUp('owner@example.com', 'the owner password')).status, 303);
    const account = await meOf(owner);
    assert.ok(account);
    await gh.store.updateUser(account.id, { emailVerified: true }, new Date());

    idp.accounts.set('owner-sub', { email: 'Owner@Example.com', email_verified: true, name: 'Owner' });
    const viaIdp = new TestClient(gh.url);
    const r = await socialLogin(viaIdp, 'owner-sub');
    assert.equal(r.status, 303, r.text);
    const me = await meOf(viaIdp);
    assert.equal(me?.id, account.id);
    assert.equal(me?.provider, 'corp');
    assert.equal((await gh.store.findIdentity(idp.issuer, 'owner-sub'))?.userId, account.id);
  });

  it('still never links on an email the IdP has not verified, even to a confirmed local account', async () => {
    const owner = new TestClient(gh.url);
    assert.equal((await owner.signUp('confirmed@example.com', 'the owner password')).status, 303);
    const account = await meOf(owner);
    assert.ok(account);
    await gh.store.updateUser(account.id, { emailVerified: true }, new Date());

    idp.accounts.set('typo-sub', { email: 'confirmed@example.com', email_verified: false });
    const attacker = new TestClient(gh.url);
    assert.equal((await socialLogin(attacker, 'typo-sub')).status, 403);
    assert.equal(await meOf(attacker), null);
    assert.equal(await gh.store.findIdentity(idp.issuer, 'typo-sub'), null);
  });
});

describe('ID token checks at the callback (item 28)', () => {
  const nowSec = () => Math.floor(Date.now() / 1000);

  /** Flips one character in the middle of the signature part: a clearly different signature (the
   *  last character may only carry padding bits, so it is left alone). */
  function corruptSignature(idToken: string): string {
    const [header, payload, signature] = idToken.split('.') as [string, string, string];
    const i = Math.floor(signature.length / 2);
    const flipped = signature[i] === 'A' ? 'B' : 'A';
    return `${header}.${payload}.${signature.slice(0, i)}${flipped}${signature.slice(i + 1)}`;
  }

  /** Runs one sign-in as a fresh IdP account with `filter` rewriting the ID token on its way to Gatehouse. */
  async function attempt(sub: string, filter: TestIdp['idTokenFilter']) {
    idp.accounts.set(sub, { email: `${sub}@corp.example`, email_verified: true, name: sub });
    idp.idTokenFilter = filter;
    const c = new TestClient(gh.url);
    const auditedBefore = gh.auditLines.length;
    try {
      const r = await socialLogin(c, sub);
      return {
        ...r,
        me: await meOf(c),
        identity: await gh.store.findIdentity(idp.issuer, sub),
        audit: gh.auditLines.slice(auditedBefore),
      };
    } finally {
      idp.idTokenFilter = null;
    }
  }

  function assertRefused(r: Awaited<ReturnType<typeof attempt>>) {
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /could not confirm/);
    assert.equal(r.me, null, 'no session');
    assert.equal(r.identity, null, 'no account linked or created');
    assert.ok(
      r.audit.some((l) => l.includes('"event":"provider.token-refused"')),
      r.audit.join('\n'),
    );
  }

  it('accepts the genuine flow, and a token the IdP key really signed', async () => {
    const plain = await attempt('genuine-sub', null);
    assert.equal(plain.status, 303, plain.text);
    assert.equal(plain.me?.email, 'genuine-sub@corp.example');
    // Re-signed with the IdP's own key and unchanged claims: the control for the iat case below.
    const resigned = await attempt('resigned-sub', (t) => idp.sign(decodeJwt(t)));
    assert.equal(resigned.status, 303, resigned.text);
    assert.equal(resigned.identity?.userId, resigned.me?.id);
  });

  it('refuses an ID token whose signature was corrupted on the way', async () => {
    assertRefused(await attempt('corrupt-sub', corruptSignature));
  });

  it("refuses an ID token signed by another key under the IdP's kid", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forge = async (t: string) => {
      const { kid } = JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid?: string };
      return new SignJWT(decodeJwt(t)).setProtectedHeader({ alg: 'RS256', kid: kid ?? 'x' }).sign(privateKey);
    };
    assertRefused(await attempt('forged-sub', forge));
  });

  it('refuses an ID token, properly signed by the IdP, issued an hour in the future', async () => {
    const future = (t: string) => {
      const iat = nowSec() + 3600;
      return idp.sign({ ...decodeJwt(t), iat, exp: iat + 600 });
    };
    assertRefused(await attempt('future-sub', future));
  });

  it('still accepts an iat a few seconds ahead (clock drift within the tolerance)', async () => {
    const drift = (t: string) => {
      const iat = nowSec() + 20;
      return idp.sign({ ...decodeJwt(t), iat, exp: iat + 600 });
    };
    const r = await attempt('drift-sub', drift);
    assert.equal(r.status, 303, r.text);
  });
});
