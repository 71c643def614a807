// Passkeys in a real Chromium (Debian's, through playwright-core) with the DevTools protocol's virtual
// authenticator (CTAP2, resident keys, user verification), against Gatehouse and its demo app at
// http://localhost:PORT — a secure context with a domain name, as WebAuthn requires (never 127.0.0.1).
// Register a passkey on the account page, sign out, sign in with the passkey alone, see the app,
// remove it, and see passkey sign-in refused. Screenshots of the passkeys page and the sign-in page,
// light and dark, desktop and phone (and 320px), go to test/artifacts/passkeys-*.png (gitignored).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { freePort } from '../../src/exec-app.js';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { CHROMIUM_SKIP, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');
const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
  narrow: { width: 320, height: 640 },
} as const;

/** CSP violations, script errors, failed sub-resources: none expected, except answers a test provokes on purpose. */
function watch(page: Page, expected: RegExp[] = []): string[] {
  const problems: string[] = [];
  const allowed = (s: string) => expected.some((e) => e.test(s));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/^Failed to load resource/.test(m.text()) && (m.location().url === page.url() || allowed(m.location().url)))
      return;
    problems.push(`console: ${m.text()} ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400 && !allowed(r.url()))
      problems.push(`${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** Screenshots of what the page shows now: desktop, phone and a 320px phone, light and dark; none scrolls sideways. */
async function gallery(page: Page, name: string): Promise<void> {
  for (const [label, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(wider <= 0, `${name} (${label}) scrolls sideways by ${wider}px`);
      await page.screenshot({
        path: join(ARTIFACTS, `passkeys-${name}-${label}-${colorScheme}.png`),
        fullPage: true,
        animations: 'disabled',
      });
    }
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('passkeys in a real browser', { skip }, () => {
  let browser: Browser;
  let gh: TestGatehouse;
  let origin: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    origin = `http://localhost:${port}`;
    gh = await startTestGatehouse({ port, demo: true, publicUrl: new URL(origin), appName: 'Gatehouse demo' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gh?.stop();
  });

  /** A browser context whose page has a virtual platform authenticator, as a laptop with a fingerprint reader. */
  async function withAuthenticator(): Promise<{
    context: BrowserContext;
    page: Page;
    credentials(): Promise<Array<{ isResidentCredential: boolean; rpId?: string }>>;
  }> {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop, colorScheme: 'light' });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return {
      context,
      page,
      credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    };
  }

  it('registers a passkey, signs in with it alone, removes it, and is then refused', { timeout: 120_000 }, async () => {
    const { context, page, credentials } = await withAuthenticator();
    const problems = watch(page, [/\/auth\/passkeys\/sign-in\/verify$/]); // the last sign-in is refused on purpose
    const email = 'passkey-person@example.com';

    // An account, made with a password the usual way.
    await page.goto(origin + '/auth/sign-up');
    await page.getByLabel('Name').fill('Ada Passkey');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a long and memorable passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(origin + '/');

    // Account › Passkeys: add one under a name.
    await page.goto(origin + '/auth/account');
    await page.getByRole('link', { name: 'Passkeys' }).click();
    await page.waitForURL(origin + '/auth/account/passkeys');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Passkeys');
    assert.equal(await page.getByText('You have no passkeys yet.').isVisible(), true);
    assert.equal(await page.locator('[data-passkey-unsupported]').isVisible(), false, 'this browser can make passkeys');
    await gallery(page, 'page-empty');
    await page.getByLabel('Name').fill('Test laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(origin + '/auth/account/passkeys?done=added');
    assert.match((await page.getByRole('status').textContent()) ?? '', /Passkey added/);
    assert.equal(await page.locator('.passkey-row .row-title').textContent(), 'Test laptop');
    const made = await credentials();
    assert.equal(made.length, 1);
    assert.equal(made[0]!.isResidentCredential, true, 'a discoverable credential');
    assert.equal(made[0]!.rpId, 'localhost');
    const user = (await gh.store.findUserByEmail(email))!;
    assert.equal((await gh.store.listPasskeys(user.id)).length, 1);
    await gallery(page, 'page');

    // Sign out; the sign-in page offers the passkey.
    await page.goto(origin + '/auth/sign-out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/auth\/sign-in/);
    const passkeyButton = page.getByRole('button', { name: 'Sign in with a passkey' });
    assert.equal(await passkeyButton.isVisible(), true);
    await gallery(page, 'sign-in');

    // The passkey alone: no email, no password.
    await page.goto(origin + '/auth/sign-in?return_to=%2F');
    await passkeyButton.click();
    await page.waitForURL(origin + '/');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `Signed in as ${email}`);
    assert.equal(await page.locator('tr', { hasText: 'x-forwarded-provider' }).locator('td').textContent(), 'passkey');
    assert.equal(await page.locator('tr', { hasText: 'x-forwarded-user' }).locator('td').textContent(), user.id);
    assert.ok((await gh.store.listPasskeys(user.id))[0]!.lastUsedAt, 'last use recorded');

    // Remove it, after the confirmation.
    await page.goto(origin + '/auth/account/passkeys');
    assert.match((await page.locator('.passkey-row .hint').textContent()) ?? '', /last used/);
    await page.getByRole('link', { name: 'Remove Test laptop' }).click();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Remove this passkey?');
    await gallery(page, 'remove-confirm');
    await page.getByRole('button', { name: 'Remove passkey' }).click();
    await page.waitForURL(origin + '/auth/account/passkeys?done=removed');
    assert.equal(await page.getByText('You have no passkeys yet.').isVisible(), true);
    assert.deepEqual(await gh.store.listPasskeys(user.id), []);

    // The authenticator still holds its copy, but Gatehouse no longer accepts it.
    await page.goto(origin + '/auth/sign-out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/auth\/sign-in/);
    await passkeyButton.click();
    const alert = page.locator('form[data-passkey="sign-in"] [role="alert"]');
    await alert.waitFor({ state: 'visible' });
    assert.match((await alert.textContent()) ?? '', /not registered here/);
    assert.match(page.url(), /\/auth\/sign-in/);
    assert.equal(
      (await context.cookies()).some((c) => c.name === 'gatehouse_session'),
      false,
      'no session',
    );
    await gallery(page, 'sign-in-refused');

    const audit = gh.auditLines.map((l) => JSON.parse(l) as { event: string }).map((l) => l.event);
    for (const event of ['passkey.added', 'passkey.used', 'passkey.removed', 'passkey.refused'])
      assert.ok(audit.includes(event), event);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('hides the passkey button in a browser without WebAuthn; password sign-in is untouched', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.phone });
    await context.addInitScript(() => {
      delete (window as { PublicKeyCredential?: unknown }).PublicKeyCredential;
    });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(origin + '/auth/sign-in');
    assert.equal(await page.locator('form[data-passkey="sign-in"]').isHidden(), true);
    assert.equal(await page.locator('[data-passkey-divider]').isHidden(), true);
    assert.equal(await page.getByLabel('Email').isVisible(), true);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
