// Account › Security (architecture.md#mfa): the user's factors, enrolling an authenticator app, new
// recovery codes, and removing the app (with a code or the current password). Every change is audited
// and mailed (code-check.ts, factorChanged). Passkeys and personal tokens have their own pages; this
// one links to them.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { requireSession, signedIn } from './middleware/session.js';
import { errorPage, formExpiredPage, page } from './pages.js';
import { checkCode, factorChanged } from './code-check.js';
import { startSession } from './start-session.js';
import { stamp, withReturnTo, type SecurityView } from './views.js';
import { amrOf, hasSecondFactor, mustEnrol } from '../mfa/policy.js';
import { reauthUnlessRecent, signedInRecently } from './recent-sign-in.js';
import { safeReturnTo } from '../security/redirect.js';
import type { User } from '../store/types.js';

type SecurityNotes = { errors?: SecurityView['errors']; notice?: string | null };

async function securityPage(c: AuthContext, user: User, notes: SecurityNotes = {}, status = 200): Promise<Response> {
  const { mfa, prefix: P } = c.var.deps;
  const s = signedIn(c);
  const st = await mfa.status(user.id);
  return page(
    c,
    'security',
    'Security',
    {
      csrf: csrfToken(c),
      user: s.principal,
      totp: st.totp ? { since: stamp(st.totp.since) } : null,
      recoveryLeft: st.recoveryLeft,
      hasPassword: user.passwordHash !== null,
      passkeysHref: `${P}/account/passkeys`,
      tokensHref: `${P}/account/tokens`,
      errors: notes.errors ?? {},
      notice: notes.notice ?? null,
    },
    status,
  );
}

/** The signed-in user's record; a session whose user is gone is sent to sign in. */
async function currentUser(c: AuthContext): Promise<User | null> {
  return c.var.deps.store.findUserById(signedIn(c).principal.userId);
}

export function mountMfaAccount(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;
  const signedInPost = [requireSession({ redirect: 303 }), csrf({ refuse: formExpiredPage })] as const;
  const gone = (c: AuthContext) => c.redirect(`${P}/sign-in`, 303);

  app.get(`${P}/account/security`, requireSession({ redirect: 302, returnTo: `${P}/account/security` }), async (c) => {
    const user = await currentUser(c);
    return user ? securityPage(c, user) : gone(c);
  });

  app.get(`${P}/account/totp`, requireSession({ redirect: 302, returnTo: `${P}/account/totp` }), async (c) => {
    const user = await currentUser(c);
    if (!user) return gone(c);
    const returnTo = safeReturnTo(c.req.query('return_to'));
    return enrolPage(c, user, returnTo, null);
  });

  app.post(`${P}/account/totp`, ...signedInPost, async (c) => {
    const user = await currentUser(c);
    return user ? confirmApp(c, user) : gone(c);
  });

  app.post(`${P}/account/recovery-codes`, ...signedInPost, async (c) => {
    const user = await currentUser(c);
    if (!user) return gone(c);
    if (!(await deps.mfa.hasFactor(user.id)))
      return errorPage(
        c,
        400,
        'No authenticator app',
        'Recovery codes come with an authenticator app. Set one up first.',
      );
    const codes = await deps.mfa.regenerateRecoveryCodes(user.id);
    factorChanged(c, user, 'recovery-regenerated');
    return page(c, 'recovery-codes', 'Recovery codes', {
      heading: 'New recovery codes',
      codes,
      continueHref: `${P}/account/security`,
    });
  });

  app.post(`${P}/account/totp/remove`, ...signedInPost, async (c) => {
    const user = await currentUser(c);
    if (!user) return gone(c);
    const form = await formOf(c);
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return tooMany;
    const proof = await proveIt(c, user, field(form.code), field(form.current_password));
    if (proof) return securityPage(c, user, { errors: { code: proof.error } }, proof.status);
    if (await deps.mfa.removeApp(user.id)) factorChanged(c, user, 'removed');
    return securityPage(c, user, { notice: 'The authenticator app and its recovery codes were removed.' });
  });
}

