// The signed identity, verified the way an app would: jose's jwtVerify against the published JWKS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, UnsecuredJWT } from 'jose';
import { createAssertionSigner, newSigningKey } from '../../src/access/assertion.js';

const ISS = 'https://app.example.com/auth';
const AUD = 'https://app.example.com';
const CLAIMS = { sub: 'u-1', email: 'ada@example.com', name: 'Ada', provider: 'password', role: 'admin', groups: ['finance'], amr: ['pwd'] };

describe('assertion', () => {
  it('verifies a fresh assertion with the claims of SPEC §9', async () => {
    const signer = await createAssertionSigner({ issuer: ISS, audience: AUD, current: await newSigningKey() });
    const jwt = await signer.sign(CLAIMS);
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(signer.jwks()), { issuer: ISS, audience: AUD, algorithms: ['ES256'] });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, 'u-1');
    assert.deepEqual(payload.groups, ['finance']);
    assert.deepEqual(payload.amr, ['pwd']);
    assert.ok(payload.exp! - payload.iat! <= 60);
    assert.equal(signer.jwks().keys.every((k) => k.d === undefined), true, 'no private part published');
  });

  it('rejects an expired assertion, another audience, another key and alg none', async () => {
    let t = Date.now();
    const signer = await createAssertionSigner({ issuer: ISS, audience: AUD, current: await newSigningKey(), now: () => t });
    const jwks = createLocalJWKSet(signer.jwks());
    const jwt = await signer.sign(CLAIMS);
    t += 61_000;
    await assert.rejects(jwtVerify(jwt, jwks, { issuer: ISS, audience: AUD, currentDate: new Date(t) }), /exp/);
    await assert.rejects(jwtVerify(jwt, jwks, { issuer: ISS, audience: 'https://other.example' }), /aud/);
    const stranger = await createAssertionSigner({ issuer: ISS, audience: AUD, current: await newSigningKey() });
    await assert.rejects(jwtVerify(await stranger.sign(CLAIMS), jwks, { issuer: ISS, audience: AUD }));
    const none = new UnsecuredJWT({ email: 'mallory@example.com' }).setIssuer(ISS).setAudience(AUD).setSubject('u-1').setExpirationTime('1m').encode();
    await assert.rejects(jwtVerify(none, jwks, { issuer: ISS, audience: AUD }));
  });

  it('keeps the previous key published for the overlap after a rotation', async () => {
    let t = Date.now();
    const old = await newSigningKey(t);
    const before = await createAssertionSigner({ issuer: ISS, audience: AUD, current: old, now: () => t });
    const issuedBefore = await before.sign(CLAIMS);
    t += 1000;
    const after = await createAssertionSigner({ issuer: ISS, audience: AUD, current: await newSigningKey(t), previous: old, now: () => t });
    await jwtVerify(issuedBefore, createLocalJWKSet(after.jwks()), { issuer: ISS, audience: AUD, currentDate: new Date(t) });
    t += 10 * 60_000;
    assert.equal(after.jwks().keys.length, 1, 'the old key is gone after 10 minutes');
  });
});
