// The assertion signing keys, sealed in the state file (architecture.md#access) so every replica signs with the same
// key and apps verify against one JWKS. `gatehouse auth rotate-signing-key` makes a new current key and
// keeps the old one as `previous`, still published for the overlap.
import { seal, unseal } from '../config/secrets.js';
import { updateState, type Scope, type StoredState } from '../config/state.js';
import { newSigningKey, type StoredSigningKey } from './assertion.js';

export interface SigningKeys {
  current: StoredSigningKey;
  previous: StoredSigningKey | null;
}

export function signingKeysOf(state: StoredState, masterKey: Buffer): SigningKeys | null {
  if (!state.signing) return null;
  const open = (sealed: string) => JSON.parse(unseal(sealed, masterKey)) as StoredSigningKey;
  return { current: open(state.signing.current), previous: state.signing.previous ? open(state.signing.previous) : null };
}

/** Makes the first key if there is none; decided again under the state file's lock. */
export async function ensureSigningKey(scope: Scope, masterKey: Buffer, now = Date.now()): Promise<StoredState> {
  const key = await newSigningKey(now);
  return updateState(scope, (current) => {
    if (!current || current.signing) return current!;
    return { ...current, signing: { current: seal(JSON.stringify(key), masterKey), previous: null } };
  });
}

/** A new current key; the old one stays published (as previous) for the overlap. */
export async function rotateSigningKey(scope: Scope, masterKey: Buffer, now = Date.now()): Promise<StoredSigningKey> {
  const key = await newSigningKey(now);
  updateState(scope, (current) => {
    if (!current) throw new Error('no state file: run `gatehouse auth enable` first');
    return { ...current, signing: { current: seal(JSON.stringify(key), masterKey), previous: current.signing?.current ?? null } };
  });
  return key;
}
