// The admin API's users (docs/admin-api.md): list and show, disable or enable, role, groups, sessions;
// and the groups with their members.
import type { Hono } from 'hono';
import type { AuthEnv, AuthServices } from './context.js';
import { GROUP_NAME, ROLE_NAME } from '../store/types.js';
import { apiBody, apiError, BAD_BODY, caller, done, findUser, noUser, userRow } from './admin-api-shared.js';

export function mountUserListing(api: Hono<AuthEnv>, { store }: AuthServices): void {
  api.get('/users', async (c) => {
    const limit = Math.max(1, Math.min(500, Number(c.req.query('limit') ?? 100) | 0));
    const offset = Math.max(0, Number(c.req.query('offset') ?? 0) | 0);
    const [users, total] = await Promise.all([store.listUsers({ limit, offset }), store.countUsers()]);
    return c.json({ users: users.map(userRow), total, limit, offset });
  });

  api.get('/users/:user', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    return c.json({ ...userRow(u), sessions: (await store.listUserSessions(u.id)).length });
  });
}

/** Disable or enable, role and groups of one user (never the caller's own account for the first two). */
export function mountUserChanges(api: Hono<AuthEnv>, deps: AuthServices): void {
  const { store } = deps;
  api.post('/users/:user/:action{disable|enable}', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    if (u.id === caller(c).admin.principal.userId)
      return apiError(c, 'bad_request', 'Not on your own account: ask another administrator.');
    const disable = c.req.param('action') === 'disable';
    const updated = await store.updateUser(u.id, { disabled: disable }, new Date(deps.now()));
    if (disable) await deps.sessions.revokeUser(u.id);
    else await deps.lockout.clear(u.email);
    done(c, c.req.param('action'), u.id);
    return c.json(userRow(updated ?? u));
  });

  api.post('/users/:user/role', async (c) => {
    const body = await apiBody(c);
    if (!body) return apiError(c, 'bad_request', BAD_BODY);
    const role = body.role;
    if (typeof role !== 'string' || !ROLE_NAME.test(role))
      return apiError(
        c,
        'bad_request',
        '"role" must be admin, member, or a name of a-z, 0-9 and "-" starting with a letter.',
      );
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    if (u.id === caller(c).admin.principal.userId)
      return apiError(c, 'bad_request', 'Not on your own account: ask another administrator.');
    const updated = await store.updateUser(u.id, { role }, new Date(deps.now()));
    await deps.sessions.revokeUser(u.id); // the new role applies from the next sign-in
    done(c, `set-role ${role}`, u.id);
    return c.json(userRow(updated ?? u));
  });

  api.post('/users/:user/groups', async (c) => {
    const body = await apiBody(c);
    const list = (v: unknown) =>
      v === undefined ? [] : Array.isArray(v) && v.every((g) => typeof g === 'string') ? (v as string[]) : null;
    const add = list(body?.add);
    const remove = list(body?.remove);
    if (!body || !add || !remove)
      return apiError(c, 'bad_request', '{"add": [...], "remove": [...]}: lists of group names.');
    const bad = [...add, ...remove].find((g) => !GROUP_NAME.test(g));
    if (bad !== undefined)
      return apiError(
        c,
        'bad_request',
        `"${bad.slice(0, 70)}" is not a group name (a-z, 0-9, ".", "_", "-"; up to 64).`,
      );
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    const next = [...new Set([...u.groups.filter((g) => !remove.includes(g)), ...add])].sort();
    const updated = await store.updateUser(u.id, { groups: next }, new Date(deps.now()));
    done(c, 'groups', u.id);
    return c.json(userRow(updated ?? u));
  });
}

export function mountUserSessions(api: Hono<AuthEnv>, deps: AuthServices): void {
  const { store } = deps;
  api.get('/users/:user/sessions', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    const sessions = await store.listUserSessions(u.id);
    // The stored id is a hash of the cookie, but still not something to hand out: listed by position.
    return c.json({
      sessions: sessions.map((s) => ({
        provider: s.provider,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
        pairedFrom: s.pairedFrom ?? null,
      })),
    });
  });

  api.post('/users/:user/sessions/revoke', async (c) => {
    const u = await findUser(store, c.req.param('user'));
    if (!u) return noUser(c, c.req.param('user'));
    const admin = caller(c).admin;
    await deps.sessions.revokeUser(u.id, u.id === admin.principal.userId ? admin.sessionId : undefined);
    done(c, 'end-sessions', u.id);
    return c.json({ ok: true });
  });
}

export function mountGroupListing(api: Hono<AuthEnv>, { store }: AuthServices): void {
  api.get('/groups', async (c) => {
    const members = new Map<string, string[]>();
    for (let offset = 0; ; offset += 500) {
      const page = await store.listUsers({ limit: 500, offset });
      for (const u of page) for (const g of u.groups) members.set(g, [...(members.get(g) ?? []), u.email]);
      if (page.length < 500) break;
    }
    return c.json({
      groups: [...members].sort(([a], [b]) => a.localeCompare(b)).map(([name, emails]) => ({ name, members: emails })),
    });
  });
}
