// Console › Security events: the audit log's recent lines, from the store (shared by every replica),
// newest first, filtered by user (email) and event. A GET form: the filters stay in the URL.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { normalizeEmail } from '../accounts/email.js';
import { requireAdmin } from './middleware/session.js';
import { page } from './pages.js';
import { stamp } from './views.js';

const PAGE_SIZE = 50;
const EVENT_NAME = /^[a-z][a-z0-9.-]{0,63}$/;
/** Offered in the event filter; any other event name typed in works too. */
const KNOWN = [
  'sign-in.failure',
  'sign-in.success',
  'lockout',
  'rate-limited',
  'admin.action',
  'invite.created',
  'invite.revoked',
  'password.changed',
  'password.reset',
  'mfa.failure',
  'mfa.reset',
  'session.revoked',
  'access.denied',
  'csrf.refused',
  'api-key.refused',
  'oauth.revoked',
];

export function mountAdminEvents(app: Hono<AuthEnv>, deps: AuthServices): void {
  app.get(`${deps.prefix}/admin/events`, requireAdmin({ prefix: deps.prefix }), eventsPage);
}

async function eventsPage(c: AuthContext): Promise<Response> {
  const { store, prefix: P } = c.var.deps;
  const userQ = (c.req.query('user') ?? '').trim().slice(0, 320);
  const eventQ = (c.req.query('event') ?? '').trim().slice(0, 64);
  const pageNo = Math.max(0, Math.min(1000, Number(c.req.query('page') ?? 0) | 0));
  const email = userQ ? normalizeEmail(userQ) : '';
  const event = EVENT_NAME.test(eventQ) ? eventQ : '';
  const who = email ? await store.findUserByEmail(email) : null;
  const rows = await store.listEvents({
    limit: PAGE_SIZE + 1,
    offset: pageNo * PAGE_SIZE,
    ...(email ? { user: { id: who?.id ?? null, email } } : {}),
    ...(event ? { event } : {}),
  });
  const shown = rows.slice(0, PAGE_SIZE);
  const emails = await emailsOf(
    c,
    shown.filter((e) => !e.email && e.userId).map((e) => e.userId!),
  );
  const filters = { ...(userQ ? { user: userQ } : {}), ...(eventQ ? { event: eventQ } : {}) };
  const href = (n: number) => `${P}/admin/events?${new URLSearchParams({ ...filters, page: String(n) })}`;
  const filtered = Boolean(userQ || eventQ);
  return page(c, 'admin-events', 'Security events', {
    filter: { user: userQ, event: eventQ },
    known: KNOWN,
    events: shown.map((e) => ({
      at: stamp(e.at),
      event: e.event,
      user: e.email ?? (e.userId ? (emails.get(e.userId) ?? e.userId) : '—'),
      ip: e.ip ?? '—',
      detail: e.detail ?? '',
    })),
    prevHref: pageNo > 0 ? href(pageNo - 1) : null,
    nextHref: rows.length > PAGE_SIZE ? href(pageNo + 1) : null,
    empty: shown.length ? null : filtered ? 'No event matches these filters.' : 'No security events yet.',
  });
}

/** The email of each user id an event names without one (at most a page's worth of look-ups). */
async function emailsOf(c: AuthContext, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  const users = await Promise.all(unique.map((id) => c.var.deps.store.findUserById(id)));
  return new Map(users.filter((u) => u !== null).map((u) => [u.id, u.email]));
}
