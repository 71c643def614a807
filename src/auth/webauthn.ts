// Passkey ceremonies (WebAuthn, through @simplewebauthn/server): who the relying party is, the pending
// challenge (both in webauthn-challenge.ts), and checking what an authenticator signed. Routes are in
// passkeys.ts; this file knows no URLs, so the two-step sign-in can call verifyPasskeyForUser() from its
// own route.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

// The library costs ~25 MiB of memory once loaded: only a deployment whose users use passkeys pays it.
const webauthn = () => import('@simplewebauthn/server');
import type { AuthContext } from './context.js';
import { safeEqual } from '../security/tokens.js';
import type { Passkey, User } from '../store/types.js';
import { beginChallenge, CHALLENGE_TTL_MS, relyingParty, takeChallenge } from './webauthn-challenge.js';

// Kept importable from here: the routes and tests know the ceremonies by this module.
export { CHALLENGE_TTL_MS, relyingParty, type RelyingParty } from './webauthn-challenge.js';

export const PASSKEY_NAME_MAX = 64;

/** The browser half of @simplewebauthn, as its package ships it (a UMD bundle setting
 *  SimpleWebAuthnBrowser). */
export const WEBAUTHN_BROWSER_BUNDLE = join(
  dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
  '../dist/bundle/index.umd.min.js',
);

/** The library base64url-encodes a challenge given as text; given the bytes, it sends our string as is. */
const bytesOf = (challenge: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(challenge, 'base64url'));

/** The WebAuthn user handle: the user's opaque id, which is no personal data. */
const userHandle = (userId: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(userId, 'utf8'));

/**
 * Every passkey ceremony asks the authenticator to verify the person (PIN or biometric: the UV flag), and
 * an answer without it is refused — when adding a passkey, signing in with it alone, and as the second
 * step after a password (architecture.md#passkeys). A passkey without verification is only "someone
 * touched this key": signing in with it alone would be one factor recorded as two (`hwk`), and as a
 * second step it would make a passkey that counts in one place and not in another. One rule instead:
 * a passkey always proves possession and the person, so `hwk` always means both. Browsers ask a key
 * without a PIN to set one when 'required' is asked for.
 */
const USER_VERIFICATION = 'required';

