// The signed identity, verified the way an app would: jose's jwtVerify against the published JWKS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, UnsecuredJWT } from 'jose';
import { createAssertionSigner, newSigningKey, type SigningKey } from '../../src/access/assertion.js';

const keyAt = async (generation: number, signsFrom: number): Promise<SigningKey> => ({
  ...(await newSigningKey(signsFrom)),
  generation,
  signsFrom,
});

const ISS = 'https://app.example.com/auth';
const AUD = 'https://app.example.com';
const CLAIMS = {
  sub: 'u-1',
  email: 'ada@example.com',
  name: 'Ada',
  provider: 'password',
  role: 'admin',
  groups: ['finance'],
  amr: ['pwd'],
};

describe('assertion', () => {
  it('verifies a fresh assertion with the claims architecture.md#access lists', async () => {
    const signer = await createAssertionSigner({ issuer: ISS, audience: AUD, keys: [await keyAt(1, Date.now())] });
    const jwt = await signer.sign(CLAIMS);
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(signer.jwks()), {
      issuer: ISS,
      audience: AUD,
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'u-1');
    assert.deepEqual(payload.groups, ['finance']);
    assert.deepEqual(payload.amr, ['pwd']);
    assert.ok(payload.exp! - payload.iat! <= 60);
    assert.equal(
      signer.jwks().keys.every((k) => k.d === undefined),
      true,
      'no private part published',
    );
  });

  it('rejects an expired assertion, another audience, another key and alg none', async () => {
    let t = Date.now();
    const signer = await createAssertionSigner({ issuer: ISS, audience: AUD, keys: [await keyAt(1, t)], now: () => t });
    const jwks = createLocalJWKSet(signer.jwks());
    const jwt = await signer.sign(CLAIMS);
    t += 61_000;
    await assert.rejects(jwtVerify(jwt, jwks, { issuer: ISS, audience: AUD, currentDate: new Date(t) }), /exp/);
    await assert.rejects(jwtVerify(jwt, jwks, { issuer: ISS, audience: 'https://other.example' }), /aud/);
    const stranger = await createAssertionSigner({ issuer: ISS, audience: AUD, keys: [await keyAt(1, Date.now())] });
    await assert.rejects(jwtVerify(await stranger.sign(CLAIMS), jwks, { issuer: ISS, audience: AUD }));
    const none = new UnsecuredJWT({ email: 'mallory@example.com' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject('u-1')
      .setExpirationTime('1m')
      .encode();
    await assert.rejects(jwtVerify(none, jwks, { issuer: ISS, audience: AUD }));
  });

  it('publishes a rotated key at once, signs with it a minute later, keeps the old 10 min after last use', async () => {
    const t0 = Date.now();
    let t = t0;
    const old = await keyAt(1, t0);
    const next = await keyAt(2, t0 + 1000 + 60_000); // rotated at t0 + 1 s
    const signer = await createAssertionSigner({ issuer: ISS, audience: AUD, keys: [old, next], now: () => t });
    const kids = () => signer.jwks().keys.map((k) => k.kid);
    const signedBy = async () => decodeProtectedHeader(await signer.sign(CLAIMS)).kid;
    t = t0 + 1000;
    assert.deepEqual(kids(), [old.kid, next.kid], 'published before it signs');
    assert.equal(await signedBy(), old.kid);
    t = t0 + 1000 + 59_999;
    assert.equal(await signedBy(), old.kid);
    const lastOfOld = await signer.sign(CLAIMS);
    t = t0 + 1000 + 60_000;
    assert.equal(await signedBy(), next.kid);
    await jwtVerify(lastOfOld, createLocalJWKSet(signer.jwks()), {
      issuer: ISS,
      audience: AUD,
      currentDate: new Date(t),
    });
    t += 10 * 60_000 - 1;
    assert.deepEqual(kids(), [old.kid, next.kid], 'still published just before 10 minutes after its last use');
    t += 1;
    assert.deepEqual(kids(), [next.kid], 'gone 10 minutes after its last use');
  });
});
