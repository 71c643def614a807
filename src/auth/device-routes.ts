// HTTP of the device authorization grant (RFC 8628, docs/architecture.md#oauth; the protocol is
// oauth/device.ts): the device authorization endpoint, and /auth/device where a signed-in person enters (or, from
// verification_uri_complete, confirms) the user code and approves or denies. Unlike the rest of
// src/oauth/, this answers without any MCP resource configured: the built-in `gatehouse-cli` client
// gets tokens for the whole app. Wrong user codes block the IP like pairing codes do.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { isAdmin, requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { createBlocker, PAIRING_BLOCK, type Blocker } from '../security/rate-limit.js';
import { NO_STORE, OAuthError, oauthErrorResponse } from '../oauth/errors.js';
import { resourceByUrl } from '../oauth/resources.js';
import { verifiedByDeployment } from '../oauth/clients.js';
import {
  CLI_CLIENT_ID,
  checkDeviceRequest,
  deviceAuthorizationResponse,
  issueDeviceCodes,
  normalUserCode,
  showUserCode,
  userHashOf,
} from '../oauth/device.js';

const WRONG =
  'That code is not valid. Check it against your device, or start again there: a code works once, for 10 minutes.';

const originOf = (c: AuthContext) => c.var.deps.publicOrigin ?? c.get('ourOrigin');
const stringOr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function mountDeviceGrant(app: Hono<AuthEnv>, deps: AuthServices): void {
  mountDeviceAuthorization(app, deps);
  mountDeviceApproval(app, deps);
}

/** The device authorization endpoint, where a device asks for its device and user codes. */
function mountDeviceAuthorization(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  // Called by devices in any origin, with no cookie: open CORS like the token endpoint.
  app.options(`${P}/oauth/device_authorization`, (c) =>
    c.body(null, 204, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
    }),
  );
  app.post(`${P}/oauth/device_authorization`, async (c) => {
    c.header('access-control-allow-origin', '*');
    const tooMany = await limited(c, 'oauth-device');
    if (tooMany) {
      const res = oauthErrorResponse(
        new OAuthError(
          'temporarily_unavailable',
          'too many device authorizations from this network; wait a little',
          429,
        ),
      );
      res.headers.set('retry-after', tooMany.headers.get('retry-after') ?? '60');
      return res;
    }
    const form = await formOf(c);
    try {
      const req = await checkDeviceRequest(
        { client_id: stringOr(form.client_id), scope: stringOr(form.scope), resource: stringOr(form.resource) },
        { store: deps.store, now: new Date(deps.now()), origin: originOf(c), resources: deps.settings.current().mcp },
      );
      const issued = await issueDeviceCodes(deps.store, req, deps.now());
      audit(c, 'device.requested', { detail: `${req.client.id} ${req.resourceUrl}` });
      return c.json(deviceAuthorizationResponse(issued, `${deps.linkOrigin()}${P}/device`), 200, NO_STORE);
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(err);
      throw err;
    }
  });
}

