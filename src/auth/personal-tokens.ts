// Personal tokens (Account › Security, docs/architecture.md#devices): API keys a user makes for their own
// scripts — the same keys as `gatehouse keys create`, so the gate, the audit and the admin console treat them alike. A
// token has exactly its owner's role (capRole again on every use, so a demoted owner's token is
// demoted too) and no scopes: scopes open `scope:S` rules, which only an operator or admin may grant.
// The secret is shown once, on the answer to the POST that made it; regenerating revokes the old key
// before the page shows the new one, so the old one stops at once on this replica (2 s on the others).
import { reauthUnlessRecent, signedInRecently } from './recent-sign-in.js';
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { stamp, type TokenRow } from './views.js';
import { capRole } from '../session/api-keys.js';
import type { ApiKey } from '../store/types.js';

const DAY = 86_400_000;
/** The lifetimes offered, in the order the form lists them; the first is the default. */
export const TOKEN_LIFETIMES: ReadonlyArray<{ value: string; label: string; ms: number | null }> = [
  { value: '90d', label: '90 days', ms: 90 * DAY },
  { value: '30d', label: '30 days', ms: 30 * DAY },
  { value: '365d', label: '1 year', ms: 365 * DAY },
  { value: 'never', label: 'No expiry', ms: null },
];
const MAX_ACTIVE = 50;
const MAX_NAME = 100;

type TokenAction = 'regenerate' | 'disable';
const CONFIRM: Record<TokenAction, { heading: string; button: string; danger: boolean; effect: string }> = {
  regenerate: {
    heading: 'Regenerate this token?',
    button: 'Regenerate token',
    danger: false,
    effect: 'A new token replaces it. Scripts using the old one are refused from now on; give them the new one.',
  },
  disable: {
    heading: 'Disable this token?',
    button: 'Disable token',
    danger: true,
    effect: 'Scripts using this token are refused from now on. This cannot be undone.',
  },
};

interface Notes {
  created?: { name: string; token: string } | null;
  error?: string | null;
  notice?: string | null;
  name?: string;
}

export function mountPersonalTokens(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const post = [requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage })] as const;

  app.get(`${P}/account/tokens`, requireSession({ redirect: 302, returnTo: `${P}/account/tokens` }), (c) =>
    tokensPage(c),
  );
  app.post(`${P}/account/tokens`, ...post, createToken);

  app.get(
    `${P}/account/tokens/:id/:action{regenerate|disable}`,
    requireSession({ redirect: 302, returnTo: `${P}/account/tokens` }),
    async (c) => {
      const action = c.req.param('action') as TokenAction;
      const key = await ownKey(c, c.req.param('id'));
      if (!key) return noSuchToken(c);
      // A new secret needs a recent sign-in, as a new token does; disabling one never does.
      if (action === 'regenerate' && !(await signedInRecently(c))) return tokensPage(c, {}, 403);
      return page(c, 'admin-confirm', CONFIRM[action].heading, {
        csrf: csrfToken(c),
        ...CONFIRM[action],
        cancel: `${P}/account/tokens`,
        action: `${P}/account/tokens/${encodeURIComponent(key.id)}/${action}`,
        subject: { title: key.name, badge: key.role, detail: `${key.id} · ${expiryText(key)}` },
      });
    },
  );

  app.post(`${P}/account/tokens/:id/:action{regenerate|disable}`, ...post, async (c) => {
    const s = signedIn(c);
    const key = await ownKey(c, c.req.param('id'));
    if (!key) return noSuchToken(c);
    // revokeApiKey has one winner: two clicks (or tabs) never disable twice or regenerate two new tokens.
    if (c.req.param('action') === 'disable') {
      if (!(await deps.apiKeys.revoke(key.id))) return noSuchToken(c);
      audit(c, 'token.disabled', { userId: s.principal.userId, detail: key.id });
      return tokensPage(c, { notice: `Disabled “${key.name}”. Scripts using it are refused from now on.` });
    }
    if (!(await signedInRecently(c))) return tokensPage(c, {}, 403);
    const user = await deps.store.findUserById(s.principal.userId);
    if (!user) return c.redirect(`${P}/sign-in`, 303);
    // The old key dies first: if anything below fails, no two live secrets exist for one name.
    if (!(await deps.apiKeys.revoke(key.id))) return noSuchToken(c);
    const lifetime = key.expiresAt ? Math.max(DAY, key.expiresAt.getTime() - key.createdAt.getTime()) : null;
    const { key: fresh, token } = await deps.apiKeys.issue(
      user,
      key.name,
      capRole(user.role, key.role),
      lifetime ? new Date(deps.now() + lifetime) : null,
      key.scopes ?? [],
    );
    audit(c, 'token.regenerated', { userId: user.id, detail: `${key.id} → ${fresh.id}` });
    return tokensPage(c, {
      created: { name: fresh.name, token },
      notice: `Regenerated “${key.name}”: the old token no longer works.`,
    });
  });
}

