// The arithmetic of the second factor (architecture.md#mfa), without I/O: TOTP per RFC 6238 through
// `otpauth` (SHA-1, 6 digits, 30-second steps, one step of drift either way — what every authenticator
// app does), and recovery codes (`xxxxx-xxxxx`, lower-case letters and digits 2–9; 10 characters of
// 34 ≈ 51 bits, stored only as a hash).
import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
const WINDOW = 1;

export const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz23456789';

/** A new shared secret: 160 random bits (RFC 4226 §4 recommends the hash's length), in base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpOf(secretBase32: string, issuer = '', label = ''): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: TOTP_PERIOD_S,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The `otpauth://totp/…` URI authenticator apps read from a QR code. */
export function totpUri(secretBase32: string, issuer: string, account: string): string {
  return totpOf(secretBase32, issuer, account).toString();
}

/** The code of the step containing `atMs` (tests, and nothing else, need to make codes). */
export function totpCode(secretBase32: string, atMs: number): string {
  return totpOf(secretBase32).generate({ timestamp: atMs });
}

/** The time-step a 6-digit code belongs to, within one step of `atMs`; null when it matches none. */
export function totpStep(secretBase32: string, code: string, atMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: atMs, window: WINDOW });
  return delta === null ? null : Math.floor(atMs / 1000 / TOTP_PERIOD_S) + delta;
}

/** What a person typed in the code field: a TOTP, a recovery code (any case, spaces or dash), or neither. */
export type TypedCode = { kind: 'totp'; code: string } | { kind: 'recovery'; code: string } | null;

export function readCode(input: string): TypedCode {
  const compact = input.replace(/[\s-]/g, '').toLowerCase();
  if (/^\d{6}$/.test(compact)) return { kind: 'totp', code: compact };
  if (compact.length === 10 && [...compact].every((ch) => RECOVERY_ALPHABET.includes(ch))) {
    return { kind: 'recovery', code: `${compact.slice(0, 5)}-${compact.slice(5)}` };
  }
  return null;
}

export function newRecoveryCodes(): string[] {
  const one = () => Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return Array.from({ length: RECOVERY_CODES }, () => {
    const c = one();
    return `${c.slice(0, 5)}-${c.slice(5)}`;
  });
}

/** Stored form of a recovery code. The user id is mixed in, so two users' equal codes are two rows. */
export function recoveryHash(userId: string, code: string): string {
  return createHash('sha256').update(`gatehouse recovery\0${userId}\0${code}`).digest('hex');
}
