// What every replica on one store shares besides accounts: rate-limit counters, assertion signing keys
// and replica heartbeats.

export interface CounterState {
  count: number; // hits in the current window, including this one
  resetAt: Date; // when the window ends
}

/**
 * An assertion signing key (architecture.md#access): `sealed` is the private JWK sealed with the master key.
 * Keys are ordered by `generation` (1, 2, …); `signsFrom` is when it starts signing (a rotated key is
 * published first and signs only later), and its predecessor's last use.
 */
export interface SigningKeyRecord {
  generation: number;
  kid: string;
  sealed: string;
  createdAt: Date;
  signsFrom: Date;
}

/** A running server's heartbeat: which public URL (the assertion's issuer origin) it serves as. */
export interface ReplicaBeat {
  id: string;
  publicUrl: string;
  seenAt: Date;
}

// Assertion signing keys and replica heartbeats (architecture.md#access), shared by every replica on the store.
export interface SigningKeyStore {
  /** DUPLICATE when the generation (or kid) is taken: of two replicas adding the same generation, one wins. */
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  listSigningKeys(): Promise<SigningKeyRecord[]>; // by generation
  deleteSigningKey(generation: number): Promise<boolean>;
  /** Creates or refreshes this replica's row. */
  recordReplica(beat: ReplicaBeat): Promise<void>;
  listReplicas(seenSince: Date): Promise<ReplicaBeat[]>; // by id
  deleteReplicasSeenBefore(before: Date): Promise<number>;
}

// Fixed-window counters for rate limits and lockout, shared by every replica on the same store.
// hit() increments atomically: N concurrent hits on one key yield counts 1..N.
export interface CounterStore {
  hit(key: string, windowMs: number, now: Date): Promise<CounterState>;
  peekCounter(key: string, now: Date): Promise<CounterState | null>;
  clearCounter(key: string): Promise<void>;
}
