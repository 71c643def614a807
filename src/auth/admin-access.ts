// The console's access pages (architecture.md#access): a user's groups (view, add, remove — CSRF-checked
// POSTs, each an audit line) and the access rules in force, read-only, with the explanation of a test
// request that `gatehouse access test` prints (access/explain.ts: one function for both).
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireAdmin, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { normalizeEmail } from '../accounts/email.js';
import { explain, subjectOfUser } from '../access/explain.js';
import { policyOf } from '../access/policy.js';
import { describeRule } from '../access/rules.js';
import { GROUP_NAME, type User } from '../store/types.js';

const BAD_GROUP =
  'A group name is lower-case letters, digits, ".", "_" or "-" (up to 64), starting with a letter or digit.';

export function mountAdminAccess(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const adminOnly = requireAdmin({ prefix: P });
  const adminPost = [adminOnly, csrf({ refuse: formExpiredPage })] as const;

  app.get(`${P}/admin/access`, adminOnly, (c) => accessPage(c, null));
  // A POST, like every form of ours: the email asked about stays out of URLs and access logs.
  app.post(`${P}/admin/access`, ...adminPost, async (c) => {
    const form = await formOf(c);
    return accessPage(c, { as: field(form.as), method: field(form.method), path: field(form.path) });
  });

  app.get(`${P}/admin/users/:id/groups`, adminOnly, async (c) => {
    const user = await deps.store.findUserById(c.req.param('id'));
    return user
      ? groupsPage(c, user, { notice: doneNotice(c.req.query('done'), c.req.query('group')) })
      : noSuchUser(c);
  });

  // Removing asks first, as the console's other removals do: it may close routes to someone at once.
  app.get(`${P}/admin/users/:id/groups/remove`, adminOnly, async (c) => {
    const user = await deps.store.findUserById(c.req.param('id'));
    if (!user) return noSuchUser(c);
    const group = c.req.query('group') ?? '';
    const action = groupsUrl(P, user);
    if (!user.groups.includes(group)) return groupsPage(c, user, { error: `${user.email} is not in that group.` }, 404);
    return page(c, 'admin-confirm', `Remove from ${group}?`, {
      csrf: csrfToken(c),
      heading: `Remove ${user.name} from ${group}?`,
      button: 'Remove from group',
      danger: true,
      effect:
        `Access rules that name group:${group} stop letting ${user.email} in within two seconds, ` +
        'and the app no longer receives it in X-Forwarded-Groups. You can add it back on the groups page.',
      subject: { title: user.email, badge: user.role, detail: `member of ${user.groups.join(', ')}` },
      action: `${action}/remove`,
      hidden: [{ name: 'group', value: group }],
      cancel: action,
    });
  });

  app.post(`${P}/admin/users/:id/groups/:change{add|remove}`, ...adminPost, async (c) => {
    const user = await deps.store.findUserById(c.req.param('id'));
    if (!user) return noSuchUser(c);
    const change = c.req.param('change') as 'add' | 'remove';
    const group = field((await formOf(c)).group)
      .trim()
      .toLowerCase();
    if (!GROUP_NAME.test(group)) return groupsPage(c, user, { error: BAD_GROUP, value: group.slice(0, 64) }, 400);
    const groups =
      change === 'add' ? [...new Set([...user.groups, group])].sort() : user.groups.filter((g) => g !== group);
    // Running servers see the new groups at the session's next check (≤ 2 s): no one has to sign in again.
    await deps.store.updateUser(user.id, { groups }, new Date(deps.now()));
    audit(c, 'admin.action', {
      userId: signedIn(c).principal.userId,
      detail: `groups ${change === 'add' ? '+' : '-'}${group} ${user.id}`,
    });
    return c.redirect(`${groupsUrl(P, user)}?${new URLSearchParams({ done: change, group })}`, 303);
  });
}

/** A user's groups page; its forms post to /add and /remove below it. */
const groupsUrl = (prefix: string, user: Pick<User, 'id'>) =>
  `${prefix}/admin/users/${encodeURIComponent(user.id)}/groups`;

const noSuchUser = (c: AuthContext) => errorPage(c, 404, 'No such user', 'That account does not exist any more.');

/** Only the two fixed sentences, with a group name that must itself be valid: a link cannot put words here. */
function doneNotice(done: string | undefined, group: string | undefined): string | null {
  if (!group || !GROUP_NAME.test(group)) return null;
  if (done === 'add') return `Added to ${group}.`;
  if (done === 'remove') return `Removed from ${group}.`;
  return null;
}

function groupsPage(
  c: AuthContext,
  user: User,
  notes: { notice?: string | null; error?: string; value?: string },
  status = 200,
): Response {
  const P = c.var.deps.prefix;
  return page(
    c,
    'admin-groups',
    `Groups of ${user.email}`,
    {
      csrf: csrfToken(c),
      user: { email: user.email, name: user.name, role: user.role },
      groups: user.groups.map((name) => ({
        name,
        removeHref: `${groupsUrl(P, user)}/remove?${new URLSearchParams({ group: name })}`,
      })),
      action: groupsUrl(P, user),
      back: `${P}/admin`,
      value: notes.value ?? '',
      error: notes.error ?? null,
      notice: notes.notice ?? null,
    },
    status,
  );
}

async function accessPage(
  c: AuthContext,
  asked: { as: string; method: string; path: string } | null,
): Promise<Response> {
  const { settings, store } = c.var.deps;
  const s = settings.current();
  const { rules, fallback } = policyOf(s);
  const publicCount = s.publicPaths.length;
  const rows = rules.map((r, i) => {
    const source =
      i < publicCount ? 'public paths' : i < publicCount + s.access.length ? 'access rules' : 'mode org-only';
    return { n: i + 1, pattern: r.pattern, who: describeRule(r).slice(r.pattern.length + 1), source };
  });
  const as = (asked?.as ?? '').slice(0, 320);
  const method = (asked?.method ?? 'GET').slice(0, 16) || 'GET';
  const path = (asked?.path ?? '').slice(0, 2000);
  let result = null;
  let error: string | null = null;
  if (asked) {
    const user = as ? await store.findUserByEmail(normalizeEmail(as)) : null;
    if (!user) error = 'There is no user with that email.';
    else if (!/^[A-Za-z]{1,16}$/.test(method)) error = 'The method is a word such as GET or POST.';
    else if (!path.startsWith('/')) error = 'The path starts with "/".';
    else result = explain(rules, method, path, subjectOfUser(user), fallback);
  }
  return page(c, 'admin-access', 'Access rules', {
    csrf: csrfToken(c),
    mode: s.mode,
    rules: rows,
    test: { as, method, path, error },
    fallback,
    result: result && { headline: result.headline, reason: result.reason, reading: result.reading },
  });
}