async function createToken(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  if (!(await signedInRecently(c))) return tokensPage(c, {}, 403);
  const form = await formOf(c);
  const name = field(form.name).trim();
  const lifetime = TOKEN_LIFETIMES.find((l) => l.value === field(form.expires)) ?? TOKEN_LIFETIMES[0]!;
  if (!name || [...name].length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    return tokensPage(
      c,
      { error: `Give the token a name of up to ${MAX_NAME} characters (what will use it?).`, name: name.slice(0, 200) },
      400,
    );
  }
  const user = await deps.store.findUserById(s.principal.userId);
  if (!user) return c.redirect(`${deps.prefix}/sign-in`, 303);
  const active = (await deps.store.listApiKeys(user.id)).filter((k) => live(k, deps.now()));
  if (active.length >= MAX_ACTIVE)
    return tokensPage(
      c,
      { error: `You have ${MAX_ACTIVE} active tokens. Disable one you no longer use first.`, name },
      400,
    );
  // Exactly the owner's role, and no scopes (see the file comment).
  const { key, token } = await deps.apiKeys.issue(
    user,
    name,
    user.role,
    lifetime.ms === null ? null : new Date(deps.now() + lifetime.ms),
  );
  audit(c, 'token.created', { userId: user.id, detail: key.id });
  return tokensPage(c, { created: { name: key.name, token } });
}

async function tokensPage(c: AuthContext, notes: Notes = {}, status = 200): Promise<Response> {
  const { store, prefix: P, now } = c.var.deps;
  const s = signedIn(c);
  const keys = await store.listApiKeys(s.principal.userId);
  const t = now();
  const rows: TokenRow[] = keys
    .filter((k) => live(k, t))
    .reverse() // newest first
    .map((k) => ({
      id: k.id,
      name: k.name,
      role: k.role,
      scopes: k.scopes ?? [],
      createdAt: stamp(k.createdAt),
      expiry: expiryText(k),
      lastUsedAt: k.lastUsedAt ? stamp(k.lastUsedAt) : null,
      regenerateHref: `${P}/account/tokens/${encodeURIComponent(k.id)}/regenerate`,
      disableHref: `${P}/account/tokens/${encodeURIComponent(k.id)}/disable`,
    }));
  return page(
    c,
    'account-tokens',
    'Personal tokens',
    {
      csrf: csrfToken(c),
      user: s.principal,
      tokens: rows,
      lifetimes: TOKEN_LIFETIMES.map(({ value, label }) => ({ value, label })),
      created: notes.created ?? null,
      error: notes.error ?? null,
      notice: notes.notice ?? null,
      name: notes.name ?? '',
      reauth: await reauthUnlessRecent(
        c,
        'A personal token acts as you until it expires, so making one',
        `${P}/account/tokens`,
      ),
    },
    status,
  );
}

const live = (k: ApiKey, t: number) => !k.revoked && (k.expiresAt === null || k.expiresAt.getTime() > t);

function expiryText(k: ApiKey): string {
  return k.expiresAt ? `expires ${k.expiresAt.toISOString().slice(0, 10)}` : 'no expiry';
}

/** One of the signed-in user's own live keys; never someone else's, whatever id is typed. */
async function ownKey(c: AuthContext, id: string): Promise<ApiKey | null> {
  const keys = await c.var.deps.store.listApiKeys(signedIn(c).principal.userId);
  return keys.find((k) => k.id === id && live(k, c.var.deps.now())) ?? null;
}

const noSuchToken = (c: AuthContext) =>
  errorPage(c, 404, 'No such token', 'That token does not exist, is not yours, or was already disabled.');
