// The admin console: users (disable, enable, role, delete, end sessions) and API keys. Only for role
// admin; every change is a CSRF-checked POST and an audit line. Changes that are hard to take back
// (delete, disable, a role, revoking a key) are first shown on their own confirm page, and the console
// then says what was done to whom.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireAdmin, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { doneNotice, doneRedirect } from './admin-done.js';
import { mountAdminInvites } from './admin-invites.js';
import { mountAdminEvents } from './admin-events.js';
import type { ResolvedSession } from '../session/sessions.js';
import type { User } from '../store/types.js';
import { stamp, type AdminAction } from './views.js';
import { factorChanged } from './code-check.js';
import { mountAdminAccess } from './admin-access.js';

const PAGE_SIZE = 50;

type UserAction = 'disable' | 'enable' | 'make-admin' | 'make-member' | 'end-sessions' | 'reset-mfa' | 'delete';
type DoneAction = UserAction | 'revoke-key' | 'revoke-oauth';

/** What the console says after an action; `who` is an email address, or a key's name. */
const DONE: Record<DoneAction, (who: string) => string> = {
  disable: (who) => `Disabled ${who} and ended their sessions.`,
  enable: (who) => `Enabled ${who}.`,
  'make-admin': (who) => `${who} is now an admin (from their next sign-in).`,
  'make-member': (who) => `${who} is now a member (from their next sign-in).`,
  'end-sessions': (who) => `Signed ${who} out everywhere.`,
  'reset-mfa': (who) => `Removed the second factor of ${who} and signed them out everywhere.`,
  delete: (who) => `Deleted ${who}.`,
  'revoke-key': (who) => `Revoked the API key “${who}”.`,
  'revoke-oauth': (who) => `Revoked the OAuth client “${who}” for everyone.`,
};

/** The confirm page's words for each action that asks first. */
const CONFIRM: Record<
  Exclude<DoneAction, 'enable'>,
  { heading: string; button: string; danger: boolean; effect: string }
> = {
  delete: {
    heading: 'Delete this account?',
    button: 'Delete account',
    danger: true,
    effect: 'The account is deleted with its sessions, API keys and linked logins. This cannot be undone.',
  },
  disable: {
    heading: 'Disable this account?',
    button: 'Disable account',
    danger: true,
    effect: 'They are signed out everywhere and cannot sign in until an administrator enables the account again.',
  },
  'make-admin': {
    heading: 'Make this account an admin?',
    button: 'Make admin',
    danger: false,
    effect: 'They can open this console and change every account. They sign in again to get the new role.',
  },
  'make-member': {
    heading: 'Make this account a member?',
    button: 'Make member',
    danger: false,
    effect: 'They can no longer open this console. They sign in again to get the new role.',
  },
  'reset-mfa': {
    heading: 'Reset two-step sign-in?',
    button: 'Reset two-step sign-in',
    danger: true,
    effect:
      'Their authenticator app and recovery codes are removed and they are signed out everywhere. ' +
      'They sign in with their password alone and can set up a new app. They get an email about it.',
  },
  'end-sessions': {
    heading: 'Sign this account out everywhere?',
    button: 'Sign out everywhere',
    danger: true,
    effect: 'Every session of theirs ends at once, on every device. They can sign in again.',
  },
  'revoke-key': {
    heading: 'Revoke this API key?',
    button: 'Revoke key',
    danger: true,
    effect: 'Scripts using this key are refused from now on. This cannot be undone.',
  },
  'revoke-oauth': {
    heading: 'Revoke this OAuth client for everyone?',
    button: 'Revoke client',
    danger: true,
    effect:
      'The client is removed with every consent and token of every user: each app using it must be connected again.',
  },
};
const isConfirmable = (a: string): a is keyof typeof CONFIRM => Object.hasOwn(CONFIRM, a);

