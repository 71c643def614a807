// Sign-up: open, by email domain, or by invitation; and the one-time setup link that makes the first
// admin. With mail, a new account confirms its address before it signs in.
import { inviteRole } from '../session/invites.js';
import type { Hono } from 'hono';
import type { AuthContext, AuthEnv, AuthServices } from './context.js';
import { EMAIL_MESSAGES, isDomainAllowed, normalizeEmail, parseEmail, type EmailProblem } from '../accounts/email.js';
import { audit, limited } from './audit.js';
import { field, formOf, tokenParam, type Form } from './form.js';
import { csrf, csrfToken } from './middleware/csrf.js';
import { errorPage, page, providerButtons } from './pages.js';
import { sendAccountExistsEmail, sendVerificationEmail } from './mail-jobs.js';
import { startSession } from './start-session.js';
import { afterSignIn } from './finish-sign-in.js';
import {
  burnSetupLinks,
  consumeSetupLink,
  SETUP_LINK_GONE,
  setupLinkStatus,
  type SetupLinkStatus,
} from './setup-link.js';
import { checkPasswordPolicy, PASSWORD_MESSAGES } from '../security/password.js';
import { safeReturnTo } from '../security/redirect.js';
import { sha256Hex } from '../security/tokens.js';
import { isStoreError, type User } from '../store/types.js';
import { withReturnTo, type SignUpView } from './views.js';

type SignUpErrors = SignUpView['errors'];

/** What the visitor typed (and the link they came with), to show the form again. */
interface SignUpForm {
  name: string;
  email: string;
  /** Why the typed address cannot make an account, or null when it can. */
  emailProblem: EmailProblem | null;
  password: string;
  returnTo: string;
  setup: string | null;
  invite: string | null;
}

function signUpPage(
  c: AuthContext,
  data: Omit<SignUpForm, 'password' | 'emailProblem'>,
  errors: SignUpErrors = {},
  status = 200,
): Response {
  return page(
    c,
    'sign-up',
    data.setup ? 'Create the admin account' : 'Create your account',
    {
      csrf: csrfToken(c),
      name: data.name,
      email: data.email,
      errors,
      returnTo: data.returnTo,
      providers: providerButtons(c, data.returnTo),
      setup: data.setup,
      invite: data.invite,
      isSetup: data.setup !== null,
      focus: errors.name
        ? 'name'
        : errors.email
          ? 'email'
          : errors.password
            ? 'password'
            : Object.keys(errors).length
              ? null
              : 'name',
      signInHref: withReturnTo(`${c.var.deps.prefix}/sign-in`, data.returnTo),
    },
    status,
  );
}

/** A setup link that no longer works says so, instead of a form that can only fail. */
function setupLinkGone(c: AuthContext, status: Exclude<SetupLinkStatus, 'valid'>): Response {
  const link = status === 'admin-exists' ? { href: `${c.var.deps.prefix}/sign-in`, label: 'Go to sign in' } : null;
  return page(
    c,
    'message',
    'Setup link not valid',
    { heading: 'This setup link does not work any more', message: SETUP_LINK_GONE[status], link },
    410,
  );
}

function readForm(form: Form): SignUpForm {
  const parsed = parseEmail(form.email);
  return {
    name: field(form.name).trim(),
    email: parsed.ok ? parsed.email : normalizeEmail(form.email),
    emailProblem: parsed.ok ? null : parsed.reason,
    password: field(form.password),
    returnTo: safeReturnTo(form.return_to),
    setup: typeof form.setup === 'string' && form.setup && form.setup.length <= 128 ? form.setup : null,
    invite: tokenParam(form.invite),
  };
}

export function mountSignUp(app: Hono<AuthEnv>, deps: AuthServices): void {
  const P = deps.prefix;

  app.get(`${P}/sign-up`, async (c) => {
    const returnTo = safeReturnTo(c.req.query('return_to'));
    const setup = c.req.query('setup') || null;
    const invite = tokenParam(c.req.query('invite'));
    if (c.get('session') && !setup) return c.redirect(returnTo, 302);
    if (setup) {
      const status = await setupLinkStatus(deps.store, setup, new Date(deps.now()));
      if (status !== 'valid') return setupLinkGone(c, status);
    }
    if (deps.settings.current().signUp === 'invite' && !setup && !invite) {
      return errorPage(c, 403, 'Sign-up is by invitation', 'Ask an administrator of this app for an invitation.');
    }
    const data = {
      name: '',
      returnTo,
      setup: setup && setup.length <= 128 ? setup : null,
      invite,
      email: c.req.query('email') ?? '',
    };
    return signUpPage(c, data);
  });

  const expired = csrf({
    signedOutForm: true,
    refuse: (c, form) => signUpPage(c, readForm(form), { form: 'Your form expired. Please try again.' }, 403),
  });

  app.post(`${P}/sign-up`, expired, async (c) => {
    const input = readForm(await formOf(c));
    const tooMany = await limited(c, 'sign-up');
    if (tooMany) return tooMany;
    const errors = signUpErrors(c, input);
    if (Object.keys(errors).length) return signUpPage(c, input, errors, 400);
    const grant = await roleFor(c, input);
    if ('refused' in grant) return grant.refused;
    return createAccount(c, input, grant);
  });
}