/** /auth/device: the signed-in person enters or confirms the user code, then approves or denies. */
function mountDeviceApproval(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const block = createBlocker(deps.store, 'device', PAIRING_BLOCK, deps.now);

  // The link of verification_uri_complete fills the code in and shows what approving means; only the
  // POST below decides. A signed-out visitor signs in first and comes back here.
  app.get(`${P}/device`, async (c) => {
    const refused = await blocked(c, block);
    if (refused) return refused;
    const self = new URL(c.req.url);
    if (!c.get('session'))
      return c.redirect(`${P}/sign-in?return_to=${encodeURIComponent(self.pathname + self.search)}`, 302);
    const typed = (c.req.query('user_code') ?? '').slice(0, 16);
    return typed ? confirmOrRetry(c, block, typed) : entryPage(c, '', null);
  });

  app.post(
    `${P}/device`,
    requireSession({ redirect: 303, returnTo: `${P}/device` }),
    csrf({ refuse: formExpiredPage }),
    async (c) => {
      const refused = await blocked(c, block);
      if (refused) return refused;
      return confirmOrRetry(c, block, field((await formOf(c)).user_code).slice(0, 16));
    },
  );

  app.post(
    `${P}/device/decide`,
    requireSession({ redirect: 303, returnTo: `${P}/device` }),
    csrf({ refuse: formExpiredPage }),
    async (c) => {
      const refused = await blocked(c, block);
      if (refused) return refused;
      const form = await formOf(c);
      const code = normalUserCode(field(form.user_code));
      const s = signedIn(c);
      const approve = field(form.decision) === 'approve';
      // One conditional UPDATE: of two tabs (or two people) deciding the same code, one wins.
      const won =
        code !== null &&
        (await deps.store.decideDeviceAuthorization(
          userHashOf(code),
          approve ? 'approved' : 'denied',
          s.principal.userId,
          new Date(deps.now()),
        ));
      if (!won) return refuse(c, block, field(form.user_code).slice(0, 16));
      audit(c, approve ? 'device.approved' : 'device.denied', { userId: s.principal.userId, email: s.principal.email });
      return page(c, 'message', approve ? 'Device connected' : 'Request denied', {
        heading: approve ? 'Device connected' : 'Request denied',
        message: approve
          ? 'You can go back to your device: it continues on its own in a few seconds.'
          : 'The device was refused. Nothing was connected.',
        link: { href: `${P}/account`, label: 'Back to your account' },
      });
    },
  );
}

async function confirmOrRetry(c: AuthContext, block: Blocker, typed: string): Promise<Response> {
  const { store, now, settings } = c.var.deps;
  const code = normalUserCode(typed);
  const auth = code ? await store.findPendingDeviceAuthorization(userHashOf(code), new Date(now())) : null;
  const client = auth ? await store.findOAuthClient(auth.clientId) : null;
  // A metadata-document client's flow started before the device grant refused them is not shown either.
  if (!auth || !client || !code || client.kind === 'cimd') return refuse(c, block, typed);
  const s = signedIn(c);
  const resource = resourceByUrl(settings.current().mcp, originOf(c), auth.resource);
  return page(c, 'device-confirm', `Connect ${client.name}?`, {
    csrf: csrfToken(c),
    email: s.principal.email,
    clientName: client.name,
    unverified: !verifiedByDeployment(client),
    userCode: showUserCode(code),
    resourceName: resource?.name ?? null,
    resourceUrl: auth.resource,
    scopes: auth.scopes ? auth.scopes.split(' ') : [],
    adminApi: client.id === CLI_CLIENT_ID && !resource && isAdmin(s.principal),
  });
}

/** A wrong, used or expired code: counted against this IP (5 a minute block it for 5 minutes). */
async function refuse(c: AuthContext, block: Blocker, typed: string): Promise<Response> {
  audit(c, 'device.refused', { userId: c.get('session')?.principal.userId ?? null });
  const wait = await block.failed(c.get('ip'));
  if (wait > 0) return tooMany(c, wait);
  return entryPage(c, typed, WRONG, 400);
}

function entryPage(c: AuthContext, code: string, error: string | null, status = 200): Response {
  return page(
    c,
    'device',
    'Connect a device',
    { csrf: csrfToken(c), email: signedIn(c).principal.email, code, error },
    status,
  );
}

async function blocked(c: AuthContext, block: Blocker): Promise<Response | null> {
  const wait = await block.blockedFor(c.get('ip'));
  return wait > 0 ? tooMany(c, wait) : null;
}

function tooMany(c: AuthContext, wait: number): Response {
  audit(c, 'rate-limited', { detail: 'device' });
  return errorPage(
    c,
    429,
    'Too many wrong codes',
    'This network entered too many wrong codes. Wait a few minutes, then start again on your device.',
    wait,
  );
}
