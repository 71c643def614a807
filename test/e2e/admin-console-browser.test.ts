// The admin console in a real browser (Chromium through playwright-core), against a running Gatehouse
// with its real CSP: search, a confirm page that names its target and the notice after it, the
// invitations page and the security events page with a failed sign-in, filtered. Light and dark,
// desktop and phone; no CSP violation or script error. Screenshots: test/artifacts/console-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO, withGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { CHROMIUM_SKIP, scriptProblems, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');

const { gh } = withGatehouse({ upstream: true });
let browser: Browser;

describe('the admin console in a real browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    assert.equal(
      (
        await new TestClient(gh.url).signUp('ada@example.com', 'the admin password', 'Ada Lovelace', {
          setup: gh.setupToken!,
        })
      ).status,
      303,
    );
    await new TestClient(gh.url).signUp('grace.hopper@navy.example.com', 'a long password', 'Grace Hopper');
    await new TestClient(gh.url).signUp('alan@example.com', 'a long password', 'Alan Turing');
    assert.equal(
      (await new TestClient(gh.url).signIn('grace.hopper@navy.example.com', 'not her password')).status,
      401,
    );
  });
  after(() => browser?.close());

  for (const [width, height, scheme] of [
    [1280, 800, 'light'],
    [1280, 800, 'dark'],
    [390, 844, 'light'],
    [390, 844, 'dark'],
  ] as const) {
    it(`${width}px ${scheme}: search, a confirm page naming its target, invitations and events`, async () => {
      const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
      const page = await context.newPage();
      const problems = scriptProblems(page);
      const shot = (name: string) =>
        page.screenshot({
          path: join(ARTIFACTS, `console-${width}-${scheme}-${name}.png`),
          fullPage: true,
          animations: 'disabled',
        });

      await page.goto(`${gh.url}/auth/sign-in?return_to=%2Fauth%2Fadmin`);
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password', { exact: true }).fill('the admin password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(/\/auth\/admin$/);

      await page.getByLabel('Email or name').fill('hopper');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/\/auth\/admin\?q=hopper$/);
      assert.equal(await page.getByText('1 account matches “hopper”.').count(), 1);
      assert.equal(await page.getByText('alan@example.com').count(), 0);
      await shot('search');

      await page.getByRole('link', { name: 'Sign out everywhere grace.hopper@navy.example.com' }).click();
      await page.getByRole('heading', { name: 'Sign this account out everywhere?' }).waitFor();
      assert.equal(
        await page.getByText('grace.hopper@navy.example.com').count(),
        1,
        'the confirm page names its target',
      );
      await shot('confirm');
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByText('Signed grace.hopper@navy.example.com out everywhere.').waitFor();

      await page.getByRole('link', { name: 'Invitations' }).click();
      await page.getByLabel('Email').fill(`new-${width}-${scheme}@example.com`);
      await page.getByRole('button', { name: 'Create invitation' }).click();
      await page.locator('#invite-link').waitFor();
      await shot('invites');

      await page.goto(`${gh.url}/auth/admin/events`);
      await page.getByLabel('User (email)').fill('grace.hopper@navy.example.com');
      await page.getByLabel('Event', { exact: true }).fill('sign-in.failure');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/\/auth\/admin\/events\?user=/);
      assert.equal(await page.locator('.event-row').count(), 1, 'one failed sign-in of hers');
      assert.match(
        (await page.locator('.event-row').textContent()) ?? '',
        /sign-in\.failure[\s\S]*grace\.hopper@navy\.example\.com[\s\S]*127\.0\.0\.1/,
      );
      await shot('events');

      await page.getByRole('link', { name: 'Your account' }).last().click();
      await page.waitForURL(/\/auth\/account$/);
      assert.deepEqual(problems, []);
      await context.close();
    });
  }
});