export function mountAdmin(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const adminOnly = requireAdmin({ prefix: P });
  const adminPost = [adminOnly, csrf({ refuse: formExpiredPage })] as const;

  app.get(`${P}/admin`, adminOnly, consolePage);
  app.get(`${P}/admin/confirm`, adminOnly, confirmPage);
  mountAdminAccess(app, deps); // groups and the access rules in force
  mountAdminInvites(app, deps);
  mountAdminEvents(app, deps);

  app.post(
    `${P}/admin/users/:id/:action{disable|enable|make-admin|make-member|end-sessions|reset-mfa|delete}`,
    ...adminPost,
    async (c) => {
      const admin = signedIn(c);
      const action = c.req.param('action') as UserAction;
      const user = await deps.store.findUserById(c.req.param('id'));
      if (!user) return errorPage(c, 404, 'No such user', 'That account does not exist any more.');
      // An admin cannot lock themselves out of their own console.
      if (user.id === admin.principal.userId && action !== 'end-sessions') return notOnYourself(c);
      await applyUserAction(deps, admin, user, action);
      if (action === 'reset-mfa') factorChanged(c, user, 'reset', admin.principal.email);
      audit(c, 'admin.action', { userId: admin.principal.userId, detail: `${action} ${user.id}` });
      return doneRedirect(c, admin.sessionId, `${P}/admin`, action, user.email);
    },
  );

  app.post(`${P}/admin/keys/:id/revoke`, ...adminPost, async (c) => {
    const admin = signedIn(c);
    const id = c.req.param('id');
    const key = (await deps.store.listApiKeys()).find((k) => k.id === id);
    await deps.apiKeys.revoke(id);
    audit(c, 'admin.action', { userId: admin.principal.userId, detail: `revoke-key ${id}` });
    return doneRedirect(c, admin.sessionId, `${P}/admin`, 'revoke-key', key?.name ?? id);
  });
}

const notOnYourself = (c: AuthContext) =>
  errorPage(c, 400, 'Not on your own account', 'Ask another administrator to change your own account.');

async function consolePage(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const admin = signedIn(c);
  const pageNo = Math.max(0, Math.min(10_000, Number(c.req.query('page') ?? 0) | 0));
  const query = (c.req.query('q') ?? '').trim().slice(0, 200); // searched on the server, kept in the URL
  const [users, total, everyone, keys] = await Promise.all([
    deps.store.listUsers({ limit: PAGE_SIZE, offset: pageNo * PAGE_SIZE, query }),
    deps.store.countUsers(query),
    query ? deps.store.countUsers() : null,
    deps.store.listApiKeys(),
  ]);
  const pageHref = (n: number) =>
    `${deps.prefix}/admin?${new URLSearchParams(query ? { q: query, page: String(n) } : { page: String(n) })}`;
  const emailOf = new Map(users.map((u) => [u.id, u.email]));
  return page(c, 'admin', 'Admin', {
    csrf: csrfToken(c),
    me: admin.principal,
    users: users.map((u) => ({
      id: u.id,
      groups: u.groups,
      email: u.email,
      name: u.name,
      role: u.role,
      disabled: u.disabled,
      emailVerified: u.emailVerified,
      createdAt: u.createdAt.toISOString(),
      self: u.id === admin.principal.userId,
      actions: u.id === admin.principal.userId ? [] : userActions(deps.prefix, u),
    })),
    total: everyone ?? total,
    query,
    matches: total,
    page: pageNo,
    pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
    prevHref: pageNo > 0 ? pageHref(pageNo - 1) : null,
    nextHref: (pageNo + 1) * PAGE_SIZE < total ? pageHref(pageNo + 1) : null,
    keys: keys.map((k) => ({
      id: k.id,
      name: k.name,
      owner: emailOf.get(k.userId) ?? k.userId,
      role: k.role,
      scopes: k.scopes ?? [],
      expiry: k.revoked ? 'revoked' : k.expiresAt ? `expires ${k.expiresAt.toISOString().slice(0, 10)}` : 'no expiry',
      lastUsedAt: k.lastUsedAt ? stamp(k.lastUsedAt) : null,
      revokeHref: k.revoked ? null : `${deps.prefix}/admin/confirm?action=revoke-key&key=${encodeURIComponent(k.id)}`,
    })),
    settings: { signUp: deps.settings.current().signUp, mode: deps.settings.current().mode },
    notice: doneNotice(c, admin.sessionId, DONE),
  });
}

