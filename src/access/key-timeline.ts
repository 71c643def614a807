// When each assertion signing key is published and when it signs (architecture.md#access), written once for
// the signer, the JWKS and the pruning of old keys. Pure: keys in generation order, a time in, an answer out.
//
// A rotated key is published at once but signs only SIGNS_AFTER_MS later: verifiers refetch a JWKS for an
// unknown `kid` at most every 30 s (jose's createRemoteJWKSet cooldown, PyJWT's PyJWKClient), so a key that
// signs at once is refused for up to half a minute by every app that fetched the keys just before. A key's
// last use is the moment the next one starts signing; it stays published KEPT_AFTER_LAST_USE_MS after that,
// far longer than the assertions it signed live (60 s), for verifiers that cache a JWKS for minutes.

export const SIGNS_AFTER_MS = 60_000;
export const KEPT_AFTER_LAST_USE_MS = 10 * 60_000;

export interface Timed {
  /** Epoch ms from which the key signs (for the first key, its birth). */
  signsFrom: number;
}

/** The key that signs at `t`: the last one whose time has come (the first one if none has: a clock behind). */
export function signingAt<K extends Timed>(keys: readonly K[], t: number): K {
  let signing = keys[0]!;
  for (const k of keys) if (k.signsFrom <= t) signing = k;
  return signing;
}

/** The keys published at `t`: every key not yet retired (a key yet to sign is published already). */
export function publishedAt<K extends Timed>(keys: readonly K[], t: number): K[] {
  return keys.filter((_, i) => !isRetired(keys, i, t));
}

/** The keys retired at `t`: their last use is more than KEPT_AFTER_LAST_USE_MS ago. Safe to delete. */
export function retiredAt<K extends Timed>(keys: readonly K[], t: number): K[] {
  return keys.filter((_, i) => isRetired(keys, i, t));
}

function isRetired(keys: readonly Timed[], i: number, t: number): boolean {
  const lastUse = keys[i + 1]?.signsFrom;
  return lastUse !== undefined && lastUse <= t && t - lastUse >= KEPT_AFTER_LAST_USE_MS;
}

/** When a key made at `now` after `last` starts signing: a minute on, and never before an earlier key. */
export function signsFromFor(last: Timed | undefined, now: number): number {
  return last ? Math.max(now + SIGNS_AFTER_MS, last.signsFrom + 1) : now;
}
