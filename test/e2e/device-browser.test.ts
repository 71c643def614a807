// The device approval page (RFC 8628, architecture.md#devices) in a real browser (Chromium through playwright-core):
// a device asks for a code, a signed-out phone opens verification_uri_complete, signs in, comes back
// to the confirmation page, and approves; the device's next poll gets a token. Also the page where a
// code is typed. No CSP violation or script error; screenshots light/dark, desktop/phone in
// test/artifacts/device-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { REPO, withGatehouse } from '../support/gatehouse.js';
import { DEVICE_GRANT } from '../../src/oauth/device.js';
import { CHROMIUM_SKIP, scriptProblems, IPHONE, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');

const { gh } = withGatehouse({ demo: true });
let browser: Browser;

async function post(path: string, form: Record<string, string>) {
  const res = await request(gh.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, string> };
}

async function shoot(page: Page, name: string) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({
      path: join(ARTIFACTS, `device-${name}-${scheme}.png`),
      fullPage: true,
      animations: 'disabled',
    });
  }
}

describe('device approval in a real browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it('a signed-out phone opens the link, signs in, comes back, sees the code and the client, approves', async () => {
    const d = (await post('/auth/oauth/device_authorization', { client_id: 'gatehouse-cli' })).json;
    const phone = await (
      await browser.newContext({
        viewport: { width: 390, height: 844 },
        userAgent: IPHONE,
        isMobile: true,
        hasTouch: true,
      })
    ).newPage();
    const problems = scriptProblems(phone);
    await phone.goto(`${gh.url}/auth/sign-up`);
    await phone.getByLabel('Name').fill('Ada Lovelace');
    await phone.getByLabel('Email').fill('ada.device@example.com');
    await phone.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
    await Promise.all([
      phone.waitForURL(`${gh.url}/`),
      phone.getByRole('button', { name: /create account|sign up/i }).click(),
    ]);
    await phone.context().clearCookies();

    await phone.goto(d.verification_uri_complete!);
    assert.match(phone.url(), /\/auth\/sign-in\?return_to=/, 'signed out: to sign-in first');
    await phone.getByLabel('Email').fill('ada.device@example.com');
    await phone.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
    await Promise.all([
      phone.waitForURL(/\/auth\/device\?user_code=/),
      phone.getByRole('button', { name: /^sign in$/i }).click(),
    ]);
    assert.equal(await phone.getByRole('heading', { level: 1 }).textContent(), 'Connect Gatehouse CLI?');
    assert.equal((await phone.locator('.device-code').textContent())!.trim(), d.user_code);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling on a phone (${width}px)`);
    await shoot(phone, 'confirm-phone');
    const desktop = await (
      await browser.newContext({
        viewport: { width: 1280, height: 800 },
        storageState: await phone.context().storageState(),
      })
    ).newPage();
    await desktop.goto(d.verification_uri_complete!);
    await shoot(desktop, 'confirm-desktop');
    await desktop.goto(`${gh.url}/auth/device`);
    await desktop.getByLabel('Device code').fill('BCDF-GHJK');
    await desktop.getByRole('button', { name: 'Continue' }).click();
    await desktop.getByRole('alert').waitFor();
    await shoot(desktop, 'enter-desktop');

    await Promise.all([phone.waitForLoadState('load'), phone.getByRole('button', { name: 'Approve' }).click()]);
    assert.equal(await phone.getByRole('heading', { level: 1 }).textContent(), 'Device connected');
    const token = await post('/auth/oauth/token', {
      grant_type: DEVICE_GRANT,
      device_code: d.device_code!,
      client_id: 'gatehouse-cli',
    });
    assert.equal(token.status, 200);
    assert.match(token.json.access_token!, /^ghat_/);
    assert.deepEqual(problems, [], 'no CSP violation or script error');
  });
});
