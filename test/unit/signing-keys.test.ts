// The assertion signing keys in the store (architecture.md#access): the state file's keys move in on the first
// start with their kids; a rotation adds the next generation that signs a minute later and deletes keys retired
// for good; a key sealed with another master key is refused, never replaced; a server following the store
// publishes a rotation at its next look, and gives an empty store (another database) the keys it signs with.
// The replica heartbeat names a replica with another public URL once, and stays quiet about one with the same.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { newSigningKey } from '../../src/access/assertion.js';
import { startIdentitySigner } from '../../src/access/key-follower.js';
import { KEPT_AFTER_LAST_USE_MS, SIGNS_AFTER_MS } from '../../src/access/key-timeline.js';
import { loadSigningKeys, rotateSigningKey } from '../../src/access/signing-keys.js';
import { seal } from '../../src/config/secrets.js';
import { startReplicaHeartbeat } from '../../src/replicas.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const masterKey = randomBytes(32);
const fresh = async (): Promise<Store> => {
  const store = createSqliteStore(':memory:', { prefix: 'sk_' });
  await store.migrate();
  return store;
};
const T0 = Date.UTC(2026, 0, 1);
const ada = {
  sessionId: 's-1',
  principal: {
    userId: 'u-1',
    email: 'ada@example.com',
    name: 'Ada',
    provider: 'password',
    role: 'member',
    emailVerified: true,
    groups: [],
  },
};

describe('signing keys in the store', () => {
  it('moves the state file’s keys in on the first start, kids kept, the current one signing', async () => {
    const store = await fresh();
    const previous = await newSigningKey(T0 - 120_000);
    const current = await newSigningKey(T0 - 60_000);
    const legacy = {
      current: seal(JSON.stringify(current), masterKey),
      previous: seal(JSON.stringify(previous), masterKey),
    };
    const keys = await loadSigningKeys(store, masterKey, { legacy }, T0);
    assert.deepEqual(
      keys.map((k) => [k.generation, k.kid]),
      [
        [1, previous.kid],
        [2, current.kid],
      ],
    );
    const followed = await startIdentitySigner({
      store,
      masterKey,
      legacy: null,
      origin: () => 'https://gh.example',
      prefix: '/auth',
      log: () => {},
      now: () => T0,
    });
    followed.close();
    assert.equal(decodeProtectedHeader(await followed.signer.assertionOf(ada)).kid, current.kid);
    assert.deepEqual(
      followed.signer.jwks().keys.map((k) => k.kid),
      [previous.kid, current.kid],
      'the previous key keeps its overlap',
    );
    assert.equal((await loadSigningKeys(store, masterKey, { legacy: null }, T0)).length, 2, 'read, not made again');
  });

  it('refuses keys sealed with another master key instead of making its own', async () => {
    const store = await fresh();
    await loadSigningKeys(store, masterKey, {}, T0);
    await assert.rejects(loadSigningKeys(store, randomBytes(32), {}, T0), /same GATEHOUSE_MASTER_KEY/);
    assert.equal((await store.listSigningKeys()).length, 1);
  });

  it('rotates to the next generation signing a minute later, and deletes keys retired for good', async () => {
    const store = await fresh();
    const [first] = await loadSigningKeys(store, masterKey, {}, T0);
    const second = await rotateSigningKey(store, masterKey, null, T0 + 1000);
    assert.equal(second.generation, 2);
    assert.equal(second.signsFrom, T0 + 1000 + SIGNS_AFTER_MS);
    const quick = await rotateSigningKey(store, masterKey, null, T0 + 2000);
    assert.ok(quick.signsFrom > second.signsFrom);
    const late = quick.signsFrom + KEPT_AFTER_LAST_USE_MS;
    const fourth = await rotateSigningKey(store, masterKey, null, late);
    assert.deepEqual(
      (await store.listSigningKeys()).map((r) => r.generation),
      [3, 4],
      `${first!.kid} and the second retired and deleted`,
    );
    assert.equal(fourth.generation, 4);
  });

  it('publishes a rotation at the next look, and gives an empty store the keys it signs with', async () => {
    let store = await fresh();
    // The live store follows a switch of database like this.
    const proxy = new Proxy({} as Store, { get: (_, k) => Reflect.get(store, k, store) });
    const followed = await startIdentitySigner({
      store: proxy,
      masterKey,
      legacy: null,
      origin: () => 'https://gh.example',
      prefix: '/auth',
      log: () => {},
      now: () => T0 + 5000,
    });
    followed.close();
    const next = await rotateSigningKey(store, masterKey, null, T0 + 1000);
    assert.equal(followed.signer.jwks().keys.length, 1);
    await followed.refresh();
    assert.deepEqual(
      followed.signer
        .jwks()
        .keys.map((k) => k.kid)
        .at(-1),
      next.kid,
    );
    store = await fresh();
    await followed.refresh();
    assert.deepEqual(
      (await store.listSigningKeys()).map((r) => r.kid).at(-1),
      next.kid,
      'the new database got this server’s keys',
    );
  });
});

describe('replica heartbeat', () => {
  it('names another replica with another public URL once, and none with the same', async () => {
    const store = await fresh();
    const logs: string[][] = [[], [], []];
    const t = { now: T0 };
    const beats = ['https://gh.example', 'https://gh.example', 'http://10.0.0.7:4180'].map((url, i) =>
      startReplicaHeartbeat({
        store,
        publicUrl: () => url,
        log: (l) => logs[i]!.push(l),
        now: () => t.now,
        everyMs: 3_600_000,
      }),
    );
    for (const b of beats) await b.beat();
    for (const b of beats) await b.beat();
    for (const b of beats) b.close();
    assert.equal(logs[0]!.length, 1, logs[0]!.join('\n'));
    assert.match(
      logs[0]![0]!,
      /another replica .* serves as http:\/\/10\.0\.0\.7:4180, this one as https:\/\/gh\.example/,
    );
    assert.equal(logs[1]!.length, 1);
    assert.equal(logs[2]!.length, 1, 'two replicas with the same other URL: one line');
    t.now += 3 * 60_000;
    const late = startReplicaHeartbeat({
      store,
      publicUrl: () => 'https://elsewhere.example',
      log: (l) => logs[2]!.push(l),
      now: () => t.now,
      everyMs: 3_600_000,
    });
    await late.beat();
    late.close();
    assert.equal(logs[2]!.length, 1, 'replicas not heard from in three beats are not named');
  });
});
