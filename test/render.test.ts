// Every view rendered with hostile input: everything escaped, no inline script, style or handlers (the
// CSP allows none: the one script is the external gatehouse.js), and the form contract the routes and
// browsers rely on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRenderer } from '../src/render.js';
import { VIEWS_DIR } from '../src/main.js';

const EVIL = `"><script>alert(1)</script><img src=x onerror=alert(1)> ' Zoë 李 🙂`;
const ESCAPED = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &#39; Zoë 李 🙂';
const r = createRenderer(VIEWS_DIR);
const base = { appName: EVIL, prefix: '/auth', title: EVIL };
const providers = [
  { name: 'corp', label: EVIL, startUrl: `/auth/oauth/corp/start?return_to=${encodeURIComponent(EVIL)}` },
];
const at = { iso: '2026-01-01T00:00:00.000Z', text: '2026-01-01 00:00 UTC' };
const session = { id: EVIL, current: false, createdAt: at, lastSeenAt: at, ip: EVIL, userAgent: EVIL };

const views: Record<string, Record<string, unknown>> = {
  'sign-in': {
    csrf: EVIL,
    email: EVIL,
    error: EVIL,
    notice: EVIL,
    returnTo: EVIL,
    providers,
    signUpOpen: true,
    signUpHref: EVIL,
    resetAvailable: true,
  },
  'sign-up': {
    csrf: EVIL,
    name: EVIL,
    email: EVIL,
    errors: { name: EVIL, email: EVIL, password: EVIL, form: EVIL },
    returnTo: EVIL,
    providers,
    setup: EVIL,
    invite: EVIL,
    isSetup: true,
    focus: 'name',
    signInHref: EVIL,
  },
  'sign-out': { csrf: EVIL, user: { email: EVIL, name: EVIL } },
  error: { status: 503, heading: EVIL, message: EVIL, retryAfter: 5 },
  forbidden: { name: EVIL, email: EVIL, path: EVIL },
  message: { heading: EVIL, message: EVIL, link: { href: EVIL, label: EVIL } },
  forgot: { csrf: EVIL, email: EVIL, error: EVIL, unavailable: false },
  'confirm-email': { csrf: EVIL, email: EVIL, notice: EVIL },
  reset: { csrf: EVIL, token: EVIL, errors: { password: EVIL, form: EVIL } },
  account: {
    csrf: EVIL,
    user: { name: EVIL, email: EVIL, role: EVIL, provider: EVIL, groups: [EVIL, 'ops'] },
    sessions: [session, { ...session, current: true }],
    errors: { current_password: EVIL, password: EVIL },
    notice: EVIL,
    isAdmin: true,
    connected: [
      { clientId: EVIL, clientName: EVIL, resource: EVIL, scopes: [EVIL], lastUsedAt: at },
      { clientId: 'c2', clientName: 'x', resource: 'r', scopes: [], lastUsedAt: null },
    ],
    emailVerified: true,
    emailChange: { blocked: null, newEmail: EVIL },
    hasPassword: true,
    resetAvailable: true,
    security: { totp: true, recoveryLeft: 9, passkeys: 1, tokens: 2 },
    identities: [
      { provider: EVIL, email: EVIL, since: at, issuer: EVIL, subject: EVIL, canUnlink: true },
      { provider: 'b', email: null, since: at, issuer: 'i', subject: 's', canUnlink: false },
    ],
    linkable: [{ name: EVIL, label: EVIL, action: '/auth/account/identities/link' }],
  },
  passkeys: {
    csrf: EVIL,
    user: { name: EVIL, email: EVIL, role: EVIL, provider: EVIL, groups: [] },
    unavailable: null,
    defaultName: EVIL,
    optionsUrl: '/auth/account/passkeys/options',
    verifyUrl: '/auth/account/passkeys/verify',
    notice: EVIL,
    error: EVIL,
    passkeys: [
      { id: EVIL, name: EVIL, createdAt: at, lastUsedAt: null, kind: EVIL, removeHref: EVIL },
      {
        id: 'k2',
        name: 'Phone',
        createdAt: at,
        lastUsedAt: at,
        kind: 'Security key',
        removeHref: '/auth/account/passkeys/remove?id=k2',
      },
    ],
  },
  'admin-confirm': {
    csrf: EVIL,
    heading: EVIL,
    effect: EVIL,
    button: EVIL,
    danger: true,
    action: '/auth/admin/users/u1/delete',
    cancel: '/auth/admin',
    subject: { title: EVIL, badge: EVIL, detail: EVIL },
  },
  'sign-in-passphrase': { csrf: EVIL, error: EVIL, notice: EVIL, returnTo: EVIL },
  'admin-groups': {
    csrf: EVIL,
    user: { email: EVIL, name: EVIL, role: EVIL },
    groups: [
      { name: EVIL, removeHref: '/auth/admin/users/u1/groups/remove?group=x' },
      { name: 'ops', removeHref: '/auth/admin/users/u1/groups/remove?group=ops' },
    ],
    action: '/auth/admin/users/u1/groups',
    back: '/auth/admin',
    value: EVIL,
    error: EVIL,
    notice: EVIL,
  },
  'admin-access': {
    csrf: EVIL,
    mode: EVIL,
    rules: [{ n: 1, pattern: EVIL, who: EVIL, source: EVIL }],
    test: { as: EVIL, method: EVIL, path: EVIL, error: EVIL },
    result: { headline: EVIL, reason: EVIL, reading: EVIL },
    fallback: 'deny',
  },
  // Console › Invitations and Security events (architecture.md#devices): the invite link is shown once;
  // filters are GET forms.
  'admin-invites': {
    csrf: EVIL,
    invites: [{ id: EVIL, email: EVIL, role: EVIL, expires: at, revokeHref: EVIL }],
    created: { email: EVIL, role: EVIL, link: EVIL, expires: at, mailed: false },
    form: { email: EVIL, role: EVIL, expires: EVIL },
    error: EVIL,
    notice: EVIL,
    signUp: EVIL,
  },
  'admin-events': {
    filter: { user: EVIL, event: EVIL },
    known: [EVIL],
    events: [{ at, event: EVIL, user: EVIL, ip: EVIL, detail: EVIL }],
    prevHref: EVIL,
    nextHref: EVIL,
    empty: EVIL,
  },
  admin: {
    csrf: EVIL,
    me: {},
    total: 1,
    query: EVIL,
    matches: 1,
    page: 0,
    pages: 2,
    prevHref: EVIL,
    nextHref: EVIL,
    notice: EVIL,
    settings: { signUp: EVIL, mode: EVIL },
    users: [
      {
        id: 'u1',
        groups: [EVIL],
        email: EVIL,
        name: EVIL,
        role: EVIL,
        disabled: false,
        emailVerified: true,
        createdAt: '2026-01-01T00:00:00.000Z',
        self: false,
        actions: [
          { label: EVIL, ariaLabel: EVIL, style: 'button-secondary', post: '/auth/admin/users/u1/enable' },
          { label: EVIL, ariaLabel: EVIL, style: 'button-danger', href: EVIL },
        ],
      },
    ],
    keys: [
      { id: 'k1', name: EVIL, owner: EVIL, role: EVIL, scopes: [EVIL], expiry: EVIL, lastUsedAt: at, revokeHref: EVIL },
    ],
  },
  // Second factor (architecture.md#mfa). The QR code is the one value printed raw: qrcode's SVG, made from
  // the URI alone.
  security: {
    csrf: EVIL,
    user: { name: EVIL, email: EVIL, role: EVIL, provider: EVIL, groups: [] },
    totp: { since: at },
    recoveryLeft: 3,
    hasPassword: true,
    passkeysHref: EVIL,
    tokensHref: EVIL,
    errors: { code: EVIL },
    notice: EVIL,
  },
  totp: {
    csrf: EVIL,
    secret: EVIL,
    secretGroups: EVIL,
    uri: EVIL,
    returnTo: EVIL,
    error: EVIL,
    required: true,
    qr: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4" shape-rendering="crispEdges"><path fill="#ffffff" d="M0 0h4v4H0z"/></svg>',
  },
  'recovery-codes': { heading: EVIL, codes: [EVIL, 'abcde-fgh23'], continueHref: EVIL },
  'second-step': {
    csrf: EVIL,
    heading: EVIL,
    lede: EVIL,
    action: '/auth/sign-in/code',
    returnTo: EVIL,
    error: EVIL,
    recovery: false,
    switchHref: EVIL,
    cancel: { href: EVIL, label: EVIL },
  },
  'account-tokens': {
    csrf: EVIL,
    user: { name: EVIL, email: EVIL, role: EVIL },
    error: EVIL,
    notice: EVIL,
    name: EVIL,
    created: { name: EVIL, token: EVIL },
    lifetimes: [{ value: EVIL, label: EVIL }],
    tokens: [
      {
        id: EVIL,
        name: EVIL,
        role: EVIL,
        scopes: [EVIL],
        createdAt: at,
        expiry: EVIL,
        lastUsedAt: at,
        regenerateHref: EVIL,
        disableHref: EVIL,
      },
    ],
  },
  // qrSvg is markup qrcode made from our own link, inserted as is (the one raw value: not hostile input).
  'pair-code': {
    code: EVIL,
    link: EVIL,
    qrSvg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><path d="M0 0h1v1H0z"/></svg>',
    expiresAt: at,
    minutes: 5,
  },
  pair: { csrf: EVIL, code: EVIL, error: EVIL },
  handoff: { csrf: EVIL, token: EVIL, email: EVIL, name: EVIL, admin: true },
  'admin-oauth': {
    csrf: EVIL,
    notice: EVIL,
    clients: [
      { id: EVIL, name: EVIL, kind: 'dcr', lastUsedAt: at, grants: [{ email: EVIL, resource: EVIL, scopes: [EVIL] }] },
      { id: 'c2', name: 'x', kind: 'cimd', lastUsedAt: null, grants: [] },
    ],
  },
  device: { csrf: EVIL, email: EVIL, code: EVIL, error: EVIL },
  'device-confirm': {
    csrf: EVIL,
    email: EVIL,
    clientName: EVIL,
    unverified: true,
    userCode: EVIL,
    resourceName: EVIL,
    resourceUrl: EVIL,
    scopes: [EVIL],
    adminApi: true,
  },
  'oauth-consent': {
    csrf: EVIL,
    user: { name: EVIL, email: EVIL },
    clientName: EVIL,
    unverified: true,
    clientHost: EVIL,
    redirectHost: EVIL,
    resourceName: EVIL,
    resourceUrl: EVIL,
    scopes: [EVIL, 'tools'],
    params: [
      { name: 'state', value: EVIL },
      { name: 'client_id', value: EVIL },
    ],
  },
};

