// The account page (SPEC §12): one page in sections — Profile (the address and its change), Security
// (a summary of factors, passkeys and personal tokens, and the password change), Sessions (end one, or
// every other), Connected apps, Linked accounts. Each section's actions live in their own module
// (account-email.ts, account-identities.ts, mfa-account.ts, …); this one renders and owns sessions
// and the password.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { isAdmin, requireSession, signedIn } from './middleware/session.js';
import { formExpiredPage, page } from './pages.js';
import { sendPasswordChangedEmail } from './reset.js';
import { startSession } from './start-session.js';
import { stamp, type AccountView } from './views.js';
import type { ResolvedSession } from '../session/sessions.js';
import { checkPasswordPolicy, PASSWORD_MESSAGES } from '../security/password.js';
import { connectedApps } from '../oauth/connected.js';
import type { AuditEvent } from '../security/audit-log.js';
import type { User } from '../store/types.js';
import { EMAIL_CHANGE_REAUTH, emailChangeBlocked } from './account-email.js';
import { reauthUnlessRecent } from './recent-sign-in.js';
import { linkedAccounts } from './account-identities.js';

type AccountNotes = { errors?: AccountView['errors']; notice?: string | null; newEmail?: string };

export async function accountPage(c: AuthContext, s: ResolvedSession, notes: AccountNotes = {}, status = 200): Promise<Response> {
  const { store, mfa, now, prefix: P } = c.var.deps;
  const userId = s.principal.userId;
  const [user, sessions, factors, passkeys, keys] = await Promise.all([
    store.findUserById(userId), store.listUserSessions(userId), mfa.status(userId), store.listPasskeys(userId), store.listApiKeys(userId),
  ]);
  if (!user) return c.redirect(`${P}/sign-in`, 303);
  return page(c, 'account', 'Your account', {
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
  }, status);
}

/** OAuth clients the user allowed (SPEC §11), while MCP resources exist or a device (SPEC §12) holds a token. */
async function connectedOf(c: AuthContext, s: ResolvedSession): Promise<Pick<AccountView, 'connected'>> {
  const { settings, store } = c.var.deps;
  const apps = await connectedApps(store, s.principal.userId);
  if (!settings.current().mcp.length && !apps.length) return {};
  return { connected: apps.map((a) => ({ clientId: a.clientId, clientName: a.clientName, resource: a.resource, scopes: a.scopes, lastUsedAt: a.lastUsedAt ? stamp(a.lastUsedAt) : null })) };
}

export function mountAccount(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  // A form posted after the session ended goes to sign-in, without a way back to a POST.
  const signedInPost = [requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage })] as const;

  app.get(`${P}/account`, requireSession({ redirect: 302, returnTo: `${P}/account` }), (c) => accountPage(c, signedIn(c)));

  app.post(`${P}/account/sessions/revoke`, ...signedInPost, async (c) => {
    const s = signedIn(c);
    const id = field((await formOf(c)).id);
    const mine = await deps.store.listUserSessions(s.principal.userId);
    if (mine.some((x) => x.id === id)) {
      await deps.sessions.revoke(id);
      audit(c, 'session.revoked', { userId: s.principal.userId });
    }
    return c.redirect(`${P}/account`, 303);
  });

  // "Sign out everywhere else": a page that says what will happen, then the POST.
  app.get(`${P}/account/sessions/others`, requireSession({ redirect: 302, returnTo: `${P}/account` }), (c) => page(c, 'admin-confirm', 'Sign out everywhere else', {
    csrf: csrfToken(c),
    heading: 'Sign out everywhere else?',
    subject: { title: signedIn(c).principal.email, badge: 'your account', detail: 'every browser, phone and paired device but this one' },
    effect: 'Every other session of your account ends at once: those devices must sign in again. This browser stays signed in. Personal tokens and connected apps are not affected.',
    button: 'Sign out everywhere else',
    danger: true,
    action: `${P}/account/sessions/others`,
    cancel: `${P}/account`,
  }));
  app.post(`${P}/account/sessions/others`, ...signedInPost, async (c) => {
    const s = signedIn(c);
    const others = (await deps.store.listUserSessions(s.principal.userId)).filter((x) => x.id !== s.sessionId).length;
    await deps.sessions.revokeUser(s.principal.userId, s.sessionId);
    audit(c, 'session.revoked-others', { userId: s.principal.userId, detail: String(others) });
    return accountPage(c, s, { notice: others === 1 ? 'Signed out 1 other session.' : `Signed out ${others} other sessions.` });
  });

  app.post(`${P}/account/password`, ...signedInPost, changePassword);
}

/** The current password, asked before a sensitive change. Guesses count like sign-in failures: a
 *  stolen session must not become an unlimited password oracle. */
export async function checkCurrentPassword(c: AuthContext, user: User, given: string, failure: AuditEvent): Promise<{ ok: true } | { ok: false; message: string; status: number; tooMany?: Response }> {
  const deps = c.var.deps;
  const tooMany = await limited(c, 'sign-in'); // the 429 page, with Retry-After
  if (tooMany) return { ok: false, message: 'Too many attempts.', status: 429, tooMany };
  const attempt = await deps.lockout.begin(user.email);
  const allowed = attempt.allowed;
  const matches = allowed && user.passwordHash !== null && (await deps.hasher.verify(user.passwordHash, given)).ok;
  if (matches) {
    await attempt.succeeded();
    return { ok: true };
  }
  if (attempt.lockedNow || (allowed && (await attempt.failed()))) audit(c, 'lockout', { email: user.email, userId: user.id });
  audit(c, failure, { userId: user.id, detail: allowed ? 'wrong password' : 'locked' });
  return allowed
    ? { ok: false, message: 'That is not your current password.', status: 400 }
    : { ok: false, message: 'Too many wrong attempts. Wait a few minutes, or reset your password.', status: 429 };
}

async function changePassword(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  const form = await formOf(c);
  const user = await deps.store.findUserById(s.principal.userId);
  if (!user) return c.redirect(`${deps.prefix}/sign-in`, 303);
  const next = field(form.password);
  const proof = await checkCurrentPassword(c, user, field(form.current_password), 'password.change-failed');
  if (!proof.ok) return proof.tooMany ?? accountPage(c, s, { errors: { current_password: proof.message } }, proof.status);
  const problem = checkPasswordPolicy(next, user.email);
  if (problem) return accountPage(c, s, { errors: { password: PASSWORD_MESSAGES[problem] } }, 400);
  await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(next) }, new Date(deps.now()));
  // Every session ends — this one too: it continues under a new token (re-authentication), so a
  // token stolen before the change is worthless after it. Outstanding reset links die as well.
  await deps.sessions.revokeUser(user.id);
  await deps.store.deleteTokens('reset', user.id);
  c.set('session', null);
  await startSession(c, user, s.principal.provider, { amr: s.principal.amr });
  const fresh = c.get('session') ?? s;
  audit(c, 'password.changed', { userId: user.id });
  sendPasswordChangedEmail(deps, user);
  return accountPage(c, fresh, { notice: 'Password changed. Your other sessions were signed out.' });
}

/** "Chrome on Linux" rather than a 150-character user-agent string. */
export function describeAgent(ua: string | null): string | null {
  if (!ua) return null;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}
