// The assertion signing keys, in the bound store and sealed with the master key (architecture.md#access), so
// every replica that shares the database signs with the same keys and apps verify against one JWKS, whatever
// else the replicas share. Keys before version 9 lived in the state file: the first start on a store with no
// key moves that file's keys in, kids unchanged, so apps keep verifying across the upgrade.
// `gatehouse auth rotate-signing-key` adds the next generation, which signs only a minute later (key-timeline.ts).
import { seal, unseal } from '../config/secrets.js';
import { updateState, type Scope, type StoredState } from '../config/state.js';
import { isStoreError, type SigningKeyRecord, type Store } from '../store/types.js';
import { newSigningKey, type SigningKey, type StoredSigningKey } from './assertion.js';
import { retiredAt, signsFromFor } from './key-timeline.js';

/** The keys as the signer takes them: generation order, at least one. */
export type SigningKeys = readonly SigningKey[];

/** The state file's keys (before schema version 9), to move into the store. */
export type LegacyKeys = StoredState['signing'];

function open(records: readonly SigningKeyRecord[], masterKey: Buffer): SigningKey[] {
  return records.map((r) => {
    let stored: StoredSigningKey;
    try {
      stored = JSON.parse(unseal(r.sealed, masterKey)) as StoredSigningKey;
    } catch (err) {
      // Fail closed and say why: a replica with another master key must not make keys of its own.
      throw new Error(
        `signing key ${r.kid} in the store does not open with this master key: ` +
          'replicas need the same GATEHOUSE_MASTER_KEY',
        { cause: err },
      );
    }
    return { ...stored, generation: r.generation, signsFrom: r.signsFrom.getTime() };
  });
}

const recordOf = (k: SigningKey, masterKey: Buffer): SigningKeyRecord => ({
  generation: k.generation,
  kid: k.kid,
  sealed: seal(
    JSON.stringify({ kid: k.kid, privateJwk: k.privateJwk, createdAt: k.createdAt } satisfies StoredSigningKey),
    masterKey,
  ),
  createdAt: new Date(k.createdAt),
  signsFrom: new Date(k.signsFrom),
});

/** What an empty store is given: the keys this process already signs with (a switch to another database),
 *  else the state file's, else a new key that signs at once (nobody can have seen another). */
async function seedFor(
  seed: { known?: SigningKeys | null; legacy?: LegacyKeys | null },
  masterKey: Buffer,
  now: number,
): Promise<SigningKey[]> {
  if (seed.known?.length) return [...seed.known];
  const sealed = [seed.legacy?.previous, seed.legacy?.current].filter((s): s is string => typeof s === 'string');
  if (sealed.length) {
    // A key from the state file has signed already: each signs from its birth, the current one last.
    return sealed.map((s, i) => {
      const k = JSON.parse(unseal(s, masterKey)) as StoredSigningKey;
      return { ...k, generation: i + 1, signsFrom: k.createdAt };
    });
  }
  return [{ ...(await newSigningKey(now)), generation: 1, signsFrom: now }];
}

/**
 * The store's keys, opened. A store without any gets its first ones (seedFor); replicas starting together
 * race on generation 1 and the losers read the winner's keys.
 */
export async function loadSigningKeys(
  store: Store,
  masterKey: Buffer,
  seed: { known?: SigningKeys | null; legacy?: LegacyKeys | null },
  now: number,
): Promise<SigningKey[]> {
  let records = await store.listSigningKeys();
  if (!records.length) {
    try {
      for (const k of await seedFor(seed, masterKey, now)) await store.addSigningKey(recordOf(k, masterKey));
    } catch (err) {
      if (!isStoreError(err, 'DUPLICATE')) throw err;
    }
    records = await store.listSigningKeys();
  }
  return open(records, masterKey);
}

/**
 * A new key: published by every replica at its next look at the store (within seconds), signing a minute
 * from now; keys retired for good are deleted. Two rotations at once both succeed, one generation apart.
 */
export async function rotateSigningKey(
  store: Store,
  masterKey: Buffer,
  legacy: LegacyKeys | null,
  now = Date.now(),
): Promise<SigningKey> {
  for (let attempt = 1; ; attempt++) {
    const keys = await loadSigningKeys(store, masterKey, { legacy }, now);
    const last = keys[keys.length - 1];
    const key: SigningKey = {
      ...(await newSigningKey(now)),
      generation: (last?.generation ?? 0) + 1,
      signsFrom: signsFromFor(last, now),
    };
    try {
      await store.addSigningKey(recordOf(key, masterKey));
    } catch (err) {
      if (isStoreError(err, 'DUPLICATE') && attempt < 5) continue; // another rotation took this generation
      throw err;
    }
    for (const old of retiredAt([...keys, key], now)) await store.deleteSigningKey(old.generation);
    return key;
  }
}

/**
 * Once the store holds the keys, the state file's copy goes: a key rotated away (perhaps because it leaked)
 * must never come back as the first key of another, empty database.
 */
export function dropLegacyKeys(scope: Scope): void {
  updateState(scope, (current) => {
    if (!current?.signing) return current!;
    const { signing: _moved, ...rest } = current;
    return rest;
  });
}

/** A cheap fingerprint of the stored keys, to tell whether a look at the store found a change. */
export const fingerprintOf = (records: readonly Pick<SigningKeyRecord, 'generation' | 'kid'>[]): string =>
  records.map((r) => `${r.generation}:${r.kid}`).join(',');

export { open as openSigningKeys };