function signUpErrors(c: AuthContext, input: SignUpForm): SignUpErrors {
  const { settings: source, mailer } = c.var.deps;
  const { name, email, setup, invite } = input;
  const settings = source.current();
  const errors: SignUpErrors = {};
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name))
    errors.name = 'Enter your name (up to 100 characters).';
  if (input.emailProblem) errors.email = EMAIL_MESSAGES[input.emailProblem];
  else if (settings.signUp === 'domains' && !isDomainAllowed(email, settings.allowedDomains)) {
    errors.email = 'Sign-up is limited to approved email domains.';
  }
  const problem = checkPasswordPolicy(input.password, email);
  if (problem) errors.password = PASSWORD_MESSAGES[problem];
  if (settings.signUp === 'invite' && !setup && !invite) errors.form = 'Sign-up is by invitation only.';
  // The domain policy means "people who own an address there": without mail nothing proves that,
  // so password sign-up takes an invitation (social login brings an IdP-verified address).
  if (settings.signUp === 'domains' && !mailer() && !setup && !invite && !errors.email) {
    errors.form =
      'Sign-up here needs a confirmed address: sign up with a provider below, or ask ' +
      'an administrator for an invitation.';
  }
  return errors;
}

/** The new account's role, and whether its address counts as confirmed; or the page refusing the link. */
type Grant = { role: User['role']; vouched: boolean } | { refused: Response };

async function roleFor(c: AuthContext, input: SignUpForm): Promise<Grant> {
  const { store, demo, now } = c.var.deps;
  const at = new Date(now());
  if (input.setup) {
    // Single-use: of two people racing with one link, exactly one becomes admin; and once an admin
    // exists no other link (leaked, or printed before the admin was made) makes another.
    const status = await consumeSetupLink(store, input.setup, at);
    return status === 'valid' ? { role: 'admin', vouched: false } : { refused: setupLinkGone(c, status) };
  }
  if (input.invite) {
    // Single-use and bound to the invited address; a mismatch puts the invitation back untouched.
    const token = await store.consumeToken(sha256Hex(input.invite), 'invite', at);
    if (!token)
      return { refused: signUpPage(c, input, { form: 'This invitation is invalid, expired or already used.' }, 400) };
    if (token.email && normalizeEmail(token.email) !== input.email) {
      await store.createToken(token);
      return { refused: signUpPage(c, input, { email: 'This invitation is for another email address.' }, 400) };
    }
    // An invitation bound to this very address counts as a confirmed address.
    return { role: inviteRole(token), vouched: token.email !== null };
  }
  // The demo on your own machine: the first local account administers it.
  if (demo && c.get('loopbackPeer') && (await store.countUsers()) === 0) return { role: 'admin', vouched: false };
  return { role: 'member', vouched: false };
}

async function createAccount(
  c: AuthContext,
  input: SignUpForm,
  grant: { role: User['role']; vouched: boolean },
): Promise<Response> {
  const deps = c.var.deps;
  const { name, email, password, setup, invite, returnTo } = input;
  // With mail, sign-up answers "check your email" whether or not the address has an account, so the
  // form cannot be used to find out who is registered; the new user confirms, then signs in.
  const viaMail = deps.mailer() !== null && !setup && !invite;
  const passwordHash = await deps.hasher.hash(password); // before the insert: both paths cost one hash
  let user: User;
  try {
    user = await deps.store.createUser(
      { email, name, role: grant.role, passwordHash, emailVerified: grant.vouched },
      new Date(deps.now()),
    );
  } catch (err) {
    if (!isStoreError(err, 'DUPLICATE')) throw err;
    if (!viaMail)
      return signUpPage(c, input, { email: 'An account with this email already exists. Sign in instead.' }, 400);
    sendAccountExistsEmail(deps, email);
    return checkEmailPage(c, email);
  }
  // Setup is over: every setup link still stored (older prints, other copies) dies with this one.
  if (grant.role === 'admin') await burnSetupLinks(deps.store);
  // An invited admin is a sign-up.
  audit(c, grant.role === 'admin' && !invite ? 'setup.admin-created' : 'sign-up', { userId: user.id, email });
  if (viaMail) {
    await sendVerificationEmail(deps, user);
    return checkEmailPage(c, email);
  }
  // Signed in at once (setup link, invitation, or no mail) — but with mail on, an address nobody
  // confirmed still gets its link, since the next sign-in will ask for it.
  if (!user.emailVerified) await sendVerificationEmail(deps, user);
  await startSession(c, user, 'password');
  return c.redirect(afterSignIn(c, returnTo), 303); // GATEHOUSE_MFA may ask for a factor first
}

function checkEmailPage(c: AuthContext, email: string): Response {
  return page(c, 'message', 'Check your email', {
    heading: 'Check your email',
    message:
      `We sent a message to ${email}. Open the link in it to confirm your address, ` +
      'then sign in with your password.',
    link: { href: `${c.var.deps.prefix}/sign-in`, label: 'Go to sign in' },
  });
}
