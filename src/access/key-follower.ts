// The running server's identity signer, kept in step with the keys in the store (architecture.md#access): a
// rotation made on any replica, or by the CLI, is published here at the next look. One SELECT of a table of
// two or three rows every few seconds, on a timer: never a store read on a request's path. A look that finds
// the store empty (the server moved to another database) gives it the keys this server signs with.
import type { Store } from '../store/types.js';
import { createIdentitySigner, type IdentitySigner } from './identity-signer.js';
import { fingerprintOf, loadSigningKeys, openSigningKeys, type LegacyKeys, type SigningKeys } from './signing-keys.js';

/** How often the store is asked. Well under the 60 s before a rotated key signs, less a verifier's 30 s cooldown:
 *  every replica publishes the new key before any app can meet it. */
export const FOLLOW_EVERY_MS = 5_000;

export interface FollowedSigner {
  signer: IdentitySigner;
  /** Looks at the store now (the timer does so every FOLLOW_EVERY_MS). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export interface FollowerOptions {
  store: Store;
  masterKey: Buffer;
  /** The state file's keys, moved into a store that has none (deployments from before schema version 9). */
  legacy: LegacyKeys | null;
  origin: () => string;
  prefix: string;
  log: (line: string) => void;
  now: () => number;
  everyMs?: number;
}

export async function startIdentitySigner(opts: FollowerOptions): Promise<FollowedSigner> {
  const { store, masterKey } = opts;
  let keys: SigningKeys = await loadSigningKeys(store, masterKey, { legacy: opts.legacy }, opts.now());
  let seen = fingerprintOf(keys);
  const signer = await createIdentitySigner({ keys, origin: opts.origin, prefix: opts.prefix, now: opts.now });
  // The first signature pays for key import and JIT: pay it before listening, not on a visitor.
  await signer.assertionOf({
    sessionId: 'warm-up',
    principal: {
      userId: 'warm-up',
      email: 'warm-up@localhost',
      name: 'warm-up',
      provider: 'password',
      role: 'member',
      emailVerified: false,
      groups: [],
    },
  });

  let failing = false;
  let inFlight: Promise<void> | null = null;
  const look = async () => {
    const records = await store.listSigningKeys();
    const print = fingerprintOf(records);
    if (print === seen) return;
    const next = records.length
      ? openSigningKeys(records, masterKey)
      : await loadSigningKeys(store, masterKey, { known: keys }, opts.now());
    await signer.use(next);
    keys = next;
    seen = fingerprintOf(next);
  };
  const refresh = () =>
    (inFlight ??= look()
      .then(
        () => {
          if (failing) opts.log('assertion: the signing keys are followed again');
          failing = false;
        },
        (err: Error) => {
          if (!failing)
            opts.log(`assertion: kept the signing keys in use, the store's could not be read: ${err.message}`);
          failing = true;
        },
      )
      .finally(() => (inFlight = null)));
  const timer = setInterval(() => void refresh(), opts.everyMs ?? FOLLOW_EVERY_MS);
  timer.unref();
  return { signer, refresh, close: async () => clearInterval(timer) };
}
