// Gatehouse's own pages and endpoints under the auth prefix. Hono handles only these; proxied app
// traffic never enters Hono (see proxy/gate.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { ourOrigin, type AuthContext, type AuthDeps, type AuthEnv, type AuthKit } from './context.js';
import { mountPasswordReset, sendAccountExistsEmail, sendPasswordChangedEmail, sendVerificationEmail } from './reset.js';
import { EMAIL_MESSAGES, isDomainAllowed, normalizeEmail, parseEmail } from './email.js';
import { mountSocialLogin } from '../oidc/routes.js';
import { mountAdmin } from './admin.js';
import { labelOf } from '../oidc/providers.js';
import { clearCookie, readCookie, serializeCookie } from '../session/cookies.js';
import { principalOf, type ResolvedSession } from '../session/sessions.js';
import { bearerApiKey } from '../session/api-keys.js';
import { csrfTokenFor, isValidCsrfToken, newCsrfCookieValue, requestOrigin } from '../security/csrf.js';
import { safeReturnTo } from '../security/redirect.js';
import { isLoopback } from '../security/client-ip.js';
import { SECURITY_HEADERS } from '../security/headers.js';
import { checkPasswordPolicy, HasherBusyError, MAX_PASSWORD_LENGTH, PASSWORD_MESSAGES, passwordLength } from '../security/password.js';
import { sha256Hex } from '../security/tokens.js';
import { identityHeaders } from '../proxy/headers.js';
import { checkMode, originalRequest, redirectsToSignIn, signInLocation } from './forward-auth.js';
import { burnSetupLinks, consumeSetupLink, SETUP_LINK_GONE, setupLinkStatus, type SetupLinkStatus } from './setup-link.js';
import type { LimitKind } from '../security/rate-limit.js';
import { isStoreError, type User } from '../store/types.js';

type Env = AuthEnv;
type C = AuthContext;

const MAX_FORM_BYTES = 64 * 1024;
const FORM_TYPES = /^\s*(multipart\/form-data|application\/x-www-form-urlencoded)\b/i;
// From src/auth (tsx) and from dist/auth (compiled) alike, ../../docs is the package root's docs/.
const AGENT_GUIDE = new URL('../../docs/agent-skill.md', import.meta.url);
const ASSETS: Record<string, string> = { 'gatehouse.css': 'text/css; charset=utf-8', 'gatehouse.js': 'text/javascript; charset=utf-8' };
const ALIASES: Record<string, string> = {
  login: 'sign-in', signin: 'sign-in', 'log-in': 'sign-in',
  signup: 'sign-up', register: 'sign-up',
  logout: 'sign-out', signout: 'sign-out', 'log-out': 'sign-out',
};

const field = (v: unknown): string => (typeof v === 'string' ? v : '');