export async function registrationOptions(c: AuthContext, user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingParty(c);
  const existing = await c.var.deps.store.listPasskeys(user.id);
  return (await webauthn()).generateRegistrationOptions({
    rpName: c.var.deps.appName,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name,
    userID: userHandle(user.id),
    challenge: bytesOf(await beginChallenge(c, 'passkey-register', user.id)),
    timeout: CHALLENGE_TTL_MS,
    attestationType: 'none',
    // The same authenticator twice would be one passkey under two names.
    excludeCredentials: existing.map((k) => ({ id: k.id, transports: k.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: USER_VERIFICATION },
  });
}

export type RegistrationOutcome =
  { ok: true; passkey: Passkey } | { ok: false; reason: 'challenge' | 'invalid' | 'duplicate' };

/** Checks a new credential against this browser's registration challenge for `user` and stores it as
 *  `name`. */
export async function registerPasskey(
  c: AuthContext,
  user: User,
  response: unknown,
  name: string,
): Promise<RegistrationOutcome> {
  const { store, now } = c.var.deps;
  const pending = await takeChallenge(c, 'passkey-register');
  if (!pending || pending.userId !== user.id) return { ok: false, reason: 'challenge' };
  if (!isCredentialJson(response)) return { ok: false, reason: 'invalid' };
  const rp = relyingParty(c);
  let info;
  try {
    const result = await (
      await webauthn()
    ).verifyRegistrationResponse({
      response: response as unknown as RegistrationResponseJSON,
      expectedChallenge: pending.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true, // see USER_VERIFICATION
    });
    if (!result.verified) return { ok: false, reason: 'invalid' };
    info = result.registrationInfo;
  } catch {
    // Malformed or mismatched: the library says which, the client need not know.
    return { ok: false, reason: 'invalid' };
  }
  const cred = info.credential;
  const passkey: Passkey = {
    id: cred.id,
    userId: user.id,
    publicKey: Buffer.from(cred.publicKey).toString('base64url'),
    counter: cred.counter,
    transports: (cred.transports ?? []).filter((t) => /^[a-z-]{1,20}$/.test(t)).slice(0, 8),
    name,
    createdAt: new Date(now()),
    lastUsedAt: null,
  };
  if (passkey.id.length > 1364) return { ok: false, reason: 'invalid' };
  try {
    await store.createPasskey(passkey);
  } catch (err) {
    if ((err as { code?: string }).code === 'DUPLICATE') return { ok: false, reason: 'duplicate' };
    throw err;
  }
  return { ok: true, passkey };
}

/**
 * Options for signing in with a passkey. With no user: any discoverable passkey of this site (the
 * authenticator says whose it is). With a user (the two-step sign-in): only that user's passkeys, and
 * the challenge is bound to that user.
 */
export async function authenticationOptions(
  c: AuthContext,
  user: User | null = null,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allow = user
    ? (await c.var.deps.store.listPasskeys(user.id)).map((k) => ({ id: k.id, transports: k.transports }))
    : undefined;
  return (await webauthn()).generateAuthenticationOptions({
    rpID: relyingParty(c).id,
    challenge: bytesOf(await beginChallenge(c, 'passkey-sign-in', user?.id ?? null)),
    timeout: CHALLENGE_TTL_MS,
    userVerification: USER_VERIFICATION,
    allowCredentials: allow,
  });
}

/** `unverified`: a right signature, but the authenticator did not verify the person (no UV flag). */
/** What a person is told when their authenticator signed without asking for their PIN or biometric. */
export const UNVERIFIED =
  'Your device did not check it is you (no PIN, fingerprint or face). ' + 'Set a PIN on it, or sign in another way.';

export type AssertionFailure =
  'challenge' | 'invalid' | 'unverified' | 'unknown-passkey' | 'other-user' | 'replayed' | 'locked' | 'disabled';

export type AssertionOutcome =
  { ok: true; user: User; passkey: Passkey } | { ok: false; reason: AssertionFailure; user: User | null };

/**
 * Checks a passkey assertion against this browser's pending sign-in challenge. `forUser` null: a
 * discoverable sign-in (the challenge must have been issued to nobody). `forUser` set: the second step
 * of a two-step sign-in (the challenge must have been issued to that user, and the passkey be theirs).
 *
 * Failures for a known user count towards that user's lockout, like wrong passwords; a locked account
 * is refused before anything is checked. Nothing here starts a session or writes an audit line: the
 * caller does, with what it knows (first factor or second).
 */
export async function verifyAssertion(
  c: AuthContext,
  response: unknown,
  forUser: User | null,
): Promise<AssertionOutcome> {
  const { store, lockout, now } = c.var.deps;
  const pending = await takeChallenge(c, 'passkey-sign-in');
  if (!pending || pending.userId !== (forUser?.id ?? null)) return { ok: false, reason: 'challenge', user: forUser };
  if (!isCredentialJson(response)) return { ok: false, reason: 'invalid', user: forUser };
  const passkey = await store.findPasskey(response.id);
  if (!passkey) return { ok: false, reason: 'unknown-passkey', user: forUser };
  if (forUser && passkey.userId !== forUser.id) return { ok: false, reason: 'other-user', user: forUser };
  const user = forUser ?? (await store.findUserById(passkey.userId));
  if (!user) return { ok: false, reason: 'unknown-passkey', user: null };
  const attempt = await lockout.begin(user.email);
  if (!attempt.allowed) return { ok: false, reason: 'locked', user };
  const verdict = await checkSignature(c, response, passkey, pending.challenge, user.id);
  // Refused before the counter moves: nothing about the passkey changes for an answer that does not count.
  if (verdict.ok && !verdict.userVerified) {
    await attempt.failed();
    return { ok: false, reason: 'unverified', user };
  }
  if (verdict.ok && !(await store.usePasskey(passkey.id, verdict.counter, new Date(now())))) verdict.ok = false;
  if (!verdict.ok) {
    await attempt.failed();
    return { ok: false, reason: verdict.replayed ? 'replayed' : 'invalid', user };
  }
  await attempt.succeeded();
  // Said only to whoever holds the passkey, like a password sign-in says it after the right password.
  if (user.disabled) return { ok: false, reason: 'disabled', user };
  return { ok: true, user, passkey };
}

/**
 * For the two-step sign-in (architecture.md#passkeys): checks that `response` is a passkey of `user`
 * signing this browser's pending challenge, which authenticationOptions(c, user) issued. Counts
 * towards the user's lockout like a wrong code.
 */
export function verifyPasskeyForUser(c: AuthContext, user: User, response: unknown): Promise<AssertionOutcome> {
  return verifyAssertion(c, response, user);
}

type SignatureVerdict = { ok: boolean; counter: number; userVerified: boolean; replayed: boolean };

async function checkSignature(
  c: AuthContext,
  response: CredentialJson,
  passkey: Passkey,
  challenge: string,
  userId: string,
): Promise<SignatureVerdict> {
  const failed = { ok: false, counter: 0, userVerified: false, replayed: false };
  // A discoverable credential names its user: it must be the one the passkey is stored for.
  const handle = (response.response as { userHandle?: unknown }).userHandle;
  if (
    handle !== undefined &&
    handle !== null &&
    (typeof handle !== 'string' || !safeEqual(handle, Buffer.from(userId, 'utf8').toString('base64url')))
  )
    return failed;
  const rp = relyingParty(c);
  try {
    const result = await (
      await webauthn()
    ).verifyAuthenticationResponse({
      response: response as unknown as AuthenticationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: passkey.id,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: false, // checked by the caller, which says 'unverified' rather than 'invalid'
    });
    const info = result.authenticationInfo;
    return { ok: result.verified, counter: info.newCounter, userVerified: info.userVerified, replayed: false };
  } catch (err) {
    // The library refuses a counter that did not move forward with an error of its own.
    return { ...failed, replayed: /counter/i.test((err as Error).message ?? '') };
  }
}

interface CredentialJson {
  id: string;
  rawId: string;
  type: string;
  response: Record<string, unknown>;
}

/** The outline of a credential as the browser library sends it; the library checks the rest. */
function isCredentialJson(v: unknown): v is CredentialJson {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.id === 'string' &&
    /^[A-Za-z0-9_-]{1,1364}$/.test(o.id) &&
    o.rawId === o.id &&
    o.type === 'public-key' &&
    typeof o.response === 'object' &&
    o.response !== null &&
    !Array.isArray(o.response)
  );
}

/** A passkey's name as typed, tidied: trimmed, control characters gone, at most PASSKEY_NAME_MAX
 *  characters. */
export function passkeyName(raw: unknown, fallback: string): string {
  // eslint-disable-next-line no-control-regex
  const name = (typeof raw === 'string' ? raw : '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...(name || fallback)].slice(0, PASSKEY_NAME_MAX).join('');
}