// GET …/admin/confirm?action=delete&user=ID (or action=revoke-key&key=ID): what will be done to whom,
// a POST form with the CSRF token, and a way back. Nothing changes until that form is sent.
async function confirmPage(c: AuthContext): Promise<Response> {
  const { store, prefix: P } = c.var.deps;
  const action = c.req.query('action') ?? '';
  if (!isConfirmable(action)) return errorPage(c, 404, 'No such action', 'The admin console has no such action.');
  const words = CONFIRM[action];
  const base = { csrf: csrfToken(c), ...words, cancel: `${P}/admin` };
  if (action === 'revoke-oauth') {
    const client = await store.findOAuthClient(c.req.query('client') ?? '');
    if (!client) return errorPage(c, 404, 'No such client', 'That OAuth client does not exist or is already revoked.');
    const grants = (await store.listOAuthConsents()).filter((g) => g.clientId === client.id).length;
    return page(c, 'admin-confirm', words.heading, {
      ...base,
      cancel: `${P}/admin/oauth`,
      action: `${P}/admin/oauth/revoke`,
      hidden: [{ name: 'client_id', value: client.id }],
      subject: {
        title: client.name,
        badge: client.kind,
        detail: `${client.id} · ${grants} consent${grants === 1 ? '' : 's'}`,
      },
    });
  }
  if (action === 'revoke-key') {
    const id = c.req.query('key') ?? '';
    const key = (await store.listApiKeys()).find((k) => k.id === id);
    if (!key || key.revoked)
      return errorPage(c, 404, 'No such key', 'That API key does not exist or is already revoked.');
    const owner = await store.findUserById(key.userId);
    return page(c, 'admin-confirm', words.heading, {
      ...base,
      action: `${P}/admin/keys/${encodeURIComponent(key.id)}/revoke`,
      subject: { title: key.name, badge: key.role, detail: `${key.id} · owned by ${owner?.email ?? key.userId}` },
    });
  }
  const user = await store.findUserById(c.req.query('user') ?? '');
  if (!user) return errorPage(c, 404, 'No such user', 'That account does not exist any more.');
  if (user.id === signedIn(c).principal.userId) return notOnYourself(c);
  return page(c, 'admin-confirm', words.heading, {
    ...base,
    action: `${P}/admin/users/${encodeURIComponent(user.id)}/${action}`,
    subject: { title: user.name, badge: user.disabled ? `${user.role}, disabled` : user.role, detail: user.email },
  });
}

/** A user's row of buttons. Delete, disable and role changes ask first, on their own page; enable and
 *  sign-out act at once. */
function userActions(prefix: string, u: User): AdminAction[] {
  const actions: Array<[UserAction, string]> = [
    u.disabled ? ['enable', 'Enable'] : ['disable', 'Disable'],
    u.role === 'admin' ? ['make-member', 'Make member'] : ['make-admin', 'Make admin'],
    ['end-sessions', 'Sign out everywhere'],
    ['reset-mfa', 'Reset two-step'],
    ['delete', 'Delete'],
  ];
  const groups: AdminAction = {
    label: 'Groups',
    ariaLabel: `Groups of ${u.email}`,
    style: 'button-secondary',
    href: `${prefix}/admin/users/${encodeURIComponent(u.id)}/groups`,
  };
  return [
    groups,
    ...actions.map(([action, label]): AdminAction => ({
      label,
      ariaLabel: `${label} ${u.email}`,
      style: action === 'delete' ? 'button-danger' : 'button-secondary',
      ...(isConfirmable(action)
        ? { href: `${prefix}/admin/confirm?action=${action}&user=${encodeURIComponent(u.id)}` }
        : { post: `${prefix}/admin/users/${u.id}/${action}` }),
    })),
  ];
}

async function applyUserAction(
  deps: AuthServices,
  admin: ResolvedSession,
  user: User,
  action: UserAction,
): Promise<void> {
  const id = user.id;
  const now = new Date(deps.now());
  switch (action) {
    case 'disable':
      await deps.store.updateUser(id, { disabled: true }, now);
      await deps.sessions.revokeUser(id);
      break;
    case 'enable':
      await deps.store.updateUser(id, { disabled: false }, now);
      await deps.lockout.clear(user.email);
      break;
    case 'make-admin':
    case 'make-member':
      await deps.store.updateUser(id, { role: action === 'make-admin' ? 'admin' : 'member' }, now);
      await deps.sessions.revokeUser(id); // the new role applies from the next sign-in
      break;
    case 'end-sessions':
      await deps.sessions.revokeUser(id, user.id === admin.principal.userId ? admin.sessionId : undefined);
      break;
    case 'reset-mfa':
      // Factors first: a session made in between would still need the factor that is going away.
      await deps.mfa.removeAll(id);
      await deps.sessions.revokeUser(id);
      await deps.store.deleteTokens('mfa', id); // sign-ins waiting for their second step
      break;
    case 'delete':
      await deps.sessions.revokeUser(id);
      await deps.store.deleteUser(id);
      break;
  }
}