export function createAuthApp(deps: AuthDeps): Hono<Env> {
  const P = deps.prefix;
  const app = new Hono<Env>();
  const secret = () => deps.settings.current().secret;

  const page = (c: C, view: string, title: string, data: Record<string, unknown>, status = 200) =>
    c.html(deps.renderer.render(view, { appName: deps.appName, prefix: P, title, ...data }), status as 200);

  const errorPage = (c: C, status: number, heading: string, message: string, retryAfter: number | null = null) => {
    if (retryAfter !== null) c.header('retry-after', String(retryAfter));
    return page(c, 'error', heading, { status, heading, message, retryAfter }, status);
  };

  const providerButtons = (returnTo: string) =>
    deps.providers().map((p) => ({
      name: p.name,
      label: labelOf(p),
      startUrl: `${P}/oauth/${p.name}/start${returnTo === '/' ? '' : `?return_to=${encodeURIComponent(returnTo)}`}`,
    }));

  const limited = async (c: C, kind: LimitKind, account?: string) => {
    const verdict = await deps.limits.check(kind, c.get('ip'), account);
    if (verdict.ok) return null;
    deps.audit.record('rate-limited', { email: account ?? null, ip: c.get('ip'), userAgent: c.get('userAgent'), detail: kind });
    return errorPage(c, 429, 'Too many attempts', 'Please wait a little before trying again.', verdict.retryAfterSec);
  };

  const csrfField = (c: C) => {
    let cookie = c.get('csrfCookie');
    if (!cookie) {
      cookie = newCsrfCookieValue();
      c.set('csrfCookie', cookie);
      c.header('set-cookie', serializeCookie(deps.cookies.csrf, cookie, { secure: deps.cookies.secure }), { append: true });
    }
    return csrfTokenFor(secret(), cookie, c.get('session')?.sessionId);
  };

  /** Token check plus origin check: a cross-site request fails even with a stolen token. */
  const csrfOk = (c: C, form: Record<string, unknown>, signedOutForm = false) => {
    const ours = ourOrigin(deps, c.env.incoming);
    if (requestOrigin(c.env.incoming.headers, ours) === 'cross-site') {
      // Most often a page opened under another name than the public URL: say so in the log.
      const from = c.req.header('origin') ?? c.req.header('sec-fetch-site') ?? 'unknown';
      deps.audit.record('csrf.refused', { ip: c.get('ip'), userAgent: c.get('userAgent'), detail: `${c.req.path} from ${from.slice(0, 100)}, expected ${ours}` });
      return false;
    }
    const cookie = readCookie(c.req.header('cookie'), deps.cookies.csrf);
    if (isValidCsrfToken(secret(), cookie, form.csrf, c.get('session')?.sessionId)) return true;
    // Forms for signed-out visitors (sign-in, sign-up, reset) were rendered without a session; a
    // session cookie that turned up since (planted, or from another tab) must not make them fail.
    return signedOutForm && isValidCsrfToken(secret(), cookie, form.csrf);
  };


  // Every Gatehouse response: security headers, and a CSRF cookie the forms can be bound to.
  app.use('*', async (c, next) => {
    const req = c.env.incoming;
    c.set('ip', deps.trusted.clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']));
    c.set('userAgent', req.headers['user-agent'] ?? null);
    // The CSRF cookie is issued only by a page that renders a form (see csrfField): if every response
    // minted one, parallel requests (the stylesheet, say) would overwrite the cookie the form is bound to.
    const csrfCookie = readCookie(req.headers.cookie, deps.cookies.csrf);
    c.set('csrfCookie', csrfCookie && csrfCookie.length <= 64 ? csrfCookie : '');
    const cookie = readCookie(req.headers.cookie, deps.cookies.session);
    let session: ResolvedSession | null = null;
    if (cookie) {
      try {
        session = await deps.sessions.resolve(cookie);
      } catch (err) {
        if (!isStoreError(err, 'UNAVAILABLE')) throw err;
        // Health and readiness must answer even while the store is down.
        if (!c.req.path.endsWith('/health') && !c.req.path.endsWith('/ready')) {
          for (const [k, v] of SECURITY_HEADERS) c.header(k, v);
          return errorPage(c, 503, 'Temporarily unavailable', 'We cannot reach the user database right now. Please try again in a moment.', 5);
        }
      }
    }
    // Scripts may present an API key instead of a cookie — for /auth/me and /auth/check only: a key
    // never manages the account (password, keys, sessions) and never gets a cookie session.
    const keyAllowed = c.req.path === `${P}/me` || c.req.path === `${P}/check`;
    const key = session || !keyAllowed ? null : bearerApiKey(req.headers.authorization);
    if (key) session = await deps.apiKeys.resolve(key);
    c.set('session', session);
    await next();
    for (const [k, v] of SECURITY_HEADERS) if (!c.res.headers.has(k)) c.header(k, v);
    if (deps.cookies.secure) c.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    return undefined;
  });

  // Forms are small and browsers always send Content-Length; anything else is refused before it is read.
  app.use('*', async (c, next) => {
    const req = c.env.incoming;
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > MAX_FORM_BYTES) return errorPage(c, 413, 'Request too large', 'That form was larger than we accept.');
    if (length === undefined && req.headers['transfer-encoding'] !== undefined) return errorPage(c, 411, 'Length required', 'Send the form with a Content-Length.');
    // Parse a posted form here, once (Hono caches it for the handler): a body that cannot be parsed —
    // a multipart body without a boundary, say — is the client's mistake, answered 400, never a 500.
    if (c.req.method === 'POST' && FORM_TYPES.test(c.req.header('content-type') ?? '')) {
      try {
        await c.req.parseBody();
      } catch {
        return errorPage(c, 400, 'Bad request', 'That form could not be read. Please try again.');
      }
    }
    await next();
    return undefined;
  });

  app.onError((err, c) => {
    // The client went away mid-request: nobody is left to answer.
    if ((err as Error).message === 'aborted' || (err as { code?: string }).code === 'ECONNRESET') return c.body(null, 400);
    if (isStoreError(err, 'UNAVAILABLE')) {
      return errorPage(c, 503, 'Temporarily unavailable', 'We cannot reach the user database right now. Please try again in a moment.', 5);
    }
    if (err instanceof HasherBusyError) return errorPage(c, 503, 'Busy', 'Too many sign-ins at once. Please try again in a moment.', 2);
    process.stderr.write(`gatehouse: ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}\n`);
    return errorPage(c, 500, 'Something went wrong', 'Gatehouse hit an unexpected error. Please try again.');
  });

  app.get(`${P}/assets/:file`, async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return errorPage(c, 404, 'Not found', 'There is no such file.');
    const body = await readFile(join(deps.viewsDir, 'assets', file));
    c.header('cache-control', 'public, max-age=3600');
    return c.body(body, 200, { 'content-type': type });
  });

  // The cheat sheet for coding agents building the app behind Gatehouse: public, like the stylesheet.
  // Read on each request (it is small and rarely fetched) so an edited docs/agent-skill.md is served as is.
  app.get(`${P}/guide.md`, async (c) => {
    const body = await readFile(AGENT_GUIDE);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(body, 200, { 'content-type': 'text/markdown; charset=utf-8' });
  });

  app.get(`${P}/health`, (c) => c.json({ status: 'ok' }));
  app.get(`${P}/ready`, async (c) => {
    try {
      await deps.store.ping();
      return c.json({ status: 'ready', store: deps.store.kind });
    } catch {
      c.header('retry-after', '5');
      return c.json({ status: 'unavailable', store: deps.store.kind }, 503);
    }
  });

  // Prometheus text. For admins, or for a scraper on this machine — but never through a local reverse
  // proxy, where every visitor would look like loopback.
  app.get(`${P}/metrics`, (c) => {
    const s = c.get('session');
    const req = c.env.incoming;
    const local = isLoopback(req.socket.remoteAddress) && !deps.trusted.any && req.headers['x-forwarded-for'] === undefined;
    if (!local && !(s && s.principal.role === 'admin' && s.principal.provider !== 'api-key')) {
      return c.json({ error: 'forbidden' }, 403);
    }
    const lines = [
      '# HELP gatehouse_events_total Security events since start, by type.',
      '# TYPE gatehouse_events_total counter',
      ...[...deps.audit.counts()].map(([event, n]) => `gatehouse_events_total{event="${event}"} ${n}`),
      '# HELP gatehouse_sessions_cached Sessions held in this process\'s cache.',
      '# TYPE gatehouse_sessions_cached gauge',
      `gatehouse_sessions_cached ${deps.sessions.cached}`,
      '# HELP gatehouse_password_hashes_in_flight Password hashes running or queued.',
      '# TYPE gatehouse_password_hashes_in_flight gauge',
      `gatehouse_password_hashes_in_flight ${deps.hasher.inFlight}`,
      '# HELP gatehouse_process_resident_memory_bytes Resident set size.',
      '# TYPE gatehouse_process_resident_memory_bytes gauge',
      `gatehouse_process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    ];
    return c.body(lines.join('\n') + '\n', 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });

  app.get(`${P}/me`, (c) => {
    const s = c.get('session');
    if (!s) {
      c.header('www-authenticate', 'Cookie realm="gatehouse"');
      return c.json({ error: 'unauthenticated' }, 401);
    }
    const p = s.principal;
    return c.json({ id: p.userId, email: p.email, emailVerified: p.emailVerified, name: p.name, provider: p.provider, role: p.role, groups: p.groups });
  });

  // Forward-auth (nginx auth_request, Traefik forwardAuth, Caddy forward_auth): see forward-auth.ts.
  app.get(`${P}/check`, (c) => {
    if (deps.settings.current().mode === 'off') return c.body(null, 200);
    const req = c.env.incoming;
    const orig = originalRequest(req.headers, deps.trusted.any && deps.trusted.isTrusted(req.socket.remoteAddress ?? ''));
    if (typeof orig === 'string') return c.json({ error: 'bad_request', reason: orig }, 400);
    const s = c.get('session');
    if (!s) {
      const location = signInLocation(P, orig);
      if (redirectsToSignIn(orig, req.headers.accept, checkMode(c.req.query('mode')))) return c.redirect(location, 302);
      // nginx turns this 401 into its own redirect with `error_page` and this header.
      c.header('x-gatehouse-sign-in', location);
      c.header('www-authenticate', 'Cookie realm="gatehouse"');
      return c.json({ error: 'unauthenticated' }, 401);
    }
    const headers = identityHeaders(s.principal); // the proxy's own writer: identical bytes
    for (let i = 0; i < headers.length; i += 2) c.header(headers[i]!, headers[i + 1]!);
    return c.body(null, 200);
  });

  // ---- sign-in ----------------------------------------------------------------------------------
  const signInPage = (c: C, data: { email?: string; error?: string | null; returnTo: string; notice?: string | null }, status = 200) =>
    page(
      c,
      'sign-in',
      'Sign in',
      {
        csrf: csrfField(c),
        email: data.email ?? '',
        error: data.error ?? null,
        notice: data.notice ?? null,
        returnTo: data.returnTo,
        providers: providerButtons(data.returnTo),
        signUpOpen: deps.settings.current().signUp !== 'invite',
        resetAvailable: deps.mailer() !== null,
      },
      status,
    );

  app.get(`${P}/sign-in`, (c) => {
    const returnTo = safeReturnTo(c.req.query('return_to'));
    if (c.get('session')) return c.redirect(returnTo, 302);
    const notice = c.req.query('signed_out') !== undefined ? 'You have been signed out.' : null;
    return signInPage(c, { returnTo, notice });
  });

  app.post(`${P}/sign-in`, async (c) => {
    const form = await c.req.parseBody();
    const returnTo = safeReturnTo(form.return_to);
    const email = normalizeEmail(form.email);
    if (!csrfOk(c, form, true)) return signInPage(c, { email, returnTo, error: 'Your form expired. Please try again.' }, 403);
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return tooMany;
    const password = field(form.password);
    // Lockout is keyed on the email, so an unknown account behaves exactly like a known one.
    const attempt = email ? await deps.lockout.begin(email) : null;
    const allowed = attempt?.allowed ?? true;
    const user = allowed && email && passwordLength(password) <= MAX_PASSWORD_LENGTH ? await deps.store.findUserByEmail(email) : null;
    let ok = false;
    if (user?.passwordHash) {
      const result = await deps.hasher.verify(user.passwordHash, password);
      ok = result.ok && !user.disabled;
      if (ok && result.rehash) await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(password) }, new Date(deps.now()));
    } else {
      await deps.hasher.verifyDummy(password); // the same work as a real check: no enumeration by timing
    }
    if (!ok || !user) {
      // A locked account answers exactly like a wrong password.
      const lockedNow = attempt ? attempt.lockedNow || (await attempt.failed()) : false;
      deps.audit.record('sign-in.failure', { email, userId: user?.id, ip: c.get('ip'), userAgent: c.get('userAgent'), detail: allowed ? undefined : 'locked' });
      if (lockedNow) deps.audit.record('lockout', { email, userId: user?.id, ip: c.get('ip'), userAgent: c.get('userAgent') });
      // Once the lock is on, say so: the lock is keyed on the address alone (unknown addresses lock
      // the same way), so the message tells nothing about who has an account.
      const lockMs = !allowed || lockedNow ? await deps.lockout.lockedFor(email) : 0;
      return signInPage(c, { email, returnTo, error: lockMs > 0 ? lockedMessage(lockMs, deps.mailer() !== null) : 'Incorrect email or password.' }, 401);
    }
    await attempt?.succeeded();
    // With mail on, an address must be confirmed before it signs in: otherwise a sign-up policy by
    // domain proves only that someone typed an address. The right password was given, so saying so
    // reveals nothing the visitor does not already know.
    if (deps.mailer() && !user.emailVerified) {
      deps.audit.record('sign-in.unverified', { userId: user.id, email, ip: c.get('ip'), userAgent: c.get('userAgent') });
      return page(c, 'confirm-email', 'Confirm your email', { csrf: csrfField(c), email: user.email, notice: null }, 403);
    }
    await startSession(c, user, 'password');
    deps.audit.record('sign-in.success', { userId: user.id, email, ip: c.get('ip'), userAgent: c.get('userAgent') });
    return c.redirect(returnTo, 303);
  });

  /** A brand-new session on every sign-in; whatever cookie came in (planted or old) is ended, never adopted. */
  async function startSession(c: C, user: User, provider: string) {
    const previous = c.get('session');
    if (previous) await deps.sessions.revoke(previous.sessionId);
    const { cookieValue, session } = await deps.sessions.create(user, provider, { ip: c.get('ip'), userAgent: c.get('userAgent') });
    c.header('set-cookie', serializeCookie(deps.cookies.session, cookieValue, { secure: deps.cookies.secure }), { append: true });
    c.set('session', { sessionId: session.id, principal: principalOf(user, provider) });
  }

  // ---- sign-up ----------------------------------------------------------------------------------
  type SignUpErrors = { name?: string; email?: string; password?: string; form?: string };
  const signUpPage = (c: C, data: { name?: string; email?: string; errors?: SignUpErrors; returnTo: string; setup: string | null; invite?: string | null }, status = 200) =>
    page(
      c,
      'sign-up',
      data.setup ? 'Create the admin account' : 'Create your account',
      {
        csrf: csrfField(c),
        name: data.name ?? '',
        email: data.email ?? '',
        errors: data.errors ?? {},
        returnTo: data.returnTo,
        providers: providerButtons(data.returnTo),
        setup: data.setup,
        invite: data.invite ?? null,
        isSetup: data.setup !== null,
      },
      status,
    );

  /** A setup link that no longer works says so, instead of a form that can only fail. */
  const setupLinkGone = (c: C, status: Exclude<SetupLinkStatus, 'valid'>) =>
    page(
      c,
      'message',
      'Setup link not valid',
      {
        heading: 'This setup link does not work any more',
        message: SETUP_LINK_GONE[status],
        link: status === 'admin-exists' ? { href: `${P}/sign-in`, label: 'Go to sign in' } : null,
      },
      410,
    );

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
    return signUpPage(c, { returnTo, setup: setup && setup.length <= 128 ? setup : null, invite, email: c.req.query('email') ?? '' });
  });

  app.post(`${P}/sign-up`, async (c) => {
    const form = await c.req.parseBody();
    const returnTo = safeReturnTo(form.return_to);
    const setup = typeof form.setup === 'string' && form.setup && form.setup.length <= 128 ? form.setup : null;
    const invite = tokenParam(form.invite);
    const name = field(form.name).trim();
    const parsed = parseEmail(form.email);
    const email = parsed.ok ? parsed.email : normalizeEmail(form.email);
    const password = field(form.password);
    const again = (errors: SignUpErrors, status = 400) => signUpPage(c, { name, email, errors, returnTo, setup, invite }, status);
    if (!csrfOk(c, form, true)) return again({ form: 'Your form expired. Please try again.' }, 403);
    const tooMany = await limited(c, 'sign-up');
    if (tooMany) return tooMany;

    const settings = deps.settings.current();
    const errors: SignUpErrors = {};
    // eslint-disable-next-line no-control-regex
    if (!name || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) errors.name = 'Enter your name (up to 100 characters).';
    if (!parsed.ok) errors.email = EMAIL_MESSAGES[parsed.reason];
    else if (settings.signUp === 'domains' && !isDomainAllowed(email, settings.allowedDomains)) {
      errors.email = 'Sign-up is limited to approved email domains.';
    }
    const problem = checkPasswordPolicy(password, email);
    if (problem) errors.password = PASSWORD_MESSAGES[problem];
    if (settings.signUp === 'invite' && !setup && !invite) errors.form = 'Sign-up is by invitation only.';
    // The domain policy means "people who own an address there": without mail nothing proves that,
    // so password sign-up takes an invitation (social login brings an IdP-verified address).
    if (settings.signUp === 'domains' && !deps.mailer() && !setup && !invite && !errors.email) {
      errors.form = 'Sign-up here needs a confirmed address: sign up with a provider below, or ask an administrator for an invitation.';
    }
    if (Object.keys(errors).length) return again(errors);

    let role: User['role'] = 'member';
    let vouched = false; // an invitation bound to this very address counts as a confirmed address
    const now = new Date(deps.now());
    if (setup) {
      // Single-use: of two people racing with one link, exactly one becomes admin; and once an admin
      // exists no other link (leaked, or printed before the admin was made) makes another.
      const status = await consumeSetupLink(deps.store, setup, now);
      if (status !== 'valid') return setupLinkGone(c, status);
      role = 'admin';
    } else if (invite) {
      // Single-use and bound to the invited address; a mismatch puts the invitation back untouched.
      const token = await deps.store.consumeToken(sha256Hex(invite), 'invite', now);
      if (!token) return again({ form: 'This invitation is invalid, expired or already used.' });
      if (token.email && normalizeEmail(token.email) !== email) {
        await deps.store.createToken(token);
        return again({ email: 'This invitation is for another email address.' });
      }
      vouched = token.email !== null;
    } else if (deps.demo && isLoopback(c.env.incoming.socket.remoteAddress) && (await deps.store.countUsers()) === 0) {
      role = 'admin'; // the demo on your own machine: the first local account administers it
    }

    // With mail, sign-up answers "check your email" whether or not the address has an account, so the
    // form cannot be used to find out who is registered; the new user confirms, then signs in.
    const viaMail = deps.mailer() !== null && !setup && !invite;
    const checkEmail = () =>
      page(c, 'message', 'Check your email', {
        heading: 'Check your email',
        message: `We sent a message to ${email}. Open the link in it to confirm your address, then sign in with your password.`,
        link: { href: `${deps.prefix}/sign-in`, label: 'Go to sign in' },
      });
    const passwordHash = await deps.hasher.hash(password); // before the insert: both paths cost one hash
    let user: User;
    try {
      user = await deps.store.createUser({ email, name, role, passwordHash, emailVerified: vouched }, now);
    } catch (err) {
      if (!isStoreError(err, 'DUPLICATE')) throw err;
      if (viaMail) {
        sendAccountExistsEmail(deps, email);
        return checkEmail();
      }
      return again({ email: 'An account with this email already exists. Sign in instead.' });
    }
    // Setup is over: every setup link still stored (older prints, other copies) dies with this one.
    if (role === 'admin') await burnSetupLinks(deps.store);
    deps.audit.record(role === 'admin' ? 'setup.admin-created' : 'sign-up', { userId: user.id, email, ip: c.get('ip'), userAgent: c.get('userAgent') });
    if (viaMail) {
      await sendVerificationEmail(deps, user);
      return checkEmail();
    }
    // Signed in at once (setup link, invitation, or no mail) — but with mail on, an address nobody
    // confirmed still gets its link, since the next sign-in will ask for it.
    if (!user.emailVerified) await sendVerificationEmail(deps, user);
    await startSession(c, user, 'password');
    return c.redirect(returnTo, 303);
  });

  // ---- sign-out ---------------------------------------------------------------------------------
  app.get(`${P}/sign-out`, (c) => {
    const s = c.get('session');
    if (!s) return c.redirect(`${P}/sign-in`, 302);
    return page(c, 'sign-out', 'Sign out', { csrf: csrfField(c), user: { email: s.principal.email, name: s.principal.name } });
  });

  app.post(`${P}/sign-out`, async (c) => {
    const verdict = requestOrigin(c.env.incoming.headers, ourOrigin(deps, c.env.incoming));
    if (verdict === 'cross-site') return errorPage(c, 403, 'Request refused', 'Sign-out must come from this site.');
    if (verdict === 'unknown') {
      // No Origin and no Sec-Fetch-Site: only the form's token can show this came from us.
      const form = await c.req.parseBody();
      if (!isValidCsrfToken(secret(), readCookie(c.req.header('cookie'), deps.cookies.csrf), form.csrf, c.get('session')?.sessionId)) {
        return errorPage(c, 403, 'Request refused', 'Your form expired. Please try again.');
      }
    }
    const s = c.get('session');
    if (s) {
      await deps.sessions.revoke(s.sessionId);
      deps.audit.record('sign-out', { userId: s.principal.userId, ip: c.get('ip'), userAgent: c.get('userAgent') });
    }
    c.header('set-cookie', clearCookie(deps.cookies.session, deps.cookies.secure), { append: true });
    return c.redirect(`${P}/sign-in?signed_out=1`, 303);
  });

  // ---- account ----------------------------------------------------------------------------------
  const accountPage = async (c: C, s: ResolvedSession, extra: { errors?: Record<string, string>; notice?: string | null } = {}, status = 200) => {
    const sessions = await deps.store.listUserSessions(s.principal.userId);
    return page(
      c,
      'account',
      'Your account',
      {
        csrf: csrfField(c),
        user: s.principal,
        // The same test as the console's own door (admin.ts): a link only where it opens.
        isAdmin: s.principal.role === 'admin' && s.principal.provider !== 'api-key',
        sessions: sessions.map((x) => ({
          id: x.id,
          current: x.id === s.sessionId,
          createdAt: x.createdAt.toISOString(),
          lastSeenAt: x.lastSeenAt.toISOString(),
          ip: x.ip,
          userAgent: describeAgent(x.userAgent),
        })),
        errors: extra.errors ?? {},
        notice: extra.notice ?? null,
      },
      status,
    );
  };

  app.get(`${P}/account`, async (c) => {
    const s = c.get('session');
    if (!s) return c.redirect(`${P}/sign-in?return_to=${encodeURIComponent(`${P}/account`)}`, 302);
    return accountPage(c, s);
  });

  app.post(`${P}/account/sessions/revoke`, async (c) => {
    const s = c.get('session');
    if (!s) return c.redirect(`${P}/sign-in`, 303);
    const form = await c.req.parseBody();
    if (!csrfOk(c, form)) return errorPage(c, 403, 'Request refused', 'Your form expired. Please try again.');
    const id = field(form.id);
    const mine = await deps.store.listUserSessions(s.principal.userId);
    if (mine.some((x) => x.id === id)) {
      await deps.sessions.revoke(id);
      deps.audit.record('session.revoked', { userId: s.principal.userId, ip: c.get('ip'), userAgent: c.get('userAgent') });
    }
    return c.redirect(`${P}/account`, 303);
  });

  app.post(`${P}/account/password`, async (c) => {
    const s = c.get('session');
    if (!s) return c.redirect(`${P}/sign-in`, 303);
    const form = await c.req.parseBody();
    if (!csrfOk(c, form)) return errorPage(c, 403, 'Request refused', 'Your form expired. Please try again.');
    const user = await deps.store.findUserById(s.principal.userId);
    if (!user) return c.redirect(`${P}/sign-in`, 303);
    // Guesses at the current password count like sign-in failures: a stolen session must not become
    // an unlimited password oracle.
    const tooMany = await limited(c, 'sign-in');
    if (tooMany) return tooMany;
    const attempt = await deps.lockout.begin(user.email);
    const allowed = attempt.allowed;
    const current = field(form.current_password);
    const next = field(form.password);
    const matches = allowed && user.passwordHash !== null && (await deps.hasher.verify(user.passwordHash, current)).ok;
    if (!matches) {
      if (attempt.lockedNow || (allowed && (await attempt.failed()))) deps.audit.record('lockout', { email: user.email, userId: user.id, ip: c.get('ip'), userAgent: c.get('userAgent') });
      deps.audit.record('password.change-failed', { userId: user.id, ip: c.get('ip'), userAgent: c.get('userAgent'), detail: allowed ? undefined : 'locked' });
      const message = allowed ? 'That is not your current password.' : 'Too many wrong attempts. Wait a few minutes, or reset your password.';
      return accountPage(c, s, { errors: { current_password: message } }, allowed ? 400 : 429);
    }
    await attempt.succeeded();
    const problem = checkPasswordPolicy(next, user.email);
    if (problem) return accountPage(c, s, { errors: { password: PASSWORD_MESSAGES[problem] } }, 400);
    await deps.store.updateUser(user.id, { passwordHash: await deps.hasher.hash(next) }, new Date(deps.now()));
    // Every session ends — this one too: it continues under a new token (re-authentication), so a
    // token stolen before the change is worthless after it. Outstanding reset links die as well.
    await deps.sessions.revokeUser(user.id);
    await deps.store.deleteTokens('reset', user.id);
    c.set('session', null);
    await startSession(c, user, s.principal.provider);
    const fresh = c.get('session') ?? s;
    deps.audit.record('password.changed', { userId: user.id, ip: c.get('ip'), userAgent: c.get('userAgent') });
    sendPasswordChangedEmail(deps, user);
    return accountPage(c, fresh, { notice: 'Password changed. Your other sessions were signed out.' });
  });

  const kit: AuthKit = { page, errorPage, csrfField, csrfOk, startSession, limited };
  mountPasswordReset(app, deps, kit);
  mountSocialLogin(app, deps, kit);
  mountAdmin(app, deps, kit);

  // ---- aliases and the rest ---------------------------------------------------------------------
  app.all(`${P}/:alias{[a-z-]+}`, (c, next) => {
    const target = ALIASES[c.req.param('alias')];
    if (!target) return next();
    const q = c.req.url.indexOf('?');
    return c.redirect(`${P}/${target}${q === -1 ? '' : c.req.url.slice(q)}`, c.req.method === 'GET' || c.req.method === 'HEAD' ? 302 : 307);
  });

  app.notFound((c) => errorPage(c, 404, 'Page not found', 'There is nothing at this address.'));
  return app;
}

function lockedMessage(ms: number, resetAvailable: boolean): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const wait = `try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `Too many attempts for this address: ${wait}${resetAvailable ? ', or reset your password' : ''}.`;
}

/** "Chrome on Linux" rather than a 150-character user-agent string. */
export function describeAgent(ua: string | null): string | null {
  if (!ua) return null;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? ua.slice(0, 60);
}

/** A single-use token from a query or form field, or null when absent or implausibly long. */
function tokenParam(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : null;
}
