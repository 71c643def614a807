// A user's second factors (architecture.md#mfa) over the store: enrolment of an authenticator app,
// checking a code (TOTP once per time-step, or a recovery code once), recovery codes, removal. The
// TOTP secret is sealed with the master key at rest (config/secrets.ts) and opened only to check a code.
import { seal, unseal } from '../config/secrets.js';
import { isStoreError, type Store, type User } from '../store/types.js';
import { newRecoveryCodes, newTotpSecret, readCode, recoveryHash, totpStep, totpUri } from './totp.js';

/** An enrolment in progress stays on one secret for this long (a reload does not change the QR code). */
const ENROLMENT_REUSE_MS = 15 * 60_000;

export interface Enrolment {
  secret: string; // base32, shown as text
  uri: string;
  /** The QR code as SVG markup made by `qrcode` from the URI alone: no script, no style element. */
  qr: string;
}

export interface FactorStatus {
  totp: { since: Date } | null;
  recoveryLeft: number;
}

/** How a code was accepted: an authenticator app's code, or a recovery code (now used up). */
export type CodeKind = 'totp' | 'recovery';

export interface MfaService {
  /** The user has a factor that a sign-in must be finished with. */
  hasFactor(userId: string): Promise<boolean>;
  status(userId: string): Promise<FactorStatus>;
  /** A secret to scan; null when the user already has an app (remove it first). */
  startEnrolment(user: User, issuer: string): Promise<Enrolment | null>;
  /** A right code turns the app on: the new recovery codes, to show once. null: wrong code or nothing to confirm. */
  confirmEnrolment(userId: string, code: string): Promise<string[] | null>;
  /** Checks a code from the second step; a right one is used up. */
  verify(userId: string, code: string): Promise<CodeKind | null>;
  regenerateRecoveryCodes(userId: string): Promise<string[]>;
  /** Removes the authenticator app and its recovery codes (the user's own choice); true when there was one. */
  removeApp(userId: string): Promise<boolean>;
  /** An operator's reset: every factor, passkeys included; true when there was one. */
  removeAll(userId: string): Promise<boolean>;
}

export function createMfaService(store: Store, masterKey: Buffer, now: () => number): MfaService {
  const deps: FactorDeps = { store, masterKey, now };
  return {
    // A passkey is a factor too: after a password it is the second step (auth/second-step.ts).
    hasFactor: async (userId) =>
      (await store.findTotp(userId))?.confirmed === true || (await store.listPasskeys(userId)).length > 0,
    async status(userId) {
      const [totp, recoveryLeft] = await Promise.all([store.findTotp(userId), store.countRecoveryCodes(userId)]);
      return { totp: totp?.confirmed ? { since: totp.createdAt } : null, recoveryLeft };
    },
    startEnrolment: (user, issuer) => startEnrolment(deps, user, issuer),
    confirmEnrolment: (userId, code) => confirmEnrolment(deps, userId, code),
    verify: (userId, code) => verifyCode(deps, userId, code),
    regenerateRecoveryCodes: (userId) => replaceRecoveryCodes(deps, userId),
    removeApp: (userId) => removeApp(store, userId),
    removeAll: (userId) => resetFactors(store, userId),
  };
}

interface FactorDeps {
  store: Store;
  masterKey: Buffer;
  now: () => number;
}

async function replaceRecoveryCodes({ store, now }: FactorDeps, userId: string): Promise<string[]> {
  const codes = newRecoveryCodes();
  await store.replaceRecoveryCodes(
    userId,
    codes.map((c) => recoveryHash(userId, c)),
    new Date(now()),
  );
  return codes;
}

async function enrolment(secret: string, issuer: string, account: string): Promise<Enrolment> {
  const uri = totpUri(secret, issuer, account);
  return {
    secret,
    uri,
    qr: await (await import('qrcode')).toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
  };
}

async function startEnrolment(deps: FactorDeps, user: User, issuer: string): Promise<Enrolment | null> {
  const { store, masterKey, now } = deps;
  const current = await store.findTotp(user.id);
  if (current?.confirmed) return null;
  if (current && now() - current.createdAt.getTime() < ENROLMENT_REUSE_MS)
    return enrolment(unseal(current.secret, masterKey), issuer, user.email);
  const secret = newTotpSecret();
  try {
    await store.saveTotp({
      userId: user.id,
      secret: seal(secret, masterKey),
      confirmed: false,
      lastStep: null,
      createdAt: new Date(now()),
    });
  } catch (err) {
    if (isStoreError(err, 'DUPLICATE')) return null; // confirmed in another tab meanwhile
    throw err;
  }
  return enrolment(secret, issuer, user.email);
}

async function confirmEnrolment(deps: FactorDeps, userId: string, code: string): Promise<string[] | null> {
  const { store, masterKey, now } = deps;
  const f = await store.findTotp(userId);
  const typed = readCode(code);
  if (!f || f.confirmed || typed?.kind !== 'totp') return null;
  const step = totpStep(unseal(f.secret, masterKey), typed.code, now());
  if (step === null) return null;
  // One store call: the app turns on together with its recovery codes or not at all, so a crash
  // never leaves a factor without codes; of two tabs confirming at once, one wins.
  const codes = newRecoveryCodes();
  const hashes = codes.map((c) => recoveryHash(userId, c));
  return (await store.enableTotp(userId, step, hashes, new Date(now()))) ? codes : null;
}

async function verifyCode(deps: FactorDeps, userId: string, code: string): Promise<CodeKind | null> {
  const { store, masterKey, now } = deps;
  const typed = readCode(code);
  if (!typed) return null;
  if (typed.kind === 'recovery')
    return (await store.consumeRecoveryCode(userId, recoveryHash(userId, typed.code))) ? 'recovery' : null;
  const f = await store.findTotp(userId);
  if (!f?.confirmed) return null;
  const step = totpStep(unseal(f.secret, masterKey), typed.code, now());
  // A right code whose step was already used is refused like a wrong one: no replay.
  return step !== null && (await store.useTotpStep(userId, step)) ? 'totp' : null;
}

async function removeApp(store: Store, userId: string): Promise<boolean> {
  const [had] = await Promise.all([store.deleteTotp(userId), store.deleteRecoveryCodes(userId)]);
  return had;
}

/** An operator's reset (console or `users reset-mfa`) is for a lost device: the app, its recovery codes and
 * every passkey go. */
export async function resetFactors(store: Store, userId: string): Promise<boolean> {
  const passkeys = await store.listPasskeys(userId);
  const [had] = await Promise.all([
    removeApp(store, userId),
    ...passkeys.map((k) => store.deletePasskey(userId, k.id)),
  ]);
  return had || passkeys.length > 0;
}
