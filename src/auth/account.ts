// The account page: who you are, your sessions (end any other one), and a password change.
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

type AccountNotes = { errors?: AccountView['errors']; notice?: string | null };

async function accountPage(c: AuthContext, s: ResolvedSession, notes: AccountNotes = {}, status = 200): Promise<Response> {
  const sessions = await c.var.deps.store.listUserSessions(s.principal.userId);
  return page(c, 'account', 'Your account', {
    csrf: csrfToken(c),
    user: s.principal,
    // The same test as the console's own door (requireAdmin): a link only where it opens.
    isAdmin: isAdmin(s.principal),
    sessions: sessions.map((x) => ({
      id: x.id,
      current: x.id === s.sessionId,
      createdAt: stamp(x.createdAt),
      lastSeenAt: stamp(x.lastSeenAt),
      ip: x.ip,
      userAgent: describeAgent(x.userAgent),
      pairedFrom: x.pairedFrom ?? null,
    })),
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

  app.post(`${P}/account/password`, ...signedInPost, changePassword);
}

async function changePassword(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  const form = await formOf(c);
  const user = await deps.store.findUserById(s.principal.userId);
  if (!user) return c.redirect(`${deps.prefix}/sign-in`, 303);
  // Guesses at the current password count like sign-in failures: a stolen session must not become
  // an unlimited password oracle.
  const tooMany = await limited(c, 'sign-in');
  if (tooMany) return tooMany;
  const attempt = await deps.lockout.begin(user.email);
  const allowed = attempt.allowed;
  const next = field(form.password);
  const matches = allowed && user.passwordHash !== null && (await deps.hasher.verify(user.passwordHash, field(form.current_password))).ok;
  if (!matches) {
    if (attempt.lockedNow || (allowed && (await attempt.failed()))) audit(c, 'lockout', { email: user.email, userId: user.id });
    audit(c, 'password.change-failed', { userId: user.id, detail: allowed ? undefined : 'locked' });
    const message = allowed ? 'That is not your current password.' : 'Too many wrong attempts. Wait a few minutes, or reset your password.';
    return accountPage(c, s, { errors: { current_password: message } }, allowed ? 400 : 429);
  }
  await attempt.succeeded();
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
