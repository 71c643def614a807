// The contract's second factor: an authenticator app and recovery codes.

/** A user's authenticator app (architecture.md#mfa). `secret` is sealed (config/secrets.ts), never plain. */
export interface TotpFactor {
  userId: string;
  secret: string;
  /** Turned on by a first correct code; an unconfirmed factor asks for nothing at sign-in. */
  confirmed: boolean;
  /** The last accepted 30-second time-step: a code of this step or an earlier one is refused (no replay). */
  lastStep: number | null;
  createdAt: Date;
}

// A user has at most one authenticator app.
export interface MfaStore {
  /** Stores a new, unconfirmed factor in place of any unconfirmed one; DUPLICATE when a confirmed one exists
   *  (it is removed first, on purpose, with deleteTotp). */
  saveTotp(factor: TotpFactor): Promise<void>;
  findTotp(userId: string): Promise<TotpFactor | null>;
  /** Turns an unconfirmed factor on, recording `step` as used; false when there is none to confirm. */
  confirmTotp(userId: string, step: number): Promise<boolean>;
  /** Enrolment written whole: turns an unconfirmed factor on (recording `step` as used) and makes the user's
   *  recovery codes exactly `hashes`, in one transaction — a crash or a cut leaves no factor, or the factor
   *  with every code, never one without the other. false, and nothing written, when there is none to
   *  confirm; of N concurrent callers exactly one wins. */
  enableTotp(userId: string, step: number, hashes: string[], now: Date): Promise<boolean>;
  /** Accepts time-step `step` of the confirmed factor once: atomically true only when it is later than
   *  every step accepted before, so of N concurrent uses of one code exactly one wins. */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  deleteTotp(userId: string): Promise<boolean>;
  /** The user's recovery codes become exactly `hashes` (the old ones die). */
  replaceRecoveryCodes(userId: string, hashes: string[], now: Date): Promise<void>;
  /** Uses up one code: of N concurrent callers exactly one gets true. */
  consumeRecoveryCode(userId: string, hash: string): Promise<boolean>;
  countRecoveryCodes(userId: string): Promise<number>;
  /** The stored hashes, sorted (what `gatehouse migrate-users` carries over). */
  listRecoveryCodes(userId: string): Promise<string[]>;
  deleteRecoveryCodes(userId: string): Promise<number>;
}
