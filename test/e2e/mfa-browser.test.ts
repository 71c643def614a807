// The second factor in a real Chromium against a running Gatehouse (its real CSP headers): set up an
// authenticator app from the Security page (the QR code renders, nothing is blocked), keep the recovery
// codes, sign out, sign in again in two steps with a recovery code, and land in the app with amr
// pwd+otp. Screenshots go to test/artifacts/mfa-* (gitignored), desktop light and phone dark.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { totpAt } from '../support/totp.js';
import { CHROMIUM_SKIP, pageProblems, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');
const PASSWORD = 'a long and memorable passphrase';

/** CSP violations, script errors and failed sub-resources. */

describe('second factor in a real browser', { skip }, () => {
  let browser: Browser;
  let gh: TestGatehouse;
  let upstream: RecordingUpstream;
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gh?.stop();
    await upstream?.close();
  });

  for (const [label, viewport, colorScheme] of [
    ['desktop', { width: 1280, height: 800 }, 'light'],
    ['phone', { width: 390, height: 844 }, 'dark'],
  ] as const) {
    it(`sets up an authenticator app and signs in with two steps (${label}, ${colorScheme})`, async () => {
      const context = await browser.newContext({ viewport, colorScheme });
      const page = await context.newPage();
      const problems = pageProblems(page);
      const shot = (name: string) =>
        page.screenshot({ path: join(ARTIFACTS, `mfa-${label}-${name}.png`), fullPage: true, animations: 'disabled' });
      const email = `mfa-${label}@example.com`;

      await page.goto(`${gh.url}/auth/sign-up`);
      await page.getByLabel('Name').fill('Ada Lovelace');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${gh.url}/`);

      await page.goto(`${gh.url}/auth/account`);
      await page.getByRole('link', { name: 'Security settings' }).click();
      await page.waitForURL(/\/auth\/account\/security$/);
      await shot('1-security-off');
      await page.getByRole('link', { name: 'Set up' }).click();
      await page.waitForURL(/\/auth\/account\/totp$/);
      // The QR code is drawn (an SVG that fills its box) under the page's CSP.
      const qr = await page.getByRole('img', { name: /QR code/ }).boundingBox();
      assert.ok(qr && qr.width >= 150 && qr.height >= 150, JSON.stringify(qr));
      await page.getByText('Cannot scan? Enter the key by hand').click();
      const secret = ((await page.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.equal(await page.getByLabel('6-digit code').getAttribute('autocomplete'), 'one-time-code');
      await shot('2-enrol');
      await page.getByLabel('6-digit code').fill(totpAt(secret, Date.now()));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.getByRole('heading', { name: 'Authenticator app is on' }).waitFor();
      const codes = await page.locator('ol.codes code').allTextContents();
      assert.equal(codes.length, 10);
      await shot('3-recovery-codes');
      await page.getByRole('link', { name: 'I have saved them' }).click();
      await page.waitForURL(/\/auth\/account\/security$/);
      assert.match((await page.locator('.list-row').first().textContent()) ?? '', /on/);
      await shot('4-security-on');

      await page.goto(`${gh.url}/auth/sign-out`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/auth\/sign-in/);

      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/auth\/sign-in\/code$/);
      assert.equal(await page.getByLabel('Code from your authenticator app').getAttribute('inputmode'), 'numeric');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'code', 'the code field has focus');
      await shot('5-second-step');
      await page.getByRole('link', { name: 'Use a recovery code' }).click();
      assert.equal(await page.getByLabel('Recovery code').getAttribute('inputmode'), 'text');
      await page.getByLabel('Recovery code').fill(codes[0]!);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${gh.url}/`);
      const me = await page.goto(`${gh.url}/auth/me`);
      assert.deepEqual((await me!.json()).amr, ['pwd', 'otp']);

      assert.deepEqual(problems, []);
      await context.close();
    });
  }
});