/** The first code from a newly scanned app turns it on; the answer shows its recovery codes once. */
async function confirmApp(c: AuthContext, user: User): Promise<Response> {
  const { mfa, prefix: P } = c.var.deps;
  const form = await formOf(c);
  const returnTo = safeReturnTo(form.return_to);
  const tooMany = await limited(c, 'sign-in');
  if (tooMany) return tooMany;
  if (!(await signedInRecently(c))) return enrolPage(c, user, returnTo, null, 403);
  const codes = await mfa.confirmEnrolment(user.id, field(form.code).replace(/\s/g, ''));
  if (!codes) {
    const error = 'That code is not right. Check the time on your phone, then enter the newest code.';
    return enrolPage(c, user, returnTo, error, 400);
  }
  factorChanged(c, user, 'enrolled');
  // The code just shown proves the factor: this session continues, under a new token, as one made with it.
  const s = signedIn(c);
  await startSession(c, user, s.principal.provider, {
    amr: [...(s.principal.amr ?? amrOf(s.principal.provider)).filter((m) => m !== 'otp'), 'otp'],
  });
  return page(c, 'recovery-codes', 'Recovery codes', {
    heading: 'Authenticator app is on',
    codes,
    continueHref: returnTo === '/' ? `${P}/account/security` : returnTo,
  });
}

async function enrolPage(
  c: AuthContext,
  user: User,
  returnTo: string,
  error: string | null,
  status = 200,
): Promise<Response> {
  const deps = c.var.deps;
  const s = signedIn(c);
  const required = mustEnrol(deps.settings.current().mfa, s.principal);
  const here = returnTo === '/' ? `${deps.prefix}/account/totp` : withReturnTo(`${deps.prefix}/account/totp`, returnTo);
  const reauth = await reauthUnlessRecent(
    c,
    'An authenticator app becomes part of how you sign in, so setting one up',
    here,
  );
  if (reauth) {
    return page(
      c,
      'totp',
      'Set up an authenticator app',
      { csrf: csrfToken(c), secret: '', secretGroups: '', uri: '', qr: '', returnTo, error: null, required, reauth },
      status === 200 ? 200 : 403,
    );
  }
  const enrolment = await deps.mfa.startEnrolment(user, deps.appName);
  if (!enrolment) {
    // Already set up (in another browser, say): this session shows a code instead.
    const next = hasSecondFactor(s.principal.amr)
      ? returnTo === '/'
        ? `${deps.prefix}/account/security`
        : returnTo
      : withReturnTo(`${deps.prefix}/step-up`, returnTo);
    return c.redirect(next, 302);
  }
  return page(
    c,
    'totp',
    'Set up an authenticator app',
    {
      csrf: csrfToken(c),
      secret: enrolment.secret,
      secretGroups: enrolment.secret.replace(/(.{4})(?=.)/g, '$1 '),
      uri: enrolment.uri,
      qr: enrolment.qr,
      returnTo,
      error,
      required,
      reauth: null,
    },
    status,
  );
}

/** Removing a factor needs a code, or the current password; both are checked under the lockout. */
async function proveIt(
  c: AuthContext,
  user: User,
  code: string,
  password: string,
): Promise<{ status: number; error: string } | null> {
  const deps = c.var.deps;
  if (code.trim()) {
    const checked = await checkCode(c, user, code);
    return checked.ok ? null : { status: checked.status, error: checked.error };
  }
  if (!password || !user.passwordHash)
    return { status: 400, error: 'Enter a code from your app or a recovery code, or your current password.' };
  const attempt = await deps.lockout.begin(user.email);
  if (!attempt.allowed) return { status: 429, error: 'Too many wrong attempts. Wait a few minutes, then try again.' };
  if (!(await deps.hasher.verify(user.passwordHash, password)).ok) {
    if (await attempt.failed()) audit(c, 'lockout', { email: user.email, userId: user.id });
    audit(c, 'password.change-failed', { userId: user.id, detail: 'removing the second factor' });
    return { status: 400, error: 'That is not your current password.' };
  }
  await attempt.succeeded();
  return null;
}
