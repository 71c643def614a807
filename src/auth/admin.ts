// The admin console: users (disable, enable, role, delete, end sessions) and API keys. Only for role
// admin; every change is a CSRF-checked POST and an audit line.
import type { Hono } from 'hono';
import type { AuthContext, AuthDeps, AuthEnv, AuthKit } from './context.js';

const PAGE_SIZE = 50;

export function mountAdmin(app: Hono<AuthEnv>, deps: AuthDeps, kit: AuthKit): void {
  const P = deps.prefix;

  /** The signed-in admin, or the response to send instead. */
  function requireAdmin(c: AuthContext) {
    const s = c.get('session');
    if (!s) return { denied: c.redirect(`${P}/sign-in?return_to=${encodeURIComponent(`${P}/admin`)}`, 302) };
    if (s.principal.role !== 'admin' || s.principal.provider === 'api-key') {
      return { denied: kit.errorPage(c, 403, 'Administrators only', 'Your account cannot open the admin console.') };
    }
    return { admin: s };
  }

  app.get(`${P}/admin`, async (c) => {
    const { admin, denied } = requireAdmin(c);
    if (!admin) return denied;
    const page = Math.max(0, Math.min(10_000, Number(c.req.query('page') ?? 0) | 0));
    const [users, total, keys] = await Promise.all([
      deps.store.listUsers({ limit: PAGE_SIZE, offset: page * PAGE_SIZE }),
      deps.store.countUsers(),
      deps.store.listApiKeys(),
    ]);
    const emailOf = new Map(users.map((u) => [u.id, u.email]));
    return kit.page(c, 'admin', 'Admin', {
      csrf: kit.csrfField(c),
      me: admin.principal,
      users: users.map((u) => ({
        id: u.id,
        email: u.email,
        name: u.name,
        role: u.role,
        disabled: u.disabled,
        emailVerified: u.emailVerified,
        createdAt: u.createdAt.toISOString(),
        self: u.id === admin.principal.userId,
      })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      keys: keys.map((k) => ({ id: k.id, name: k.name, owner: emailOf.get(k.userId) ?? k.userId, role: k.role, revoked: k.revoked, expiresAt: k.expiresAt?.toISOString() ?? null, lastUsedAt: k.lastUsedAt?.toISOString() ?? null })),
      settings: { signUp: deps.settings.current().signUp, mode: deps.settings.current().mode },
      notice: c.req.query('done') ? 'Done.' : null,
    });
  });

  app.post(`${P}/admin/users/:id/:action{disable|enable|make-admin|make-member|end-sessions|delete}`, async (c) => {
    const { admin, denied } = requireAdmin(c);
    if (!admin) return denied;
    const form = await c.req.parseBody();
    if (!kit.csrfOk(c, form)) return kit.errorPage(c, 403, 'Request refused', 'Your form expired. Please try again.');
    const id = c.req.param('id');
    const action = c.req.param('action');
    const user = await deps.store.findUserById(id);
    if (!user) return kit.errorPage(c, 404, 'No such user', 'That account does not exist any more.');
    // An admin cannot lock themselves out of their own console.
    if (user.id === admin.principal.userId && action !== 'end-sessions') {
      return kit.errorPage(c, 400, 'Not on your own account', 'Ask another administrator to change your own account.');
    }
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
      case 'delete':
        await deps.sessions.revokeUser(id);
        await deps.store.deleteUser(id);
        break;
    }
    deps.audit.record('admin.action', { userId: admin.principal.userId, ip: c.get('ip'), userAgent: c.get('userAgent'), detail: `${action} ${user.id}` });
    return c.redirect(`${P}/admin?done=1`, 303);
  });

  app.post(`${P}/admin/keys/:id/revoke`, async (c) => {
    const { admin, denied } = requireAdmin(c);
    if (!admin) return denied;
    const form = await c.req.parseBody();
    if (!kit.csrfOk(c, form)) return kit.errorPage(c, 403, 'Request refused', 'Your form expired. Please try again.');
    await deps.apiKeys.revoke(c.req.param('id'));
    deps.audit.record('admin.action', { userId: admin.principal.userId, ip: c.get('ip'), userAgent: c.get('userAgent'), detail: `revoke-key ${c.req.param('id')}` });
    return c.redirect(`${P}/admin?done=1`, 303);
  });
}