const render = (view: string, extra: Record<string, unknown> = {}) =>
  r.render(view, { ...base, ...views[view], ...extra });
/** Tags with their quoted attribute values blanked: escaped hostile text inside value="…" is data, not markup. */
const markupOf = (html: string) => html.replace(/"[^"]*"/g, '""');
const forms = (html: string) => [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]);
const tag = (html: string, id: string) => new RegExp(`<[a-z]+ [^>]*id="${id}"[^>]*>`).exec(html)?.[0] ?? '';

describe('views', () => {
  it('every page template in views/ is covered here', () => {
    const pages = readdirSync(VIEWS_DIR).filter((f) => f.endsWith('.eta') && !f.startsWith('_') && f !== 'layout.eta');
    assert.deepEqual(pages.map((f) => f.slice(0, -4)).sort(), Object.keys(views).sort());
  });

  for (const view of Object.keys(views)) {
    it(`${view} escapes hostile input everywhere and has no inline script or style`, () => {
      const html = render(view);
      // gatehouse.js everywhere; the WebAuthn library and passkeys.js only where a passkey form is.
      const scripts = ['gatehouse.js', ...(view === 'passkeys' ? ['webauthn.js', 'passkeys.js'] : [])].map(
        (f) => `<script src="/auth/assets/${f}" defer></script>`,
      );
      assert.deepEqual(html.match(/<script[^>]*>[^<]*<\/script>/gi), scripts, 'external scripts only');
      assert.equal((html.match(/<script/gi) ?? []).length, scripts.length);
      assert.doesNotMatch(html, /<img/i);
      assert.ok(!html.includes(EVIL), 'the raw hostile string never reaches the page');
      const markup = markupOf(html);
      assert.doesNotMatch(markup, /<[^>]*\sstyle=/i);
      assert.doesNotMatch(markup, /<[^>]*\son[a-z]+=/i);
      assert.doesNotMatch(markup, /<style/i);
      // The appName is in the <title> and the brand of every page, escaped, unicode intact.
      assert.ok(html.includes(`<title>${ESCAPED} · ${ESCAPED}</title>`));
      assert.ok(html.includes(`<span class="brand-name">${ESCAPED}</span>`));
      assert.match(html, /<link rel="stylesheet" href="\/auth\/assets\/gatehouse.css">/);
      assert.match(html, /<html lang="en">/);
      assert.match(html, /name="viewport"/);
      assert.equal((html.match(/<h1\b/g) ?? []).length, 1, 'one h1 per page');
    });
  }

  it('every form posts, and every form on a page with a token carries it as a hidden "csrf" input', () => {
    for (const view of Object.keys(views)) {
      const html = render(view, { csrf: 'tok123' });
      // Search and filter forms are GETs (their state belongs in the URL) and change nothing: no token.
      for (const form of forms(html).filter((f) => !/^<form [^>]*method="get"/.test(f))) {
        assert.match(form, /^<form method="post" action="\/auth\//, `${view}: ${form.slice(0, 80)}`);
        if (views[view]!.csrf !== undefined)
          assert.match(form, /<input type="hidden" name="csrf" value="tok123">/, view);
      }
    }
  });

  it('forms post to their own route', () => {
    const action = (view: string) => forms(render(view)).map((f) => /action="([^"]*)"/.exec(f)![1]);
    assert.deepEqual(action('sign-in'), ['/auth/sign-in']);
    assert.deepEqual(action('sign-up'), ['/auth/sign-up']);
    assert.deepEqual(action('sign-out'), ['/auth/sign-out']);
    assert.deepEqual(action('forgot'), ['/auth/forgot']);
    assert.deepEqual(action('reset'), ['/auth/reset']);
    // In section order: the email change; the password; one revoke form for the other session, none for
    // this one; pair a device; one per connected app; unlink where another way in remains; link.
    assert.deepEqual(action('account'), [
      '/auth/account/email',
      '/auth/account/password',
      '/auth/account/sessions/revoke',
      '/auth/account/pair',
      '/auth/account/connected/revoke',
      '/auth/account/connected/revoke',
      '/auth/account/identities/unlink',
      '/auth/account/identities/link',
    ]);
    assert.deepEqual(action('oauth-consent'), ['/auth/oauth/authorize']);
    assert.deepEqual(action('device'), ['/auth/device']);
    assert.deepEqual(action('device-confirm'), ['/auth/device/decide']);
    assert.deepEqual(action('sign-in').length, 1);
    assert.deepEqual(action('sign-in-passphrase'), ['/auth/sign-in']);
    assert.deepEqual(
      action('admin-groups'),
      ['/auth/admin/users/u1/groups/add'],
      'removing goes through a confirm page',
    );
    assert.deepEqual(action('admin-access'), ['/auth/admin/access']);
    const passphrase = render('sign-in-passphrase');
    assert.match(tag(passphrase, 'passphrase'), /type="password"/);
    assert.doesNotMatch(passphrase, /name="email"|\/sign-up|\/forgot|oauth/, 'one field, no account links');
    assert.match(
      forms(render('sign-in', { prefix: '/login' }))[0]!,
      /action="\/login\/sign-in"/,
      'the prefix is honoured',
    );
  });

  it('passkeys: sign-in offers a passkey form hidden until passkeys.js shows it; the account page lists and names them', () => {
    const signIn = render('sign-in', {
      passkeySignIn: { optionsUrl: '/auth/passkeys/sign-in/options', verifyUrl: '/auth/passkeys/sign-in/verify' },
    });
    const [passkeyForm, passwordForm] = forms(signIn);
    assert.match(
      passkeyForm!,
      /<form method="post" action="\/auth\/sign-in" class="form passkey-sign-in" data-passkey="sign-in" data-options="\/auth\/passkeys\/sign-in\/options" data-verify="\/auth\/passkeys\/sign-in\/verify" hidden>/,
    );
    assert.match(
      passkeyForm!,
      /<button class="button button-secondary" type="submit">Sign in with a passkey<\/button>/,
    );
    assert.match(passkeyForm!, /name="return_to" value="&quot;/, 'return_to escaped');
    assert.match(passwordForm!, /name="password"/);
    assert.match(
      signIn,
      /<script src="\/auth\/assets\/webauthn.js" defer><\/script>\s*<script src="\/auth\/assets\/passkeys.js" defer><\/script>/,
    );
    assert.doesNotMatch(render('sign-in'), /passkey/i, 'no passkey form or script where passkeys cannot work');

    const page = render('passkeys');
    assert.deepEqual(
      forms(page).map((f) => /action="([^"]*)"/.exec(f)![1]),
      ['/auth/account/passkeys/rename', '/auth/account/passkeys/rename', '/auth/account/passkeys'],
    );
    assert.match(page, /<a class="button button-small button-danger" href="&quot;[^"]*" aria-label="Remove &quot;/);
    assert.match(page, /never used/);
    assert.match(page, /<p class="hint gap" data-passkey-unsupported>/);
    const stale = render('passkeys', {
      reauth: { action: '/auth/sign-out', returnTo: '/auth/account/passkeys', minutes: 10 },
    });
    assert.deepEqual(
      forms(stale).map((f) => /action="([^"]*)"/.exec(f)![1]),
      ['/auth/sign-out'],
      'sign in again instead of adding, renaming or removing',
    );
    assert.match(stale, /<input type="hidden" name="return_to" value="\/auth\/account\/passkeys">/);
    assert.match(stale, /within the last 10 minutes/);
    assert.doesNotMatch(stale, /data-passkey="register"|button-danger/, 'no add form, no remove buttons');
    const ip = render('passkeys', { unavailable: 'Passkeys need a domain name.', passkeys: [] });
    assert.match(ip, /<p class="alert" role="alert">Passkeys need a domain name.<\/p>/);
    assert.doesNotMatch(ip, /data-passkey="register"|webauthn\.js/);
  });

  it('sign-in: heading, autocomplete, return_to, links, and an error tied to the fields', () => {
    const html = render('sign-in', {
      appName: 'Acme',
      error: 'Wrong email or password.',
      email: 'a@b.co',
      returnTo: '/x?y=1',
      signUpHref: '/auth/sign-up?return_to=%2Fx%3Fy%3D1',
    });
    assert.match(html, /<h1 id="page-title">Sign in to Acme<\/h1>/);
    assert.match(html, /<p class="alert" role="alert" id="form-error">Wrong email or password.<\/p>/);
    assert.match(tag(html, 'email'), /type="email"/);
    assert.match(tag(html, 'email'), /autocomplete="username"/);
    assert.match(tag(html, 'email'), /value="a@b.co"/);
    assert.match(tag(html, 'email'), /aria-describedby="form-error"/);
    assert.match(tag(html, 'password'), /autocomplete="current-password"/);
    assert.match(tag(html, 'password'), /aria-describedby="form-error"/);
    assert.match(tag(html, 'password'), /required/);
    assert.match(html, /<input type="hidden" name="return_to" value="\/x\?y=1">/);
    assert.match(html, /href="\/auth\/forgot">Forgot password\?<\/a>/);
    assert.match(html, /href="\/auth\/sign-up\?return_to=%2Fx%3Fy%3D1">Create an account<\/a>/);

    const quiet = render('sign-in', {
      error: null,
      notice: null,
      providers: [],
      signUpOpen: false,
      resetAvailable: false,
    });
    assert.doesNotMatch(quiet, /role="alert"|role="status"|aria-invalid|aria-describedby/);
    assert.doesNotMatch(quiet, /class="providers"|class="divider"/, 'no social section without providers');
    assert.doesNotMatch(quiet, /\/forgot|\/sign-up/);
  });

  it('sign-in: one social button per provider', () => {
    const html = render('sign-in', {
      providers: [
        { name: 'google', label: 'Google', startUrl: '/auth/oauth/google/start' },
        { name: 'github', label: 'GitHub', startUrl: '/auth/oauth/github/start' },
      ],
    });
    assert.match(html, /<a class="[^"]*provider-google" href="\/auth\/oauth\/google\/start">Continue with Google<\/a>/);
    assert.match(html, /<a class="[^"]*provider-github" href="\/auth\/oauth\/github\/start">Continue with GitHub<\/a>/);
  });

  it('sign-up: every error under its field, field marked invalid and described by it', () => {
    const html = render('sign-up', { isSetup: false, setup: null, invite: null });
    for (const id of ['name', 'email', 'password']) {
      assert.match(html, new RegExp(`<label for="${id}">`));
      assert.match(tag(html, id), /aria-invalid="true"/);
      assert.match(tag(html, id), new RegExp(`aria-describedby="${id}-error[" ]`));
      assert.match(html, new RegExp(`<p class="field-error" id="${id}-error">`));
    }
    assert.match(tag(html, 'name'), /autocomplete="name"/);
    assert.match(tag(html, 'email'), /autocomplete="email"/);
    assert.match(tag(html, 'email'), /type="email"/);
    assert.match(tag(html, 'password'), /autocomplete="new-password"/);
    assert.match(tag(html, 'password'), /minlength="8"/);
    assert.match(tag(html, 'name'), /autofocus/, 'the first invalid field takes focus');
    assert.match(html, /<h1 id="page-title">Create your account<\/h1>/);
    assert.doesNotMatch(html, /name="setup"/);

    const clean = render('sign-up', { errors: {}, isSetup: false, setup: null });
    assert.doesNotMatch(clean, /aria-invalid|field-error|role="alert"/);
  });

  it('sign-up through the setup link: admin heading and the token as a hidden input', () => {
    const html = render('sign-up', { setup: 'setup-tok', isSetup: true, errors: {} });
    assert.match(html, /<h1 id="page-title">Create the admin account<\/h1>/);
    assert.match(html, /<input type="hidden" name="setup" value="setup-tok">/);
  });

  it('reset and account: new passwords ask for 8+ characters, current ones autocomplete as such', () => {
    const reset = render('reset', { token: 'rtok', errors: {} });
    assert.match(reset, /<input type="hidden" name="token" value="rtok">/);
    assert.match(tag(reset, 'password'), /autocomplete="new-password"[^>]*minlength="8"/);
    const account = render('account', { errors: {} });
    assert.match(tag(account, 'current_password'), /name="current_password"[^>]*autocomplete="current-password"/);
    assert.match(tag(account, 'password'), /name="password"[^>]*autocomplete="new-password"[^>]*minlength="8"/);
    assert.match(
      account,
      /<input type="hidden" name="id" value="&quot;&gt;&lt;script&gt;/,
      'the revoke form carries the session id',
    );
  });

  it('second factor: the code field is `code` with autocomplete one-time-code, tied to its error; enrolment shows the secret three ways', () => {
    for (const recovery of [false, true]) {
      const html = render('second-step', { recovery, error: 'Wrong code.' });
      assert.match(tag(html, 'code'), /name="code"[^>]*autocomplete="one-time-code"/);
      assert.match(tag(html, 'code'), new RegExp(`inputmode="${recovery ? 'text' : 'numeric'}"`));
      assert.match(tag(html, 'code'), /aria-describedby="form-error"/);
    }
    const totp = render('totp', {
      secretGroups: 'ABCD EFGH',
      uri: 'otpauth://totp/x?secret=ABCDEFGH',
      error: null,
      required: false,
    });
    assert.match(totp, /<code class="secret">ABCD EFGH<\/code>/);
    assert.match(totp, /href="otpauth:\/\/totp\/x\?secret=ABCDEFGH"/);
    assert.match(totp, /<div class="qr" role="img" aria-label="[^"]+"><svg /);
    assert.match(tag(totp, 'code'), /autocomplete="one-time-code"/);
    assert.doesNotMatch(totp, /role="alert"|asks for a second step/);
    const security = render('security', { hasPassword: false, errors: {} });
    assert.doesNotMatch(security, /current_password/, 'an account without a password proves it with a code');
    assert.match(render('security', { totp: null }), /href="\/auth\/account\/totp">Set up<\/a>/);
  });

  it('error pages show the status and, when limited, when to retry', () => {
    const html = render('error', { status: 429, heading: 'Too many attempts', message: 'Slow down.', retryAfter: 30 });
    assert.match(html, /<p class="status-code">429<\/p>/);
    assert.match(html, /about 30 seconds/);
    assert.doesNotMatch(render('error', { retryAfter: null }), /Try again in/);
  });

  it('templates are compiled once and cached', () => {
    // A copy of views/, edited after the first render: a cached renderer keeps the compiled template.
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-views-'));
    try {
      cpSync(VIEWS_DIR, dir, { recursive: true });
      const cached = createRenderer(dir);
      const data = { ...base, ...views['message'], heading: 'Hello' };
      const first = cached.render('message', data);
      writeFileSync(join(dir, 'message.eta'), '<% layout(\'layout\') %><h1 id="page-title">changed</h1>');
      assert.equal(cached.render('message', data), first);
      assert.match(createRenderer(dir).render('message', data), />changed</, 'a new renderer reads the file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
