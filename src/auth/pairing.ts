// Pairing a second device (docs/architecture.md#devices). The signed-in device asks for a code on the account page and
// shows it as text, a link and a QR code; the new device opens /auth/pair (the link fills the code in,
// but only the POST uses it up, so a link previewer cannot spend it) and gets its own session, which
// the account page lists with the device it came from. Wrong codes block the IP (security/rate-limit.ts).
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { startSession } from './start-session.js';
import { stamp } from './views.js';
import { describeAgent } from './agents.js';
import { consumePairingCode, issuePairingCode, normalCode, pairingLink, PAIR_TTL_MS } from '../session/pairing.js';
import { createBlocker, PAIRING_BLOCK, type Blocker } from '../security/rate-limit.js';

const WRONG = 'That code is not valid. Check it, or ask for a new one: a code works once, for 5 minutes.';

export function mountPairing(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const block = createBlocker(deps.store, 'pair', PAIRING_BLOCK, deps.now);

  app.post(`${P}/account/pair`, requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage }), async (c) => {
    const s = signedIn(c);
    const from = describeAgent(c.get('userAgent')) ?? 'an unknown device';
    const { code, expiresAt } = await issuePairingCode(deps.store, s.principal.userId, from, deps.now());
    audit(c, 'pairing.created', { userId: s.principal.userId });
    const link = pairingLink(deps.linkOrigin(), P, code);
    return page(c, 'pair-code', 'Pair a device', {
      code,
      link,
      qrSvg: await (await import('qrcode')).toString(link, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }),
      expiresAt: stamp(expiresAt),
      minutes: PAIR_TTL_MS / 60_000,
    });
  });

  // Blocked IPs are refused here too: the block is on /auth/pair, whatever the method.
  app.get(
    `${P}/pair`,
    async (c) => (await blocked(c, block)) ?? pairPage(c, { code: (c.req.query('code') ?? '').slice(0, 16) }),
  );

  app.post(
    `${P}/pair`,
    csrf({
      signedOutForm: true,
      refuse: (c, form) =>
        pairPage(c, { code: field(form.code).slice(0, 16), error: 'Your form expired. Please try again.' }, 403),
    }),
    async (c) => {
      const refused = await blocked(c, block);
      if (refused) return refused;
      const typed = field((await formOf(c)).code);
      const code = normalCode(typed);
      const token = code ? await consumePairingCode(deps.store, code, deps.now()) : null;
      const user = token?.userId ? await deps.store.findUserById(token.userId) : null;
      if (!token || !user || user.disabled) {
        audit(c, 'pairing.refused', { userId: user?.id ?? null });
        const wait = await block.failed(c.get('ip'));
        if (wait > 0) return tooMany(c, wait);
        return pairPage(c, { code: typed.slice(0, 16), error: WRONG }, 400);
      }
      await startSession(c, user, 'pairing', { pairedFrom: token.note ?? null });
      audit(c, 'pairing.used', { userId: user.id, email: user.email, detail: token.note ?? undefined });
      return c.redirect('/', 303);
    },
  );
}

function pairPage(c: AuthContext, data: { code: string; error?: string }, status = 200): Response {
  return page(
    c,
    'pair',
    'Sign in with a code',
    { csrf: csrfToken(c), code: data.code, error: data.error ?? null },
    status,
  );
}

async function blocked(c: AuthContext, block: Blocker): Promise<Response | null> {
  const wait = await block.blockedFor(c.get('ip'));
  return wait > 0 ? tooMany(c, wait) : null;
}

function tooMany(c: AuthContext, wait: number): Response {
  audit(c, 'rate-limited', { detail: 'pair' });
  return errorPage(
    c,
    429,
    'Too many wrong codes',
    'This network entered too many wrong codes. Wait a few minutes, then try again with a new code.',
    wait,
  );
}
