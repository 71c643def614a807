// Replicas must share the public URL (architecture.md#access): the assertion's issuer and audience, passkeys'
// relying party and the sign-in redirects are all that one origin, and an app that verifies the assertion
// refuses a replica that signs as another. Each server writes a heartbeat with the URL it serves as into the
// store every 30 s and reads who else beat lately; each other URL is named in the log, once.
import { randomUUID } from 'node:crypto';
import type { Store } from './store/types.js';

export const BEAT_EVERY_MS = 30_000;
/** A replica not heard from in three beats has stopped; a row older than a day is deleted. */
const ALIVE_MS = 3 * BEAT_EVERY_MS;
const FORGET_MS = 86_400_000;

export interface ReplicaHeartbeat {
  /** Beats now (the timer beats every BEAT_EVERY_MS). */
  beat(): Promise<void>;
  close(): Promise<void>;
}

export function startReplicaHeartbeat(opts: {
  store: Store;
  publicUrl: () => string;
  log: (line: string) => void;
  now: () => number;
  everyMs?: number;
}): ReplicaHeartbeat {
  const id = randomUUID();
  const warned = new Set<string>();
  let failing = false;
  const beatOnce = async () => {
    const t = opts.now();
    const mine = opts.publicUrl();
    await opts.store.recordReplica({ id, publicUrl: mine, seenAt: new Date(t) });
    for (const other of await opts.store.listReplicas(new Date(t - ALIVE_MS))) {
      if (other.id === id || other.publicUrl === mine || warned.has(other.publicUrl)) continue;
      warned.add(other.publicUrl);
      opts.log(
        `replicas: WARNING another replica on this database serves as ${other.publicUrl}, this one as ${mine} — ` +
          'replicas must share the public URL (GATEHOUSE_PUBLIC_URL): apps refuse assertions from another issuer',
      );
    }
    await opts.store.deleteReplicasSeenBefore(new Date(t - FORGET_MS));
  };
  const beat = () =>
    beatOnce().then(
      () => void (failing = false),
      (err: Error) => {
        if (!failing) opts.log(`replicas: heartbeat not recorded: ${err.message}`);
        failing = true;
      },
    );
  const timer = setInterval(() => void beat(), opts.everyMs ?? BEAT_EVERY_MS);
  timer.unref();
  void beat();
  return { beat, close: async () => clearInterval(timer) };
}
