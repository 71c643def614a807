// Who must show a second factor, and what a session's `amr` says (architecture.md#mfa). Pure functions
// of a principal and the policy, cheap enough for the gate: no store is asked.
import type { MfaPolicy } from '../config/choices.js';

/** How a session made without a recorded `amr` was made, from its provider (RFC 8176 values). */
export function amrOf(provider: string): string[] {
  if (provider === 'password' || provider === 'passphrase') return ['pwd'];
  if (provider === 'api-key') return ['key'];
  if (provider === 'oauth') return ['oauth'];
  // A passkey is a hardware- or platform-bound key with the person's own verification on the device.
  if (provider === 'passkey') return ['hwk'];
  // A code shown on one device and typed on another, or a link the operator's CLI printed: a second
  // channel, but not a second factor of this person (RFC 8176 `mca`).
  if (provider === 'pairing' || provider === 'handoff') return ['mca'];
  return ['fed'];
}

/** `otp` (authenticator app or recovery code), `hwk`/`swk` (passkeys): a second factor was shown. */
const SECOND_FACTORS = new Set(['otp', 'hwk', 'swk', 'mfa']);

export function hasSecondFactor(amr: readonly string[] | undefined): boolean {
  return amr !== undefined && amr.some((m) => SECOND_FACTORS.has(m));
}

/** Sessions a person made by signing in; keys, tokens and the shared passphrase have no factor to enrol. */
const NOT_A_PERSON = new Set(['api-key', 'oauth', 'passphrase']);

/**
 * The policy asks this signed-in person for a second factor and the session was made without one: they
 * are taken to enrolment (or to the second step, when they enrolled elsewhere) before anything else.
 */
export function mustEnrol(policy: MfaPolicy, p: { role: string; provider: string; amr?: readonly string[] }): boolean {
  if (policy === 'optional' || NOT_A_PERSON.has(p.provider)) return false;
  if (policy === 'admins' && p.role !== 'admin') return false;
  return !hasSecondFactor(p.amr);
}
