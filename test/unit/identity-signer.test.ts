// The signer the gate and /auth/check share (identity-signer.ts): one assertion per session while it is
// fresh and its claims are unchanged; a changed claim is signed again at once; concurrent requests share
// one signature; and what is kept follows the sessions active in the last half-minute.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { newSigningKey } from '../../src/access/assertion.js';
import { createIdentitySigner } from '../../src/access/identity-signer.js';
import type { Principal, ResolvedSession } from '../../src/session/sessions.js';

const ada: Principal = {
  userId: 'u-ada',
  email: 'ada@example.com',
  name: 'Ada',
  provider: 'password',
  role: 'member',
  emailVerified: true,
  groups: ['finance'],
};
const session = (principal: Principal, sessionId = 's-1'): ResolvedSession => ({ sessionId, principal });

async function signer(clock: { t: number }) {
  return createIdentitySigner({
    keys: [{ ...(await newSigningKey(clock.t)), generation: 1, signsFrom: clock.t }],
    origin: () => 'https://app.example.com',
    prefix: '/auth',
    now: () => clock.t,
  });
}

describe('identity signer', () => {
  it('reuses an assertion across re-resolutions while the claims are the same, and shares one signature', async () => {
    const clock = { t: Date.now() };
    const s = await signer(clock);
    const first = s.assertionOf(session(ada));
    assert.equal(s.assertionOf(session(ada)), first, 'a burst before the signature is done shares its promise');
    const jwt = await first;
    clock.t += 2_000; // the session cache re-resolved it: a new object, equal claims
    assert.equal(s.assertionOf(session({ ...ada, groups: ['finance'] })), jwt, 'ready synchronously, no new signature');
  });

  it('signs again at once when a claim changed, and after half the assertion’s life', async () => {
    const clock = { t: Date.now() };
    const s = await signer(clock);
    const member = await s.assertionOf(session(ada));
    const admin = await s.assertionOf(session({ ...ada, role: 'admin' }));
    assert.notEqual(admin, member);
    assert.equal(decodeJwt(admin).role, 'admin');
    const regrouped = await s.assertionOf(session({ ...ada, role: 'admin', groups: ['finance', 'ops'] }));
    assert.deepEqual(decodeJwt(regrouped).groups, ['finance', 'ops']);
    const amr = await s.assertionOf(
      session({ ...ada, role: 'admin', groups: ['finance', 'ops'], amr: ['pwd', 'otp'] }),
    );
    assert.deepEqual(decodeJwt(amr).amr, ['pwd', 'otp']);
    clock.t += 31_000;
    const later = await s.assertionOf(
      session({ ...ada, role: 'admin', groups: ['finance', 'ops'], amr: ['pwd', 'otp'] }),
    );
    assert.notEqual(later, amr);
    assert.ok(decodeJwt(later).exp! - Math.floor(clock.t / 1000) > 30, 'never handed out in its last half');
  });

  it('keeps what it signed across a rotation (the old key stays published), then signs with the new', async () => {
    const clock = { t: Date.now() };
    const s = await signer(clock);
    const before = await s.assertionOf(session(ada));
    const oldKid = decodeProtectedHeader(before).kid;
    const next = { ...(await newSigningKey(clock.t)), generation: 2, signsFrom: clock.t + 60_000 };
    await s.use([{ ...(await newSigningKey(clock.t)), kid: String(oldKid), generation: 1, signsFrom: 0 }, next]);
    assert.equal(s.assertionOf(session(ada)), before, 'nothing to re-sign: the key that signed it is still published');
    clock.t += 60_000;
    assert.equal(decodeProtectedHeader(await s.assertionOf(session(ada, 's-2'))).kid, next.kid);
  });

  it('signs again at once when the keys that signed are gone (another database)', async () => {
    const clock = { t: Date.now() };
    const s = await signer(clock);
    const before = await s.assertionOf(session(ada));
    const other = { ...(await newSigningKey(clock.t)), generation: 1, signsFrom: clock.t };
    await s.use([other]);
    const after = await s.assertionOf(session(ada));
    assert.notEqual(after, before);
    assert.equal(decodeProtectedHeader(after).kid, other.kid);
    assert.deepEqual(
      s.jwks().keys.map((k) => k.kid),
      [other.kid],
    );
  });

  it('adds scope for scoped keys and tokens and client_id for tokens, and signs again when they change', async () => {
    const clock = { t: Date.now() };
    const s = await signer(clock);
    const plain = decodeJwt(await s.assertionOf(session(ada)));
    assert.equal('scope' in plain || 'client_id' in plain, false, 'a session carries neither');
    const key = decodeJwt(
      await s.assertionOf(session({ ...ada, provider: 'api-key', scopes: ['reports:read', 'reports:write'] }, 'k-1')),
    );
    assert.equal(key.scope, 'reports:read reports:write');
    assert.equal('client_id' in key, false);
    const token = { ...ada, provider: 'oauth', client: 'Claude', clientId: 'ghc_abc', scopes: ['mcp:tools'] };
    const t1 = decodeJwt(await s.assertionOf(session(token, 'o-1')));
    assert.equal(t1.scope, 'mcp:tools');
    assert.equal(t1.client_id, 'ghc_abc');
    const narrowed = decodeJwt(await s.assertionOf(session({ ...token, scopes: ['mcp:read'] }, 'o-1')));
    assert.equal(narrowed.scope, 'mcp:read', 'a changed scope is signed again at once');
  });

  it('keeps nothing for sessions idle past half a minute, and one session never gets another’s assertion', async () => {
    const clock = { t: Date.now() };
    const s = await signer(clock);
    const bob: Principal = { ...ada, userId: 'u-bob', email: 'bob@example.com', name: 'Bob' };
    const forAda = await s.assertionOf(session(ada, 's-ada'));
    const forBob = await s.assertionOf(session(bob, 's-bob'));
    assert.equal(decodeJwt(forBob).sub, 'u-bob');
    assert.notEqual(forAda, forBob);
    // Same session id, someone else's claims (never happens, but must not leak): signed anew.
    assert.equal(decodeJwt(await s.assertionOf(session(bob, 's-ada'))).sub, 'u-bob');
    assert.equal(s.held, 2, 'one per session id');
    clock.t += 10_000;
    for (let i = 0; i < 50; i++) await s.assertionOf(session({ ...ada, userId: `u-${i}` }, `s-${i}`));
    assert.equal(s.held, 52);
    clock.t += 25_000; // the first two are past their half-life, the fifty are not
    await s.assertionOf(session(ada, 's-next'));
    assert.equal(s.held, 51);
    clock.t += 31_000;
    await s.assertionOf(session(ada, 's-last'));
    assert.equal(s.held, 1, 'only the session signed just now is kept');
  });
});
