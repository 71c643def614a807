// Which local account a provider sign-in lands in: the one linked to (issuer, subject); else the account
// with the same address, linked only when both sides proved that address; else a new account, as far as
// the sign-up policy allows (architecture.md#accounts).
import type { AuthContext } from './context.js';
import { audit } from './audit.js';
import { EMAIL_MESSAGES, isDomainAllowed, parseEmail } from '../accounts/email.js';
import { isStoreError, type User } from '../store/types.js';
import type { ProviderEntry } from '../oidc/providers.js';
import type { Profile } from '../oidc/profile.js';

/** Why no session was started, and with which status the refusal page answers. */
export interface Refusal {
  problem: string;
  status: number;
}

/** Who signed in where: the provider, the issuer it speaks for, what it said, and when. */
export interface Identity {
  p: ProviderEntry;
  issuer: string;
  profile: Profile;
  at: Date;
}

export async function accountFor(c: AuthContext, id: Identity): Promise<User | Refusal> {
  const { store } = c.var.deps;
  const { p, profile } = id;
  const linked = await store.findIdentity(id.issuer, profile.subject);
  if (linked) {
    const user = await store.findUserById(linked.userId);
    if (!user || user.disabled) return { problem: 'This account is disabled.', status: 403 };
    return user;
  }
  if (!profile.email)
    return { problem: `${p.name} did not share an email address, which this app needs.`, status: 403 };
  // The IdP's address may start a new account, so it passes the same checks as one typed at sign-up.
  const parsed = parseEmail(profile.email);
  if (!parsed.ok)
    return {
      problem: `${p.name} shared an email address this app cannot accept. ${EMAIL_MESSAGES[parsed.reason]}`,
      status: 403,
    };
  const existing = await store.findUserByEmail(parsed.email);
  if (existing) return linkExisting(c, id, existing);
  return newAccount(c, id, parsed.email);
}

async function newAccount(c: AuthContext, id: Identity, email: string): Promise<User | Refusal> {
  const { store, settings: source } = c.var.deps;
  const { p, profile } = id;
  const settings = source.current();
  if (settings.signUp === 'invite') return { problem: 'Sign-up is by invitation only.', status: 403 };
  if (settings.signUp === 'domains' && (!profile.emailVerified || !isDomainAllowed(email, settings.allowedDomains))) {
    return { problem: 'Sign-up is limited to approved email domains.', status: 403 };
  }
  let user: User;
  try {
    const name = (profile.name ?? email.split('@')[0] ?? email).slice(0, 100);
    user = await store.createUser(
      { email, name, role: 'member', passwordHash: null, emailVerified: profile.emailVerified },
      id.at,
    );
  } catch (err) {
    // A concurrent sign-up of the same email won.
    if (isStoreError(err, 'DUPLICATE')) return { problem: 'Please try again.', status: 403 };
    throw err;
  }
  await linkIdentity(c, id, user.id);
  audit(c, 'sign-up', { userId: user.id, email, detail: p.name });
  return user;
}

/** An IdP account whose email matches a local account: linked only when BOTH sides proved the address.
 *  The IdP's word alone is not enough: anyone can sign up here with an address they do not own (no
 *  mail bound means it is never confirmed), and linking would hand the real owner's IdP sign-in to
 *  that squatter's account, whose password and sessions keep working. */
async function linkExisting(c: AuthContext, id: Identity, existing: User): Promise<User | Refusal> {
  const { p, profile } = id;
  const refuse = (reason: string, refusal: Refusal): Refusal => {
    audit(c, 'provider.link-refused', { userId: existing.id, email: existing.email, detail: `${p.name}: ${reason}` });
    return refusal;
  };
  // Linking on an unverified IdP email would let anyone who types your address at the IdP take over.
  if (!profile.emailVerified) {
    return refuse('provider did not verify the email', {
      problem:
        `An account with ${existing.email} exists. Sign in with your password; ${p.name} ` +
        'has not verified this address.',
      status: 403,
    });
  }
  if (existing.disabled) return { problem: 'This account is disabled.', status: 403 };
  if (!existing.emailVerified) {
    return refuse('local account email not confirmed', {
      problem:
        `An account with ${existing.email} already exists here, and its address has not ` +
        `been confirmed, so it cannot be joined to your ${p.name} sign-in. If the ` +
        'account is yours, sign in with your password and confirm your email address (or ' +
        `reset your password), then use ${p.name} again.`,
      status: 409,
    });
  }
  await linkIdentity(c, id, existing.id);
  return existing;
}

async function linkIdentity(c: AuthContext, { p, issuer, profile, at }: Identity, userId: string): Promise<void> {
  try {
    await c.var.deps.store.linkIdentity({
      issuer,
      subject: profile.subject,
      provider: p.name,
      userId,
      email: profile.email,
      createdAt: at,
    });
  } catch (err) {
    if (!isStoreError(err, 'DUPLICATE')) throw err; // linked concurrently: fine
  }
}
