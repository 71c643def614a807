// Every view, with realistic data including the states the sign-up flow never reaches (social buttons,
// setup link, rate limit, reset, admin), rendered in Chromium under Gatehouse's real CSP: no CSP
// violation, no sideways scrolling from 320px up, and a screenshot per view in test/artifacts/gallery-*.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createRenderer } from '../../src/render.js';
import { VIEWS_DIR } from '../../src/main.js';
import { REPO } from '../support/gatehouse.js';
import { PAGE_CSP } from '../../src/security/headers.js';
import { toString as qrSvg } from 'qrcode';
import QRCode from 'qrcode';
import { CHROMIUM_SKIP, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');
const CSP = PAGE_CSP; // Gatehouse's own: script-src 'self' for gatehouse.js, nothing inline

const base = { appName: 'Acme Analytics', prefix: '/auth', csrf: 'tok' };
const providers = [
  { name: 'google', label: 'Google', startUrl: '/auth/oauth/google/start' },
  { name: 'github', label: 'GitHub', startUrl: '/auth/oauth/github/start' },
];
const now = { iso: '2026-03-14T09:26:53.000Z', text: '2026-03-14 09:26 UTC' };
const graceActions = [
  {
    label: 'Groups',
    ariaLabel: 'Groups of grace.hopper@navy.example.com',
    style: 'button-secondary',
    href: '/auth/admin/users/u2/groups',
  },
  {
    label: 'Disable',
    ariaLabel: 'Disable grace.hopper@navy.example.com',
    style: 'button-secondary',
    href: '/auth/admin/confirm?action=disable&user=u2',
  },
  {
    label: 'Make admin',
    ariaLabel: 'Make admin grace.hopper@navy.example.com',
    style: 'button-secondary',
    href: '/auth/admin/confirm?action=make-admin&user=u2',
  },
  {
    label: 'Sign out everywhere',
    ariaLabel: 'Sign out everywhere grace.hopper@navy.example.com',
    style: 'button-secondary',
    href: '/auth/admin/confirm?action=end-sessions&user=u2',
  },
  {
    label: 'Delete',
    ariaLabel: 'Delete grace.hopper@navy.example.com',
    style: 'button-danger',
    href: '/auth/admin/confirm?action=delete&user=u2',
  },
];
const pages: Record<string, [view: string, data: Record<string, unknown>]> = {
  'sign-in-social-error': [
    'sign-in',
    {
      title: 'Sign in',
      email: 'ada@example.com',
      error: 'Wrong email or password.',
      notice: null,
      returnTo: '/reports',
      providers,
      signUpOpen: true,
      signUpHref: '/auth/sign-up?return_to=%2Freports',
      resetAvailable: true,
    },
  ],
  'sign-up-setup': [
    'sign-up',
    {
      title: 'Create the admin account',
      name: '',
      email: '',
      errors: {},
      returnTo: '/',
      providers,
      setup: 'setup-token',
      isSetup: true,
      focus: 'name',
      signInHref: '/auth/sign-in',
    },
  ],
  'sign-up-errors': [
    'sign-up',
    {
      title: 'Sign up',
      name: '',
      email: 'ada@',
      errors: {
        name: 'Enter your name (up to 100 characters).',
        email: 'Enter a valid email address.',
        password: 'Use at least 8 characters.',
        form: 'Please fix the fields below.',
      },
      returnTo: '/',
      providers,
      setup: null,
      isSetup: false,
      focus: 'name',
      signInHref: '/auth/sign-in',
    },
  ],
  'error-429': [
    'error',
    {
      title: 'Too many attempts',
      status: 429,
      heading: 'Too many attempts',
      message: 'Please wait a moment before trying again.',
      retryAfter: 60,
    },
  ],
  'error-502': [
    'error',
    {
      title: 'App unavailable',
      status: 502,
      heading: 'The app is not answering',
      message: 'Gatehouse could not reach the application behind it.',
      retryAfter: null,
    },
  ],
  forgot: ['forgot', { title: 'Reset password', email: '', error: null }],
  forbidden: [
    'forbidden',
    {
      title: 'Not open to you',
      name: 'Ada Lovelace',
      email: 'ada.lovelace@example.com',
      path: '/admin/settings/billing-and-invoices',
    },
  ],
  'forgot-no-mail': ['forgot', { title: 'Reset password', email: '', error: null, unavailable: true }],
  reset: [
    'reset',
    { title: 'New password', token: 'reset-token', errors: { password: 'That password is too common.' } },
  ],
  'reset-expired': [
    'reset',
    { title: 'New password', token: '', errors: { form: 'This link has expired or was already used.' } },
  ],
  message: [
    'message',
    {
      title: 'Check your email',
      heading: 'Check your email',
      message: 'If an account exists for ada@example.com, a link to reset its password is on its way.',
      link: { href: '/auth/sign-in', label: 'Back to sign in' },
    },
  ],
  account: [
    'account',
    {
      title: 'Account',
      user: { email: 'ada@example.com', name: 'Ada Lovelace', role: 'admin', provider: 'password' },
      sessions: [
        { id: 's1', current: true, createdAt: now, lastSeenAt: now, ip: '203.0.113.7', userAgent: 'Firefox on macOS' },
        {
          id: 's2',
          current: false,
          createdAt: now,
          lastSeenAt: now,
          ip: '2001:db8::1',
          userAgent: 'Safari on iOS',
          pairedFrom: 'Firefox on macOS',
        },
      ],
      errors: { current_password: 'That is not your current password.' },
      notice: 'Session signed out.',
      isAdmin: true,
      // architecture.md#devices: every section populated — long addresses and names that must wrap at 320px.
      emailVerified: true,
      emailChange: { blocked: null, newEmail: 'ada@lovelace.example', reauth: null },
      hasPassword: true,
      resetAvailable: true,
      security: { totp: true, recoveryLeft: 8, passkeys: 2, tokens: 1 },
      connected: [
        {
          clientId: 'c1',
          clientName: 'Claude Desktop (MCP) on the finance team’s laptop',
          resource: 'https://analytics.acme.example/mcp',
          scopes: ['reports:read', 'reports:write'],
          lastUsedAt: now,
        },
      ],
      identities: [
        {
          provider: 'Google',
          email: 'ada.lovelace.personal.account@gmail.example.com',
          since: now,
          issuer: 'https://accounts.google.com',
          subject: '1098',
          canUnlink: true,
        },
      ],
      linkable: [{ name: 'github', label: 'GitHub', action: '/auth/account/identities/link' }],
    },
  ],
  'account-social-only': [
    'account',
    {
      title: 'Account',
      user: {
        email: 'grace@navy.example.com',
        name: 'Grace Hopper',
        role: 'member',
        provider: 'google',
        groups: ['finance'],
      },
      sessions: [
        {
          id: 's1',
          current: true,
          createdAt: now,
          lastSeenAt: now,
          ip: '198.51.100.4',
          userAgent: 'Chrome on Android',
        },
      ],
      errors: {
        identities:
          'This is the only way you can sign in, so it stays: set a password (Forgot password on the sign-in page) or add a passkey first.',
      },
      notice: null,
      isAdmin: false,
      // No password and an older session: a change of address asks for a fresh sign-in instead.
      emailVerified: true,
      emailChange: {
        blocked: null,
        newEmail: '',
        reauth: {
          reason: 'Moving your account to another address',
          action: '/auth/sign-out',
          returnTo: '/auth/account',
          minutes: 10,
        },
      },
      hasPassword: false,
      resetAvailable: false,
      security: { totp: false, recoveryLeft: 0, passkeys: 0, tokens: 0 },
      identities: [
        {
          provider: 'Google',
          email: 'grace@navy.example.com',
          since: now,
          issuer: 'https://accounts.google.com',
          subject: '7',
          canUnlink: false,
        },
      ],
      linkable: [],
    },
  ],
  'sign-in-passphrase': [
    'sign-in-passphrase',
    { title: 'Enter the passphrase', error: 'That is not the passphrase.', notice: null, returnTo: '/reports' },
  ],
  'admin-groups': [
    'admin-groups',
    {
      title: 'Groups of grace.hopper@navy.example.com',
      user: { email: 'grace.hopper@navy.example.com', name: 'Grace Hopper', role: 'member' },
      groups: [
        { name: 'finance', removeHref: '/auth/admin/users/u2/groups/remove?group=finance' },
        {
          name: 'platform-operations.eu-west',
          removeHref: '/auth/admin/users/u2/groups/remove?group=platform-operations.eu-west',
        },
      ],
      action: '/auth/admin/users/u2/groups',
      back: '/auth/admin',
      value: 'Bad Name!',
      error: 'A group name is lower-case letters, digits, ".", "_" or "-" (up to 64), starting with a letter or digit.',
      notice: 'Added to finance.',
    },
  ],
  'admin-access': [
    'admin-access',
    {
      title: 'Access rules',
      mode: 'org-only',
      csrf: 'tok',
      rules: [
        { n: 1, pattern: '/healthz', who: 'public', source: 'public paths' },
        {
          n: 2,
          pattern: '/admin/settings/billing-and-invoices/*',
          who: 'allow role:admin, group:finance, email:grace.hopper@navy.example.com (GET, HEAD, POST) +mfa',
          source: 'access rules',
        },
        { n: 3, pattern: '/*', who: 'allow domain:navy.example.com', source: 'mode org-only' },
      ],
      test: { as: 'grace@navy.example.com', method: 'POST', path: '/admin/billing', error: null },
      result: {
        headline:
          'DENIED (403): POST /admin/settings/billing-and-invoices/2026 as grace.hopper@navy.example.com (role member, groups platform-operations.eu-west)',
        reason:
          'rule 2 (/admin/settings/billing-and-invoices/*) allows role:admin, group:finance, email:grace.hopper@navy.example.com; this user is none of them',
        reading:
          'read as /admin/settings/billing-and-invoices/2026, as a lenient app would (decoded, any case, trailing "/" or "." dropped)',
      },
      fallback: 'allow',
    },
  ],
  'admin-confirm': [
    'admin-confirm',
    {
      title: 'Delete this account?',
      heading: 'Delete this account?',
      button: 'Delete account',
      danger: true,
      effect: 'The account is deleted with its sessions, API keys and linked logins. This cannot be undone.',
      subject: { title: 'Grace Hopper', badge: 'member', detail: 'grace.hopper@navy.example.com' },
      action: '/auth/admin/users/u2/delete',
      cancel: '/auth/admin',
    },
  ],
  admin: [
    'admin',
    {
      title: 'Admin',
      me: {},
      total: 2,
      query: '',
      matches: 2,
      page: 0,
      pages: 2,
      prevHref: null,
      nextHref: '/auth/admin?page=1',
      notice: 'Deleted grace.hopper@navy.example.com.',
      settings: { signUp: 'open', mode: 'on' },
      users: [
        {
          id: 'u1',
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          role: 'admin',
          disabled: false,
          emailVerified: true,
          createdAt: now.iso,
          self: true,
          actions: [],
        },
        {
          id: 'u2',
          groups: ['finance', 'ops'],
          email: 'grace.hopper@navy.example.com',
          name: 'Grace Hopper',
          role: 'member',
          disabled: false,
          emailVerified: false,
          createdAt: now.iso,
          self: false,
          actions: graceActions,
        },
      ],
      keys: [
        {
          id: 'k_4f2a',
          name: 'CI deploys',
          owner: 'ada@example.com',
          role: 'member',
          scopes: ['reports:read'],
          expiry: 'expires 2026-06-01',
          lastUsedAt: now,
          revokeHref: '/auth/admin/confirm?action=revoke-key&key=k_4f2a',
        },
      ],
    },
  ],
  // The console, complete (issue 14 item 8): a search with no match, invitations with a new link, the
  // revoke-invitation confirm page, and the security events with filters.
  'admin-search-empty': [
    'admin',
    {
      title: 'Admin',
      me: {},
      total: 2,
      query: 'nobody@navy.example.com',
      matches: 0,
      page: 0,
      pages: 1,
      prevHref: null,
      nextHref: null,
      notice: null,
      settings: { signUp: 'invite', mode: 'on' },
      users: [],
      keys: [],
    },
  ],
  'admin-invites': [
    'admin-invites',
    {
      title: 'Invitations',
      signUp: 'invite',
      notice: null,
      error: null,
      form: { email: '', role: 'member', expires: '7d' },
      created: {
        email: 'grace.hopper@navy.example.com',
        role: 'admin',
        link: 'https://analytics.acme.example/auth/sign-up?invite=Q3b9ZkLm2xPaVt1W8yq0s3kLr5dN7bH2cF4gJ6mX9zA&email=grace.hopper%40navy.example.com',
        expires: now,
        mailed: true,
      },
      invites: [
        {
          id: 'a'.repeat(64),
          email: 'grace.hopper@navy.example.com',
          role: 'admin',
          expires: now,
          revokeHref: `/auth/admin/invites/${'a'.repeat(64)}/revoke`,
        },
        {
          id: 'b'.repeat(64),
          email: 'katherine.johnson.flight-dynamics@langley.nasa.example.gov',
          role: 'member',
          expires: now,
          revokeHref: `/auth/admin/invites/${'b'.repeat(64)}/revoke`,
        },
      ],
    },
  ],
  'admin-confirm-group': [
    'admin-confirm',
    {
      title: 'Remove from platform-operations.eu-west?',
      heading: 'Remove Grace Hopper from platform-operations.eu-west?',
      button: 'Remove from group',
      danger: true,
      effect:
        'Access rules that name group:platform-operations.eu-west stop letting grace.hopper@navy.example.com in within two seconds, and the app no longer receives it in X-Forwarded-Groups. You can add it back on the groups page.',
      subject: {
        title: 'grace.hopper@navy.example.com',
        badge: 'member',
        detail: 'member of finance, platform-operations.eu-west',
      },
      action: '/auth/admin/users/u2/groups/remove',
      hidden: [{ name: 'group', value: 'platform-operations.eu-west' }],
      cancel: '/auth/admin/users/u2/groups',
    },
  ],
  'admin-confirm-invite': [
    'admin-confirm',
    {
      title: 'Revoke this invitation?',
      heading: 'Revoke this invitation?',
      button: 'Revoke invitation',
      danger: true,
      effect: 'Its sign-up link stops working at once. You can invite the address again later.',
      subject: {
        title: 'grace.hopper@navy.example.com',
        badge: 'admin',
        detail: 'invitation valid until 2026-03-21 09:26 UTC',
      },
      action: `/auth/admin/invites/${'a'.repeat(64)}/revoke`,
      cancel: '/auth/admin/invites',
    },
  ],
  'admin-events': [
    'admin-events',
    {
      title: 'Security events',
      filter: { user: 'grace@example.com', event: '' },
      known: ['sign-in.failure', 'admin.action'],
      prevHref: null,
      nextHref: '/auth/admin/events?page=1',
      empty: null,
      events: [
        {
          at: now,
          event: 'sign-in.failure',
          user: 'grace.hopper@navy.example.com',
          ip: '2001:db8:85a3::8a2e:370:7334',
          detail: '',
        },
        {
          at: now,
          event: 'lockout',
          user: 'grace.hopper@navy.example.com',
          ip: '203.0.113.7',
          detail: 'locked for 15 minutes after 10 failures',
        },
        {
          at: now,
          event: 'admin.action',
          user: 'ada@example.com',
          ip: '203.0.113.9',
          detail: 'end-sessions 7f0c2a8e-51b4-4d6e-9a43-2f1b9c0d5e77',
        },
      ],
    },
  ],
  // architecture.md#devices: personal tokens (a secret just made), the pairing code with its QR code,
  // entering a code, the handoff.
  'account-tokens': [
    'account-tokens',
    {
      title: 'Personal tokens',
      user: { email: 'ada@example.com', name: 'Ada Lovelace', role: 'admin' },
      error: null,
      notice: null,
      name: '',
      created: { name: 'nightly backup', token: 'ghk_Q3b9ZkLm2xPa_Vt1W8yq0s3kLr5dN7bH2cF4gJ6mX9zA1eR0uT-Yw_Qp' },
      lifetimes: [
        { value: '90d', label: '90 days' },
        { value: '30d', label: '30 days' },
        { value: '365d', label: '1 year' },
        { value: 'never', label: 'No expiry' },
      ],
      tokens: [
        {
          id: 'Q3b9ZkLm2xPa',
          name: 'nightly backup',
          role: 'admin',
          scopes: [],
          createdAt: now,
          expiry: 'expires 2026-06-12',
          lastUsedAt: null,
          regenerateHref: '/auth/account/tokens/Q3b9ZkLm2xPa/regenerate',
          disableHref: '/auth/account/tokens/Q3b9ZkLm2xPa/disable',
        },
        {
          id: 'h7Tq2Wn0PzLc',
          name: 'reports export for the finance team’s spreadsheet',
          role: 'admin',
          scopes: ['reports:read'],
          createdAt: now,
          expiry: 'no expiry',
          lastUsedAt: now,
          regenerateHref: '/auth/account/tokens/h7Tq2Wn0PzLc/regenerate',
          disableHref: '/auth/account/tokens/h7Tq2Wn0PzLc/disable',
        },
      ],
    },
  ],
  'pair-code': [
    'pair-code',
    {
      title: 'Pair a device',
      code: 'K7M2QX',
      link: 'https://analytics.acme.example/auth/pair?code=K7M2QX',
      qrSvg: await QRCode.toString('https://analytics.acme.example/auth/pair?code=K7M2QX', {
        type: 'svg',
        margin: 2,
        errorCorrectionLevel: 'M',
      }),
      expiresAt: now,
      minutes: 5,
    },
  ],
  pair: [
    'pair',
    {
      title: 'Sign in with a code',
      code: 'K7M2QZ',
      error: 'That code is not valid. Check it, or ask for a new one: a code works once, for 5 minutes.',
    },
  ],
  handoff: [
    'handoff',
    { title: 'Continue to Gatehouse', token: 't', email: 'ada@example.com', name: 'Ada Lovelace', admin: true },
  ],
  // architecture.md#devices: the device grant (RFC 8628) — entering a code, and the approval page
  // (the built-in CLI asking an admin).
  device: [
    'device',
    {
      title: 'Connect a device',
      email: 'ada.lovelace@analytics.acme.example',
      code: 'BDFG-HJKM',
      error:
        'That code is not valid. Check it against your device, or start again there: a code works once, for 10 minutes.',
    },
  ],
  'device-confirm': [
    'device-confirm',
    {
      title: 'Connect Gatehouse CLI?',
      email: 'ada.lovelace@analytics.acme.example',
      clientName: 'Gatehouse CLI',
      unverified: false,
      userCode: 'BDFG-HJKM',
      resourceName: null,
      resourceUrl: 'https://analytics.acme.example',
      scopes: [],
      adminApi: true,
    },
  ],
};

// Second factor (architecture.md#mfa): the QR code is qrcode's own SVG, as the enrolment page embeds it.
const TOTP_URI =
  'otpauth://totp/Acme%20Analytics:ada%40example.com?issuer=Acme%20Analytics&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30';
const recoveryCodes = [
  'k7vq2-m9xht',
  'a3zfe-8npwr',
  'qd5uy-b2kjc',
  'h4tmx-r6wsn',
  'p8cva-z3yqe',
  'f2nbg-u7dkm',
  'w9ehs-c4vtx',
  'y6rkp-n2amq',
  'e5jdz-t8bfu',
  'm3xwq-k9hrv',
];
Object.assign(pages, {
  security: [
    'security',
    {
      title: 'Security',
      user: { email: 'ada@example.com', name: 'Ada Lovelace', role: 'admin', provider: 'password' },
      totp: { since: now },
      recoveryLeft: 7,
      hasPassword: true,
      passkeysHref: '/auth/account/passkeys',
      tokensHref: '/auth/account/tokens',
      errors: { code: 'That code is not right, or it was used already.' },
      notice: null,
    },
  ],
  'security-off': [
    'security',
    {
      title: 'Security',
      user: { email: 'ada@example.com', name: 'Ada Lovelace', role: 'member', provider: 'google' },
      totp: null,
      recoveryLeft: 0,
      hasPassword: false,
      passkeysHref: '/auth/account/passkeys',
      tokensHref: '/auth/account/tokens',
      errors: {},
      notice: 'The authenticator app and its recovery codes were removed.',
    },
  ],
  totp: [
    'totp',
    {
      title: 'Set up an authenticator app',
      secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      secretGroups: 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP',
      uri: TOTP_URI,
      qr: await qrSvg(TOTP_URI, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      returnTo: '/reports',
      error: 'That code is not right. Check the time on your phone, then enter the newest code.',
      required: true,
    },
  ],
  'recovery-codes': [
    'recovery-codes',
    {
      title: 'Recovery codes',
      heading: 'Authenticator app is on',
      codes: recoveryCodes,
      continueHref: '/auth/account/security',
    },
  ],
  'second-step': [
    'second-step',
    {
      title: 'Two-step sign-in',
      heading: 'Two-step sign-in',
      lede: 'Enter the code from your authenticator app, or one of your recovery codes.',
      action: '/auth/sign-in/code',
      returnTo: '/',
      error: 'That code is not right, or it was used already. Try the newest code from your app.',
      recovery: false,
      switchHref: '/auth/sign-in/code?recovery=',
      cancel: { href: '/auth/sign-in', label: 'Start again' },
    },
  ],
  'step-up-recovery': [
    'second-step',
    {
      title: 'Confirm it is you',
      heading: 'Confirm it is you',
      lede: 'This page asks for a second step. Enter the code from your authenticator app, or a recovery code.',
      action: '/auth/step-up',
      returnTo: '/secure/report',
      error: null,
      recovery: true,
      switchHref: '/auth/step-up?return_to=%2Fsecure%2Freport',
      cancel: { href: '/', label: 'Cancel' },
    },
  ],
} satisfies typeof pages);

let browser: Browser;

describe('every view in a real browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(() => browser?.close());

  for (const [width, height, colorScheme] of [
    [1280, 800, 'light'],
    [390, 844, 'dark'],
    [320, 640, 'light'],
  ] as const) {
    it(`${width}px, ${colorScheme}: no CSP violation, no sideways scrolling`, async () => {
      const renderer = createRenderer(VIEWS_DIR);
      const css = readFileSync(join(VIEWS_DIR, 'assets/gatehouse.css'));
      const js = readFileSync(join(VIEWS_DIR, 'assets/gatehouse.js'));
      const context = await browser.newContext({ viewport: { width, height }, colorScheme });
      // Pages are served from a made-up origin with Gatehouse's CSP; nothing leaves the machine.
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.pathname === '/auth/assets/gatehouse.css') return route.fulfill({ contentType: 'text/css', body: css });
        if (url.pathname === '/auth/assets/gatehouse.js')
          return route.fulfill({ contentType: 'text/javascript', body: js });
        const entry = pages[url.pathname.slice(1)];
        if (!entry) return route.fulfill({ status: 404, body: '' });
        const html = renderer.render(entry[0], { ...base, ...entry[1] });
        return route.fulfill({
          contentType: 'text/html; charset=utf-8',
          headers: { 'content-security-policy': CSP },
          body: html,
        });
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      for (const name of Object.keys(pages)) {
        await page.goto(`http://gallery.test/${name}`);
        const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(wider <= 0, `${name} at ${width}px scrolls sideways by ${wider}px`);
        // Nor does any box scroll or clip its content sideways (a table hiding its buttons, say);
        // 1px boxes are visually-hidden labels, clipped on purpose.
        const clipped = await page.evaluate(() =>
          [...document.querySelectorAll('main *')]
            .filter(
              (el) =>
                el.clientWidth > 1 &&
                el.scrollWidth > el.clientWidth + 1 &&
                getComputedStyle(el).overflowX !== 'visible',
            )
            .map((el) => el.className || el.tagName),
        );
        assert.deepEqual(clipped, [], `${name} at ${width}px`);
        await page.screenshot({
          path: join(ARTIFACTS, `gallery-${width}-${name}.png`),
          fullPage: true,
          animations: 'disabled',
        });
      }
      assert.deepEqual(problems, []);
      await context.close();
    });
  }
});
