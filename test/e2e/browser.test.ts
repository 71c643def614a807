// A real browser (Debian's Chromium through playwright-core) in front of `gatehouse serve --demo`:
// sign up, land on the demo app and see your own email, sign out, be sent back to sign-in.
// Screenshots of every page go to test/artifacts/ (gitignored): desktop 1280x800 and phone 390x844,
// each page in the run's colour scheme and again in the other one, plus a keyboard-focused field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO, spawnServe, tempHome } from '../support/gatehouse.js';
import { CHROMIUM_SKIP, pageProblems, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');

let browser: Browser;
let server: Awaited<ReturnType<typeof spawnServe>>;
let home: ReturnType<typeof tempHome>;

/** Wider than the viewport means a sideways scrollbar on a phone. */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('in a real browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    home = tempHome();
    server = await spawnServe(['--demo'], { GATEHOUSE_HOME: home.home });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    home?.cleanup();
  });

  for (const [label, viewport, colorScheme] of [
    ['desktop', { width: 1280, height: 800 }, 'light'],
    ['phone', { width: 390, height: 844 }, 'dark'],
  ] as const) {
    it(`signs up, sees its own email in the app, signs out (${label}, ${colorScheme})`, async () => {
      const context = await browser.newContext({ viewport, colorScheme });
      const page = await context.newPage();
      const problems = pageProblems(page);
      const other = colorScheme === 'light' ? 'dark' : 'light';
      // animations: 'disabled' finishes the 0.15 s colour transitions (focus ring, scheme switch)
      // instead of catching them half-way.
      const shot = async (name: string) => {
        await page.screenshot({
          path: join(ARTIFACTS, `${label}-${name}.png`),
          fullPage: true,
          animations: 'disabled',
        });
        await page.emulateMedia({ colorScheme: other });
        await page.screenshot({
          path: join(ARTIFACTS, `${label}-${name}-${other}.png`),
          fullPage: true,
          animations: 'disabled',
        });
        await page.emulateMedia({ colorScheme });
      };
      const email = `${label}@example.com`;

      await page.goto(server.url + '/');
      assert.match(page.url(), /\/auth\/sign-in\?return_to=%2F$/);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in to Gatehouse demo');
      // The stylesheet loaded (CSP style-src 'self'): the card is not the browser's default transparent box.
      assert.notEqual(
        await page.locator('.card').evaluate((el) => getComputedStyle(el).backgroundColor),
        'rgba(0, 0, 0, 0)',
      );
      await shot('1-sign-in');

      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByLabel('Name').fill('Ada Lovelace');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      assert.match((await page.locator('#password-error').textContent()) ?? '', /at least 8/);
      assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password', 'the invalid field has focus');
      await shot('2-sign-up-error');

      // Keyboard focus is visible: Tab from Name to Email draws a ring the unfocused field lacks.
      await page.getByLabel('Name').focus();
      const ringOf = () => page.evaluate(() => getComputedStyle(document.activeElement!).boxShadow);
      const unfocused = await page.getByLabel('Email').evaluate((el) => getComputedStyle(el).boxShadow);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');
      const ring = await ringOf();
      assert.notEqual(ring, unfocused);
      assert.notEqual(ring, 'none');
      await shot('3-keyboard-focus');

      await page.getByLabel('Password').fill('a long and memorable passphrase');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(server.url + '/');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `Signed in as ${email}`);
      assert.equal(
        await page.locator('tr', { hasText: 'x-forwarded-name' }).locator('td').textContent(),
        'Ada Lovelace',
      );
      await shot('4-app');

      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'gatehouse_session')!;
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');

      await page.goto(server.url + '/auth/account');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your account');
      await shot('5-account');

      await page.goto(server.url + '/auth/sign-out');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign out?');
      await shot('6-sign-out-confirm');

      // Sign out with the demo app's own button: a plain same-origin POST form.
      await page.goto(server.url + '/');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/auth\/sign-in/);
      assert.match((await page.getByRole('status').textContent()) ?? '', /signed out/);
      await shot('7-signed-out');

      await page.goto(server.url + '/');
      assert.match(page.url(), /\/auth\/sign-in/, 'signed out means signed out');
      await page.goto(server.url + '/auth/nothing-here');
      await shot('8-not-found');

      assert.deepEqual(problems, []);
      await context.close();
    });
  }

  it('fits a 320px-wide screen without sideways scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    const problems = pageProblems(page);
    await page.goto(server.url + '/auth/sign-in');
    assert.ok((await overflow(page)) <= 0, 'sign-in');
    await page.goto(server.url + '/auth/sign-up');
    await page.getByLabel('Name').fill('Grace Brewster Murray Hopper');
    await page.getByLabel('Email').fill('narrow-screen-with-a-long-address@example.com');
    await page.getByLabel('Password').fill('a long and memorable passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(server.url + '/');
    assert.ok((await overflow(page)) <= 0, 'demo app');
    await page.screenshot({ path: join(ARTIFACTS, 'narrow-app.png'), fullPage: true, animations: 'disabled' });
    await page.goto(server.url + '/auth/account');
    assert.ok((await overflow(page)) <= 0, 'account');
    await page.screenshot({ path: join(ARTIFACTS, 'narrow-account.png'), fullPage: true, animations: 'disabled' });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
