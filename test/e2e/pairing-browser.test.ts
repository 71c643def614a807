// Pairing in a real browser (Chromium through playwright-core), two contexts as two devices: a signed-in
// laptop asks for a code on its account page (the QR code page is screenshotted), a phone opens the
// link and signs in with one button; the laptop's account page then lists the phone, paired from it.
// No CSP violation or script error on any page. Screenshots go to test/artifacts/pairing-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO, withGatehouse } from '../support/gatehouse.js';
import { CHROMIUM_SKIP, scriptProblems, IPHONE, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');

const { gh } = withGatehouse({ demo: true });
let browser: Browser;

describe('pairing in a real browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it('signs a phone in with the code from a laptop, into its own session', async () => {
    const laptop = await (
      await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    ).newPage();
    const laptopProblems = scriptProblems(laptop);
    await laptop.goto(`${gh.url}/auth/sign-up`);
    await laptop.getByLabel('Name').fill('Ada Lovelace');
    await laptop.getByLabel('Email').fill('ada.pair@example.com');
    await laptop.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
    await Promise.all([
      laptop.waitForURL(`${gh.url}/`),
      laptop.getByRole('button', { name: /create account|sign up/i }).click(),
    ]);

    await laptop.goto(`${gh.url}/auth/account`);
    await Promise.all([
      laptop.waitForURL(`${gh.url}/auth/account/pair`),
      laptop.getByRole('button', { name: 'Pair a device' }).click(),
    ]);
    assert.equal(await laptop.getByRole('heading', { level: 1 }).textContent(), 'Pair a device');
    const code = (await laptop.locator('.pair-code').textContent())!.trim();
    assert.match(code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    const qr = laptop.getByRole('img', { name: 'QR code of the pairing link' });
    const box = (await qr.boundingBox())!;
    assert.ok(box.width >= 150 && box.height >= 150, `the QR code is big enough to scan (${box.width}×${box.height})`);
    const link = (await laptop.locator('.pair-link').getAttribute('href'))!;
    assert.equal(link, `${gh.url}/auth/pair?code=${code}`);
    await laptop.screenshot({
      path: join(ARTIFACTS, 'pairing-qr-desktop.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await laptop.emulateMedia({ colorScheme: 'dark' });
    await laptop.screenshot({
      path: join(ARTIFACTS, 'pairing-qr-desktop-dark.png'),
      fullPage: true,
      animations: 'disabled',
    });

    const phoneContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
      userAgent: IPHONE,
      isMobile: true,
      hasTouch: true,
    });
    const phone = await phoneContext.newPage();
    const phoneProblems = scriptProblems(phone);
    await phone.goto(link);
    assert.equal(await phone.getByLabel('Pairing code').inputValue(), code, 'the link fills the code in');
    await phone.screenshot({
      path: join(ARTIFACTS, 'pairing-enter-phone.png'),
      fullPage: true,
      animations: 'disabled',
    });
    await Promise.all([
      phone.waitForURL(`${gh.url}/`),
      phone.getByRole('button', { name: 'Sign in on this device' }).click(),
    ]);
    assert.match((await phone.textContent('body'))!, /ada\.pair@example\.com/, 'the app sees the same user');
    await phone.goto(`${gh.url}/auth/me`);
    const me = JSON.parse((await phone.textContent('body'))!) as { email: string; provider: string };
    assert.deepEqual([me.email, me.provider], ['ada.pair@example.com', 'pairing']);
    const cookies = async (p: Page) => (await p.context().cookies()).find((c) => c.name === 'gatehouse_session')?.value;
    assert.notEqual(await cookies(phone), await cookies(laptop), 'its own session');

    await laptop.goto(`${gh.url}/auth/account`);
    const rows = await laptop.locator('.list-row').allTextContents();
    assert.ok(
      rows.some((r) => /Safari on iOS/.test(r) && /paired from Chrome on Linux/.test(r)),
      rows.join(' | '),
    );
    await laptop.screenshot({
      path: join(ARTIFACTS, 'pairing-account-desktop-dark.png'),
      fullPage: true,
      animations: 'disabled',
    });

    // The same code a second time, from the phone's browser: refused, the form says why.
    await phone.goto(link);
    await phone.getByRole('button', { name: 'Sign in on this device' }).click();
    await phone.waitForSelector('[role="alert"]');
    assert.match((await phone.getByRole('alert').textContent())!, /not valid/);
    assert.deepEqual([...laptopProblems, ...phoneProblems], []);
  });
});
