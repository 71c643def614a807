// The account page in a real Chromium against a running Gatehouse (its real CSP headers), with every
// section it can fill for real: a linked identity, a personal token, two factors' summary, two
// devices. The email change is done by hand (the link from a real SMTP server opened in the browser),
// then "sign out everywhere else" ends the phone's session. Screenshots, light and dark, desktop and
// phone, go to test/artifacts/account-*.png; no CSP violation or script error; nothing scrolls
// sideways at 320px.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { TestClient } from '../support/client.js';
import { emptyState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey, seal } from '../../src/config/secrets.js';
import { CHROMIUM_SKIP, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');
const PASSWORD = 'a long and memorable passphrase';
const EMAIL = 'ada.account@example.com';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

/** CSP violations, script errors and failed sub-resources. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()} ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
  return problems;
}

describe('the account page in a real browser', { skip }, () => {
  let browser: Browser;
  let gh: TestGatehouse;
  let smtp: SmtpSink;
  let home: ReturnType<typeof tempHome>;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    smtp = await startSmtpSink();
    home = tempHome();
    const state = enableAuth(emptyState(), loadMasterKey(home.home, {}), null);
    state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
    // A provider to offer "Link …" for; the test never reaches it (its identity is linked in the store).
    state.providers = [
      { name: 'github', kind: 'github', clientId: 'id', clientSecret: seal('secret', loadMasterKey(home.home, {})) },
    ];
    writeState({ home: home.home, server: 'local', profile: 'main' }, state);
    gh = await startTestGatehouse({ home: home.home });
    const c = new TestClient(gh.url);
    await c.signUp(EMAIL, PASSWORD, 'Ada Lovelace');
    await smtp.waitFor(EMAIL);
    const user = (await gh.store.findUserByEmail(EMAIL))!;
    await gh.store.updateUser(user.id, { emailVerified: true, role: 'admin' }, new Date());
    await gh.store.linkIdentity({
      issuer: 'https://accounts.google.com',
      subject: '1098',
      provider: 'google',
      userId: user.id,
      email: 'ada.lovelace@gmail.example.com',
      createdAt: new Date(),
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gh?.stop();
    await smtp?.close();
    home?.cleanup();
  });

  async function signIn(context: BrowserContext, email: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${gh.url}/auth/sign-in?return_to=%2Fauth%2Faccount`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${gh.url}/auth/account`),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    return page;
  }

  it('shows every section, changes the address by the mailed link, and signs the phone out from the laptop', async () => {
    const laptopContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const phoneContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
      userAgent: IPHONE,
      isMobile: true,
      hasTouch: true,
    });
    const laptop = await signIn(laptopContext, EMAIL);
    const problems = watch(laptop);
    const phone = await signIn(phoneContext, EMAIL);
    const phoneProblems = watch(phone);

    // A personal token, made on its own page, shows in the Security summary.
    await laptop.goto(`${gh.url}/auth/account/tokens`);
    await laptop.getByLabel('Name').fill('nightly backup');
    await laptop.getByRole('button', { name: /create|generate/i }).click();
    // The answer (the token, shown once) before the next navigation: leaving earlier aborts the POST.
    await laptop.getByRole('heading', { name: /Your new token/ }).waitFor();
    await laptop.goto(`${gh.url}/auth/account`);
    for (const name of ['Profile', 'Security', 'Sessions', 'Linked accounts']) {
      assert.equal(await laptop.getByRole('heading', { level: 2, name }).count(), 1, name);
    }
    assert.match((await laptop.locator('#security').textContent())!, /1 active/);
    assert.match((await laptop.locator('#sessions').textContent())!, /Safari on iOS/);
    assert.match((await laptop.locator('#linked').textContent())!, /ada\.lovelace@gmail\.example\.com/);
    assert.equal(await laptop.getByRole('button', { name: 'Link GitHub' }).count(), 1);
    assert.equal(await laptop.getByRole('link', { name: 'Admin console' }).count(), 2, 'in the lede and at the foot');
    await laptop.screenshot({
      path: join(ARTIFACTS, 'account-desktop-light.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await laptop.emulateMedia({ colorScheme: 'dark' });
    await laptop.screenshot({
      path: join(ARTIFACTS, 'account-desktop-dark.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await laptop.emulateMedia({ colorScheme: 'light' });

    await phone.goto(`${gh.url}/auth/account`);
    assert.equal(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0);
    await phone.screenshot({ path: join(ARTIFACTS, 'account-phone-dark.png'), fullPage: true, animations: 'disabled' });
    await phone.emulateMedia({ colorScheme: 'light' });
    await phone.screenshot({
      path: join(ARTIFACTS, 'account-phone-light.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await phone.setViewportSize({ width: 320, height: 640 });
    assert.equal(
      await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
      0,
      'no sideways scroll at 320px',
    );

    // The address, changed by hand: the form, the mail, the link opened in this browser, the button.
    const next = 'ada@lovelace.example';
    await laptop.getByLabel('New email address').fill(next);
    await laptop.locator('#email_password').fill(PASSWORD);
    await laptop.getByRole('button', { name: 'Send confirmation link' }).click();
    assert.match((await laptop.getByRole('status').textContent())!, /a link is on its way/);
    const link = /(http:\/\/\S+\/auth\/account\/email\/confirm\?token=\S+)/.exec((await smtp.waitFor(next)).text)![1]!;
    await laptop.goto(link);
    await laptop.screenshot({
      path: join(ARTIFACTS, 'account-email-confirm.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await laptop.getByRole('button', { name: 'Change my address' }).click();
    assert.equal(await laptop.getByRole('heading', { level: 1 }).textContent(), 'Email changed');
    assert.match((await smtp.waitFor(EMAIL)).subject, /email address was changed/);

    // Sign out everywhere else: a confirmation page, then the phone is signed out and the laptop not.
    await laptop.goto(`${gh.url}/auth/account`);
    await laptop.getByRole('link', { name: 'Sign out everywhere else' }).click();
    assert.equal(await laptop.getByRole('heading', { level: 1 }).textContent(), 'Sign out everywhere else?');
    await laptop.getByRole('button', { name: 'Sign out everywhere else' }).click();
    assert.match((await laptop.getByRole('status').textContent())!, /Signed out 1 other session/);
    await phone.goto(`${gh.url}/auth/account`);
    assert.match(phone.url(), /\/auth\/sign-in/, 'the phone has to sign in again');
    await laptop.goto(`${gh.url}/auth/account`);
    assert.equal(laptop.url(), `${gh.url}/auth/account`, 'the laptop stays signed in');

    assert.deepEqual(problems, []);
    assert.deepEqual(phoneProblems, []);
    await laptopContext.close();
    await phoneContext.close();
  });
});
