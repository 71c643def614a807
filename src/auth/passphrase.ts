// Mode `passphrase` (architecture.md#access): one shared passphrase instead of accounts. The sign-in page
// asks for it alone; each browser that gives it gets its own session of the reserved passphrase user
// (session/passphrase.ts). Rate limits and lockout apply as for a password, and the account flows —
// sign-up, reset, email verification, social login, the account page and the console — do not exist.
// Mounted before the other route modules; in any other mode every handler here steps aside.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { errorPage, page } from './pages.js';
import { startSession } from './start-session.js';
import { MAX_PASSWORD_LENGTH, passwordLength } from '../security/password.js';
import { safeReturnTo } from '../security/redirect.js';
import { passphraseUser } from '../session/passphrase.js';

/** Everything under the prefix that belongs to accounts: refused in passphrase mode. */
const ACCOUNT_FLOWS = /^\/(sign-up|forgot|reset|verify-email|oauth|account|admin)(\/|$)/;

function passphrasePage(
  c: AuthContext,
  data: { returnTo: string; error?: string | null; notice?: string | null },
  status = 200,
): Response {
  return page(
    c,
    'sign-in-passphrase',
    'Enter the passphrase',
    { csrf: csrfToken(c), returnTo: data.returnTo, error: data.error ?? null, notice: data.notice ?? null },
    status,
  );
}

export function mountPassphrase(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const on = () => deps.settings.current().mode === 'passphrase';

  app.use(`${P}/*`, async function passphraseOnly(c, next) {
    if (on() && ACCOUNT_FLOWS.test(c.req.path.slice(P.length))) {
      return errorPage(
        c,
        404,
        'Not available here',
        'This app is shared with a passphrase: there are no accounts to create, recover or manage.',
      );
    }
    await next();
    return undefined;
  });

  app.get(`${P}/sign-in`, async (c, next) => {
    if (!on()) return next();
    const returnTo = safeReturnTo(c.req.query('return_to'));
    if (c.get('session')) return c.redirect(returnTo, 302);
    const notice = c.req.query('signed_out') !== undefined ? 'You have been signed out.' : null;
    return passphrasePage(c, { returnTo, notice });
  });

  const checked = csrf({
    signedOutForm: true,
    refuse: (c, form) =>
      passphrasePage(c, { returnTo: safeReturnTo(form.return_to), error: 'Your form expired. Please try again.' }, 403),
  });
  app.post(`${P}/sign-in`, async (c, next) => {
    if (!on()) return next();
    let answer: Response | undefined;
    // The CSRF check, run by hand: in other modes this route must step aside before it reads the form.
    const refused = await checked(c, async () => {
      answer = await signIn(c, deps);
    });
    return refused ?? answer!;
  });
}

async function signIn(c: AuthContext, deps: AuthServices): Promise<Response> {
  const form = await formOf(c);
  const returnTo = safeReturnTo(form.return_to);
  const tooMany = await limited(c, 'sign-in');
  if (tooMany) return tooMany;
  // The state file as it is now, not as last polled: `auth passphrase set` in another process has
  // ended the old passphrase the moment it returns, so it must not be accepted a moment longer.
  const hash = (deps.settings.latest?.() ?? deps.settings.current()).passphraseHash;
  // Locked per client address: one shared lock would let anyone lock everyone out with five guesses.
  const key = `passphrase:${c.get('ip')}`;
  const attempt = await deps.lockout.begin(key);
  const given = field(form.passphrase);
  let ok = false;
  if (attempt.allowed && hash && given && passwordLength(given) <= MAX_PASSWORD_LENGTH)
    ok = (await deps.hasher.verify(hash, given)).ok;
  else await deps.hasher.verifyDummy(given);
  if (ok && hash) {
    await attempt.succeeded();
    const user = await passphraseUser(deps.store, hash, new Date(deps.now()));
    await startSession(c, user, 'passphrase');
    audit(c, 'sign-in.success', { userId: 'passphrase', detail: 'passphrase' });
    return c.redirect(returnTo, 303);
  }
  const lockedNow = attempt.lockedNow || (await attempt.failed());
  audit(c, 'sign-in.failure', { detail: attempt.allowed ? 'passphrase' : 'passphrase, locked' });
  if (lockedNow) audit(c, 'lockout', { detail: 'passphrase' });
  const lockMs = !attempt.allowed || lockedNow ? await deps.lockout.lockedFor(key) : 0;
  const error =
    lockMs > 0
      ? `Too many attempts from here: try again in ${Math.max(1, Math.ceil(lockMs / 60_000))} minute(s).`
      : 'That is not the passphrase.';
  return passphrasePage(c, { returnTo, error }, 401);
}
