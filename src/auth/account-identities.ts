// Account › Linked accounts (docs/architecture.md#devices): the social identities that sign in to this account, joining
// another one (the sign-in flow of auth/social-routes.ts in link mode, which ends in linkToAccount), and
// parting one while another way in remains — a password, another identity or a passkey.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { field, formOf } from './form.js';
import { csrf } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage } from './pages.js';
import { accountPage } from './account-page.js';
import { labelOf } from '../oidc/providers.js';
import { isStoreError } from '../store/types.js';
import type { Identity } from './social-accounts.js';

export const LAST_WAY_IN =
  'This is the only way you can sign in, so it stays: set a password (Forgot ' +
  'password on the sign-in page) or add a passkey first.';

export function mountLinkedAccounts(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  app.post(
    `${P}/account/identities/unlink`,
    requireSession({ redirect: 303 }),
    csrf({ refuse: formExpiredPage }),
    async (c) => {
      const s = signedIn(c);
      const form = await formOf(c);
      const user = await deps.store.findUserById(s.principal.userId);
      if (!user) return c.redirect(`${P}/sign-in`, 303);
      const identities = await deps.store.listIdentities(user.id);
      const target = identities.find((i) => i.issuer === field(form.issuer) && i.subject === field(form.subject));
      if (!target) return accountPage(c, s, { notice: 'That sign-in was not linked to your account.' }, 404);
      const others =
        identities.length - 1 + (await deps.store.listPasskeys(user.id)).length + (user.passwordHash ? 1 : 0);
      if (others < 1) return accountPage(c, s, { errors: { identities: LAST_WAY_IN } }, 409);
      await deps.store.unlinkIdentity(user.id, target.issuer, target.subject);
      audit(c, 'identity.unlinked', { userId: user.id, email: target.email, detail: target.provider });
      return accountPage(c, s, { notice: `${target.provider} no longer signs in to your account.` });
    },
  );
  app.get(`${P}/account/identities/linked`, requireSession({ redirect: 302, returnTo: `${P}/account` }), (c) =>
    accountPage(c, signedIn(c), { notice: 'Linked: you can now sign in with it too.' }),
  );
}

/** The end of the link-mode sign-in flow: join this IdP account to the signed-in user who began it. */
export async function linkToAccount(c: AuthContext, userId: string, id: Identity): Promise<Response> {
  const { store, prefix: P } = c.var.deps;
  const s = c.get('session');
  // The browser must still be signed in as the user who pressed "Link".
  if (!s || s.principal.userId !== userId)
    return errorPage(
      c,
      403,
      'Not linked',
      'You are no longer signed in as the account that asked to link. Sign in and try again.',
    );
  const taken = () => {
    audit(c, 'provider.link-refused', { userId, detail: `${id.p.name}: linked to another account` });
    return errorPage(
      c,
      409,
      'Not linked',
      `This ${labelOf(id.p)} account already signs in to another account here, so it ` +
        'cannot be linked to yours. Nothing was changed.',
    );
  };
  const existing = await store.findIdentity(id.issuer, id.profile.subject);
  if (existing && existing.userId !== userId) return taken();
  if (!existing) {
    try {
      await store.linkIdentity({
        issuer: id.issuer,
        subject: id.profile.subject,
        provider: id.p.name,
        userId,
        email: id.profile.email,
        createdAt: id.at,
      });
    } catch (err) {
      if (!isStoreError(err, 'DUPLICATE')) throw err;
      return taken(); // linked elsewhere between the look-up and the insert
    }
    audit(c, 'identity.linked', { userId, email: id.profile.email, detail: id.p.name });
  }
  return c.redirect(`${P}/account/identities/linked`, 303);
}
