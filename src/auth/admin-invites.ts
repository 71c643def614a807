// Console › Invitations: create (email, role, how long), list the pending ones, revoke (asked first on
// its own page). The rules are session/invites.ts's, shared with `gatehouse users invite`. A new link
// is shown once, on the answer to the POST that made it (never in a URL), and mailed when SMTP is bound.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { doneNotice, doneRedirect } from './admin-done.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireAdmin, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { stamp, type AdminInvitesView } from './views.js';
import { createInvite, findInvite, inviteLink, InviteError, listInvites, revokeInvite } from '../session/invites.js';
import type { Invite } from '../session/invites.js';

const DONE = { 'revoke-invite': (who: string) => `Revoked the invitation for ${who}: its link no longer works.` };
const EXPIRY = { '1d': 24 * 3600_000, '7d': 7 * 24 * 3600_000, '30d': 30 * 24 * 3600_000 } as const;

export function mountAdminInvites(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const adminOnly = requireAdmin({ prefix: P });
  const adminPost = [adminOnly, csrf({ refuse: formExpiredPage })] as const;

  app.get(`${P}/admin/invites`, adminOnly, (c) =>
    invitesPage(c, { notice: doneNotice(c, signedIn(c).sessionId, DONE) }),
  );

  app.post(`${P}/admin/invites`, ...adminPost, (c) => createFromForm(c));

  app.post(`${P}/admin/invites/:id/revoke`, ...adminPost, async (c) => {
    const invite = await revokeInvite(deps.store, c.req.param('id'), new Date(deps.now()));
    if (!invite) return noSuchInvite(c);
    audit(c, 'invite.revoked', {
      userId: signedIn(c).principal.userId,
      email: invite.email,
      detail: `role ${invite.role}`,
    });
    return doneRedirect(c, signedIn(c).sessionId, `${P}/admin/invites`, 'revoke-invite', invite.email);
  });

  // Revoking asks first, naming the invitation, like every destructive action of the console.
  app.get(`${P}/admin/invites/:id/revoke`, adminOnly, async (c) => {
    const invite = await findInvite(deps.store, c.req.param('id'), new Date(deps.now()));
    return invite ? confirmRevokePage(c, invite) : noSuchInvite(c);
  });
}

function noSuchInvite(c: AuthContext): Response {
  return errorPage(c, 404, 'No such invitation', 'That invitation was used, has expired or was already revoked.');
}

function confirmRevokePage(c: AuthContext, invite: Invite): Response {
  const P = c.var.deps.prefix;
  return page(c, 'admin-confirm', 'Revoke this invitation?', {
    csrf: csrfToken(c),
    heading: 'Revoke this invitation?',
    button: 'Revoke invitation',
    danger: true,
    effect: 'Its sign-up link stops working at once. You can invite the address again later.',
    cancel: `${P}/admin/invites`,
    action: `${P}/admin/invites/${invite.id}/revoke`,
    subject: {
      title: invite.email,
      badge: invite.role,
      detail: `invitation valid until ${invite.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    },
  });
}

/** Creates an invitation from the console's form; the link is shown once, on this answer. */
async function createFromForm(c: AuthContext): Promise<Response> {
  const deps = c.var.deps;
  const form = await formOf(c);
  const input = {
    email: field(form.email).trim().slice(0, 320),
    role: field(form.role).trim().slice(0, 32) || 'member',
    expires: field(form.expires),
  };
  const ttlMs = Object.hasOwn(EXPIRY, input.expires) ? EXPIRY[input.expires as keyof typeof EXPIRY] : null;
  if (ttlMs === null) return invitesPage(c, { form: input, error: 'Choose how long the invitation lasts.' }, 400);
  try {
    const at = new Date(deps.now());
    const { invite, secret } = await createInvite(deps.store, { email: input.email, role: input.role, ttlMs }, at);
    const link = inviteLink(deps.linkOrigin(), deps.prefix, secret, invite.email);
    const mailed = mailInvite(deps, invite.email, link);
    audit(c, 'invite.created', {
      userId: signedIn(c).principal.userId,
      email: invite.email,
      detail: `role ${invite.role}, until ${invite.expiresAt.toISOString()}`,
    });
    const created = { email: invite.email, role: invite.role, link, expires: stamp(invite.expiresAt), mailed };
    return invitesPage(c, { created }, 201);
  } catch (err) {
    if (err instanceof InviteError) return invitesPage(c, { form: input, error: err.message }, 400);
    throw err;
  }
}

/** Sends the link when mail is set up; true when it was handed to the mailer (sent in the background). */
function mailInvite(deps: AuthServices, to: string, link: string): boolean {
  const mailer = deps.mailer();
  if (!mailer) return false;
  mailer
    .send({
      to,
      subject: `You are invited to ${deps.appName}`,
      text:
        `Hello,\n\nYou are invited to ${deps.appName}. Create your account with this link (single use):\n\n` +
        `${link}\n\nIf you did not expect this, ignore this message.\n`,
    })
    .catch((err: Error) => deps.log(`gatehouse: mail to ${to} failed: ${err.message}`));
  return true;
}

async function invitesPage(
  c: AuthContext,
  parts: Partial<Pick<AdminInvitesView, 'created' | 'form' | 'error' | 'notice'>>,
  status = 200,
): Promise<Response> {
  const { store, prefix: P, settings, now } = c.var.deps;
  const invites = await listInvites(store, new Date(now()));
  return page(
    c,
    'admin-invites',
    'Invitations',
    {
      csrf: csrfToken(c),
      invites: invites.map((i) => ({
        id: i.id,
        email: i.email,
        role: i.role,
        expires: stamp(i.expiresAt),
        revokeHref: `${P}/admin/invites/${i.id}/revoke`,
      })),
      created: parts.created ?? null,
      form: parts.form ?? { email: '', role: 'member', expires: '7d' },
      error: parts.error ?? null,
      notice: parts.notice ?? null,
      signUp: settings.current().signUp,
    },
    status,
  );
}
