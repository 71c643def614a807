// Regression: `gatehouse auth rotate-signing-key` signed with the new key the moment it was published, and a
// verifier built the usual way (jose's createRemoteJWKSet) refuses an unknown `kid` for 30 s after its last
// fetch — so every app failed for up to half a minute after a rotation. Now the new public key is published
// at once and signs only from 60 s later; the previous one stays published 10 minutes after its last use.
//
// One clock for Gatehouse and the verifier (jose reads Date.now for its cooldown and cache): the test moves
// it forward instead of sleeping through the 60 s and the 10 minutes.
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { runCli, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { newSigningKey } from '../../src/access/assertion.js';
import { loadMasterKey, seal } from '../../src/config/secrets.js';
import { readState, updateState } from '../../src/config/state.js';
import { prepareState } from '../../src/main.js';
import { TestClient } from '../support/client.js';

const clock = { t: Date.now() };

describe('a verifier using jose createRemoteJWKSet across a key rotation', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  before(async () => {
    mock.method(Date, 'now', () => clock.t);
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url, now: () => clock.t });
  });
  after(async () => {
    await gh?.stop();
    await upstream?.close();
    mock.restoreAll();
  });

  const jwks = async (): Promise<JSONWebKeySet> => {
    const r = await request(`${gh.url}/auth/.well-known/jwks.json`);
    return (await r.body.json()) as JSONWebKeySet;
  };
  /** Polls (real time, bounded) until Gatehouse publishes `n` keys: a rotation reaches it through the store. */
  const published = async (n: number) => {
    for (let i = 0; i < 100 && (await jwks()).keys.length !== n; i++) await new Promise((r) => setTimeout(r, 100));
    return (await jwks()).keys;
  };

  it('never fails: the new key signs only once the verifier may refetch, the old one stays its overlap', async () => {
    const c = new TestClient(gh.url);
    assert.equal(
      (await c.signUp(`rot${randomBytes(3).toString('hex')}@example.com`, 'correct horse battery staple')).status,
      303,
    );
    const verifier = createRemoteJWKSet(new URL(`${gh.url}/auth/.well-known/jwks.json`));
    const failures: string[] = [];
    const kids: string[] = [];
    const check = async () => {
      await c.get('/app');
      const jwt = String(upstream.requests.at(-1)!.headers['x-forwarded-assertion']);
      kids.push(String(decodeProtectedHeader(jwt).kid));
      await jwtVerify(jwt, verifier, {
        issuer: `${gh.url}/auth`,
        audience: gh.url,
        currentDate: new Date(clock.t),
      }).catch((err: Error) => failures.push(`${(clock.t - start) / 1000} s: ${err.message}`));
    };
    const start = clock.t;
    await check(); // the verifier has fetched the keys once
    const oldKid = kids[0]!;
    clock.t += 1000;
    const rotated = await runCli(['auth', 'rotate-signing-key'], { GATEHOUSE_HOME: gh.home });
    assert.equal(rotated.code, 0, rotated.stderr);
    const rotatedAt = clock.t;
    gh.reload();
    const both = await published(2);
    assert.equal(both.length, 2, 'the new public key is published at once');
    const newKid = both.map((k) => k.kid).find((k) => k !== oldKid)!;
    // Twelve minutes in 5-second steps, a request and a verification at each.
    const early: string[] = [];
    while (clock.t - rotatedAt < 12 * 60_000) {
      clock.t += 5000;
      await check();
      if (clock.t - rotatedAt < 55_000) early.push(kids.at(-1)!);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(new Set(early), new Set([oldKid]), 'the new key does not sign during its first minute');
    assert.equal(kids.at(-1), newKid, 'the new key signs after its minute');
    const keys = await published(1);
    assert.deepEqual(
      keys.map((k) => k.kid),
      [newKid],
      'the old key is gone 10 minutes after its last use',
    );
  });
});

describe('a deployment from before the keys moved to the store', () => {
  it('keeps its kid: the first start moves the state file’s key into the store', async () => {
    const home = tempHome();
    const scope = { home: home.home, server: 'local', profile: 'main' };
    const masterKey = loadMasterKey(home.home, {});
    prepareState(scope, masterKey, () => {});
    const old = await newSigningKey(Date.now() - 86_400_000);
    updateState(scope, (s) => ({ ...s!, signing: { current: seal(JSON.stringify(old), masterKey), previous: null } }));
    const upstream = await startRecordingUpstream();
    const gh = await startTestGatehouse({ home: home.home, upstream: upstream.url });
    try {
      const r = await request(`${gh.url}/auth/.well-known/jwks.json`);
      assert.deepEqual(
        ((await r.body.json()) as JSONWebKeySet).keys.map((k) => k.kid),
        [old.kid],
      );
      assert.deepEqual(
        (await gh.store.listSigningKeys()).map((k) => k.kid),
        [old.kid],
      );
      assert.equal(readState(scope)!.signing, undefined, 'moved, not copied: a rotated key never returns from there');
      const c = new TestClient(gh.url);
      await c.signUp(`legacy${randomBytes(3).toString('hex')}@example.com`, 'correct horse battery staple');
      await c.get('/app');
      assert.equal(
        decodeProtectedHeader(String(upstream.requests.at(-1)!.headers['x-forwarded-assertion'])).kid,
        old.kid,
      );
    } finally {
      await gh.stop();
      await upstream.close();
      home.cleanup();
    }
  });
});
