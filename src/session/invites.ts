// Invitations: a single-use sign-up link bound to one address, with the role the new account gets.
// One set of rules for `gatehouse users invite` and the admin console: only the SHA-256 of the link's
// secret is stored (a token of kind `invite`, its role in the token's note), and the link itself is
// shown once, to whoever made it.
import { EMAIL_MESSAGES, parseEmail } from '../accounts/email.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import { ROLE_NAME, type OneTimeToken, type Store } from '../store/types.js';

export const DEFAULT_INVITE_TTL_MS = 7 * 24 * 3600_000;

/** A refused invitation: `badInput` when the request itself is wrong (an address, a role, a duration). */
export class InviteError extends Error {
  constructor(
    message: string,
    readonly badInput = true,
  ) {
    super(message);
  }
}

export interface Invite {
  /** The stored hash: names the invitation in listings and revocations, and opens nothing. */
  id: string;
  email: string;
  role: string;
  createdAt: Date;
  expiresAt: Date;
}

/** The role an invitation grants: its note when that is a role name, else member (invitations made before roles). */
export const inviteRole = (t: Pick<OneTimeToken, 'note'>): string =>
  t.note && ROLE_NAME.test(t.note) ? t.note : 'member';

const toInvite = (t: OneTimeToken): Invite => ({
  id: t.hash,
  email: t.email ?? '',
  role: inviteRole(t),
  createdAt: t.createdAt,
  expiresAt: t.expiresAt,
});

/** Stores a new invitation and returns it with its secret (for the link); InviteError with a sentence when refused. */
export async function createInvite(
  store: Store,
  input: { email: string; role?: string; ttlMs?: number },
  now: Date,
): Promise<{ invite: Invite; secret: string }> {
  const parsed = parseEmail(input.email);
  if (!parsed.ok) throw new InviteError(EMAIL_MESSAGES[parsed.reason]);
  const role = input.role || 'member';
  if (!ROLE_NAME.test(role))
    throw new InviteError('A role is admin, member, or a name of a-z, 0-9 and "-" (up to 32, starting with a letter).');
  const ttlMs = input.ttlMs ?? DEFAULT_INVITE_TTL_MS;
  if (!(ttlMs > 0) || ttlMs > 366 * 24 * 3600_000)
    throw new InviteError('An invitation lasts between a minute and a year.');
  if (await store.findUserByEmail(parsed.email))
    throw new InviteError(`${parsed.email} already has an account.`, false);
  const secret = randomToken(32);
  const token: OneTimeToken = {
    hash: sha256Hex(secret),
    kind: 'invite',
    userId: null,
    email: parsed.email,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlMs),
    note: role,
  };
  await store.createToken(token);
  return { invite: toInvite(token), secret };
}

/** The sign-up link of an invitation (`origin` without a trailing slash, `prefix` such as /auth). */
export const inviteLink = (origin: string, prefix: string, secret: string, email: string) =>
  `${origin}${prefix}/sign-up?invite=${secret}&email=${encodeURIComponent(email)}`;

/** Pending invitations (unexpired, unused), oldest first. */
export const listInvites = async (store: Store, now: Date): Promise<Invite[]> =>
  (await store.listTokens('invite', now)).map(toInvite);

export async function findInvite(store: Store, id: string, now: Date): Promise<Invite | null> {
  const t = /^[0-9a-f]{64}$/.test(id) ? await store.findToken(id, 'invite', now) : null;
  return t ? toInvite(t) : null;
}

/** Revokes: the link stops working at once. The revoked invitation, or null when it was already gone. */
export async function revokeInvite(store: Store, id: string, now: Date): Promise<Invite | null> {
  const t = /^[0-9a-f]{64}$/.test(id) ? await store.consumeToken(id, 'invite', now) : null;
  return t ? toInvite(t) : null;
}
