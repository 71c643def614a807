// A real browser (Debian's Chromium through playwright-core) in front of `gatehouse serve --demo`:
// sign up, land on the demo app and see your own email, sign out, be sent back to sign-in.
// Screenshots of every page go to test/artifacts/ (desktop and phone, light and dark).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO, spawnServe, tempHome } from '../support/gatehouse.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
const ARTIFACTS = join(REPO, 'test/artifacts');

let browser: Browser;
let server: Awaited<ReturnType<typeof spawnServe>>;
let home: ReturnType<typeof tempHome>;

describe('in a real browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    home = tempHome();
    server = await spawnServe(['--demo'], { GATEHOUSE_HOME: home.home });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
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
      const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${label}-${name}.png`), fullPage: true });
      const email = `${label}@example.com`;

      await page.goto(server.url + '/');
      assert.match(page.url(), /\/auth\/sign-in\?return_to=%2F$/);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in to Gatehouse demo');
      await shot('1-sign-in');

      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByLabel('Name').fill('Ada Lovelace');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      assert.match(await page.locator('#password-error').textContent() ?? '', /at least 8/);
      assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
      await shot('2-sign-up-error');

      await page.getByLabel('Password').fill('a long and memorable passphrase');
      await page.getByLabel('Password').focus();
      await shot('3-sign-up-focus');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(server.url + '/');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), `Signed in as ${email}`);
      await shot('4-app');

      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'gatehouse_session')!;
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');

      await page.goto(server.url + '/auth/account');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your account');
      await shot('5-account');

      await page.goto(server.url + '/');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/auth\/sign-in/);
      assert.match(await page.getByRole('status').textContent() ?? '', /signed out/);
      await shot('6-signed-out');

      await page.goto(server.url + '/');
      assert.match(page.url(), /\/auth\/sign-in/, 'signed out means signed out');
      await page.goto(server.url + '/auth/nothing-here');
      await shot('7-not-found');
      await context.close();
    });
  }
});
