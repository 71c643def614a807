// Password sign-in: the form, and its check. Rate-limited, locked per address after repeated failures,
// and built so that an unknown address, a wrong password and a locked account look alike.
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { normalizeEmail } from '../accounts/email.js';
import { audit, limited } from './audit.js';
import { field, formOf } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { page, providerButtons } from './pages.js';
import { withReturnTo } from './views.js';
import { passkeySignInLinks } from './passkeys.js';
import { finishSignIn } from './finish-sign-in.js';
import { MAX_PASSWORD_LENGTH, passwordLength } from '../security/password.js';
import { safeReturnTo } from '../security/redirect.js';
import type { User } from '../store/types.js';

interface SignInForm {
  email?: string;
  error?: string | null;
  returnTo: string;
  notice?: string | null;
}

function signInPage(c: AuthContext, data: SignInForm, status = 200): Response {
  const { settings, mailer } = c.var.deps;
  return page(
    c,
    'sign-in',
    'Sign in',
    {
      csrf: csrfToken(c),
      email: data.email ?? '',
      error: data.error ?? null,
      notice: data.notice ?? null,
      returnTo: data.returnTo,
      providers: providerButtons(c, data.returnTo),
      signUpOpen: settings.current().signUp !== 'invite',
      signUpHref: withReturnTo(`${c.var.deps.prefix}/sign-up`, data.returnTo),
      resetAvailable: mailer() !== null,
      passkeySignIn: passkeySignInLinks(c),
    },
    status,
  );
}

export function mountSignIn(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.get(`${P}/sign-in`, (c) => {
    const returnTo = safeReturnTo(c.req.query('return_to'));
    if (c.get('session')) return c.redirect(returnTo, 302);
    const notice = c.req.query('signed_out') !== undefined ? 'You have been signed out.' : null;
    return signInPage(c, { returnTo, notice });
  });

  const expired = csrf({
    signedOutForm: true,
    refuse: (c, form) =>
      signInPage(
        c,
        {
          email: normalizeEmail(form.email),
          returnTo: safeReturnTo(form.return_to),
          error: 'Your form expired. Please try again.',
        },
        403,
      ),
  });

  app.post(`${P}/sign-in`, expired, async (c) => {
    const form = await formOf(c);
    const returnTo = safeReturnTo(form.return_to);
    const email = normalizeEmail(form.email);
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return tooMany;
    const checked = await checkPassword(deps, email, field(form.password));
    if (!checked.user) return refuse(c, email, returnTo, checked);
    const user = checked.user;
    // With mail on, an address must be confirmed before it signs in: otherwise a sign-up policy by
    // domain proves only that someone typed an address. The right password was given, so saying so
    // reveals nothing the visitor does not already know.
    if (deps.mailer() && !user.emailVerified) {
      audit(c, 'sign-in.unverified', { userId: user.id, email });
      return page(
        c,
        'confirm-email',
        'Confirm your email',
        { csrf: csrfToken(c), email: user.email, notice: null },
        403,
      );
    }
    // With a factor set, no session yet: the second step (second-step.ts) audits the sign-in.
    if (!checked.hasFactor) audit(c, 'sign-in.success', { userId: user.id, email });
    return finishSignIn(c, user, 'password', returnTo, checked.hasFactor);
  });
}

/** The outcome of a password check: the user when it passed; else whether the address is (now) locked. */
interface Checked {
  user: User | null;
  /** The user the address belongs to, for the audit line, even when the check failed. */
  known: User | null;
  allowed: boolean;
  lockedNow: boolean;
  /** The user has a second factor: the sign-in is not over yet. */
  hasFactor: boolean;
}

async function checkPassword(deps: AuthServices, email: string, password: string): Promise<Checked> {
  // Lockout is keyed on the email, so an unknown account behaves exactly like a known one.
  const attempt = email ? await deps.lockout.begin(email) : null;
  const allowed = attempt?.allowed ?? true;
  const user =
    allowed && email && passwordLength(password) <= MAX_PASSWORD_LENGTH
      ? await deps.store.findUserByEmail(email)
      : null;
  let ok = false;
  if (user?.passwordHash) {
    const result = await deps.hasher.verify(user.passwordHash, password);
    ok = result.ok && !user.disabled;
    if (ok && result.rehash)
      await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(password) }, new Date(deps.now()));
  } else {
    await deps.hasher.verifyDummy(password); // the same work as a real check: no enumeration by timing
  }
  if (ok && user) {
    // With a second factor the round's failures stand until the code is right too: otherwise the
    // password alone would reset the count, and codes could be guessed without end.
    const hasFactor = await deps.mfa.hasFactor(user.id);
    if (!hasFactor) await attempt?.succeeded();
    return { user, known: user, allowed, lockedNow: false, hasFactor };
  }
  // A locked account answers exactly like a wrong password.
  const lockedNow = attempt ? attempt.lockedNow || (await attempt.failed()) : false;
  return { user: null, known: user, allowed, lockedNow, hasFactor: false };
}

async function refuse(c: AuthContext, email: string, returnTo: string, checked: Checked): Promise<Response> {
  const { allowed, lockedNow, known } = checked;
  const { lockout, mailer } = c.var.deps;
  audit(c, 'sign-in.failure', { email, userId: known?.id, detail: allowed ? undefined : 'locked' });
  if (lockedNow) audit(c, 'lockout', { email, userId: known?.id });
  // Once the lock is on, say so: the lock is keyed on the address alone (unknown addresses lock
  // the same way), so the message tells nothing about who has an account.
  const lockMs = !allowed || lockedNow ? await lockout.lockedFor(email) : 0;
  const error = lockMs > 0 ? lockedMessage(lockMs, mailer() !== null) : 'Incorrect email or password.';
  return signInPage(c, { email, returnTo, error }, 401);
}

function lockedMessage(ms: number, resetAvailable: boolean): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const wait = `try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `Too many attempts for this address: ${wait}${resetAvailable ? ', or reset your password' : ''}.`;
}
