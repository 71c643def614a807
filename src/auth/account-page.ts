// What the account page shows (docs/architecture.md#devices): one page in sections, each filled here from
// the store — the address and whether it can change, the factors, sessions, connected apps and linked
// accounts. The sections' actions live in account.ts, account-email.ts, account-identities.ts and
// mfa-account.ts, which all answer with this page; it imports none of them.
import type { AuthContext, AuthServices } from './context.js';
import { csrfToken } from './middleware/csrf.js';
import { isAdmin } from './middleware/session.js';
import { page } from './pages.js';
import { describeAgent } from './agents.js';
import { reauthUnlessRecent } from './recent-sign-in.js';
import { stamp, type AccountView } from './views.js';
import { connectedApps } from '../oauth/connected.js';
import { labelOf } from '../oidc/providers.js';
import type { ResolvedSession } from '../session/sessions.js';
import type { User } from '../store/types.js';

export const EMAIL_CHANGE_NEEDS_MAIL =
  'Changing your email address needs mail (a link is sent to the new address to prove it ' +
  'is yours), and this server sends none. Ask an administrator to change it.';
/** What a change of address proves who is asking with: the password where there is one, else a recent
 *  sign-in. */
export const EMAIL_CHANGE_REAUTH = 'Moving your account to another address';

/** Why the address cannot be changed here, or null when it can. */
export function emailChangeBlocked(deps: AuthServices): string | null {
  return deps.mailer() ? null : EMAIL_CHANGE_NEEDS_MAIL;
}

type AccountNotes = { errors?: AccountView['errors']; notice?: string | null; newEmail?: string };

export async function accountPage(
  c: AuthContext,
  s: ResolvedSession,
  notes: AccountNotes = {},
  status = 200,
): Promise<Response> {
  const { store, mfa, now, prefix: P } = c.var.deps;
  const userId = s.principal.userId;
  const [user, sessions, factors, passkeys, keys] = await Promise.all([
    store.findUserById(userId),
    store.listUserSessions(userId),
    mfa.status(userId),
    store.listPasskeys(userId),
    store.listApiKeys(userId),
  ]);
  if (!user) return c.redirect(`${P}/sign-in`, 303);
  return page(
    c,
    'account',
    'Your account',
    {
      csrf: csrfToken(c),
      user: s.principal,
      // The same test as the console's own door (requireAdmin): a link only where it opens.
      isAdmin: isAdmin(s.principal),
      emailVerified: user.emailVerified,
      emailChange: {
        blocked: emailChangeBlocked(c.var.deps),
        newEmail: notes.newEmail ?? '',
        // Without a password, the proof is a recent sign-in: an older session is offered "Sign in again".
        reauth: user.passwordHash === null ? await reauthUnlessRecent(c, EMAIL_CHANGE_REAUTH, `${P}/account`) : null,
      },
      hasPassword: user.passwordHash !== null,
      resetAvailable: c.var.deps.mailer() !== null,
      security: {
        totp: factors.totp !== null,
        recoveryLeft: factors.recoveryLeft,
        passkeys: passkeys.length,
        tokens: keys.filter((k) => !k.revoked && (!k.expiresAt || k.expiresAt.getTime() > now())).length,
      },
      sessions: sessions.map((x) => ({
        id: x.id,
        current: x.id === s.sessionId,
        createdAt: stamp(x.createdAt),
        lastSeenAt: stamp(x.lastSeenAt),
        ip: x.ip,
        userAgent: describeAgent(x.userAgent),
        pairedFrom: x.pairedFrom ?? null,
      })),
      ...(await linkedAccounts(c, user, passkeys.length)),
      errors: notes.errors ?? {},
      notice: notes.notice ?? null,
      ...(await connectedOf(c, s)),
    },
    status,
  );
}

/** OAuth clients the user allowed (docs/architecture.md#oauth), while MCP resources exist or a device
 *  holds a token. */
async function connectedOf(c: AuthContext, s: ResolvedSession): Promise<Pick<AccountView, 'connected'>> {
  const { settings, store } = c.var.deps;
  const apps = await connectedApps(store, s.principal.userId);
  if (!settings.current().mcp.length && !apps.length) return {};
  return {
    connected: apps.map((a) => ({
      clientId: a.clientId,
      clientName: a.clientName,
      resource: a.resource,
      scopes: a.scopes,
      lastUsedAt: a.lastUsedAt ? stamp(a.lastUsedAt) : null,
    })),
  };
}

/** The rows of the Linked accounts section, and the providers that can still be joined. */
export async function linkedAccounts(
  c: AuthContext,
  user: User,
  passkeys: number,
): Promise<Pick<AccountView, 'identities' | 'linkable'>> {
  const { store, providers, prefix: P } = c.var.deps;
  const identities = await store.listIdentities(user.id);
  const configured = providers();
  const waysIn = identities.length + passkeys + (user.passwordHash ? 1 : 0);
  return {
    identities: identities.map((i) => {
      const p = configured.find((x) => x.name === i.provider);
      return {
        provider: p ? labelOf(p) : i.provider,
        email: i.email,
        since: stamp(i.createdAt),
        issuer: i.issuer,
        subject: i.subject,
        canUnlink: waysIn > 1,
      };
    }),
    linkable: configured
      .filter((p) => !identities.some((i) => i.provider === p.name))
      .map((p) => ({ name: p.name, label: labelOf(p), action: `${P}/account/identities/link` })),
  };
}
