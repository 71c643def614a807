// The pages a newcomer meets in their first hour: the admin console reachable from the account page and
// back, destructive admin actions confirmed on their own page and reported by name, a forgot page that
// helps without mail, password errors said once, session times with their zone, a sign-in tab order
// that reaches "Forgot password?" after the password, a username for password managers on the change
// form; and, in Chromium, the show-password toggle and busy buttons of gatehouse.js, with screenshots
// (light and dark, 1280 and 390 wide) in test/artifacts/pages-*.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { emptyState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey } from '../../src/config/secrets.js';
import { CHROMIUM_SKIP, pageProblems, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');
const ADMIN = { email: 'root@example.com', password: 'the admin password' };

let upstream: RecordingUpstream;
let smtp: SmtpSink;
let mailHome: ReturnType<typeof tempHome>;
let gh: TestGatehouse; // no mail: the usual first install
let mailed: TestGatehouse; // with an smtp binding: reset by email exists
let admin: TestClient;

/** A member account on `gh`; returns its client and id. */
async function member(email: string): Promise<{ client: TestClient; id: string }> {
  const client = new TestClient(gh.url);
  assert.equal((await client.signUp(email, 'a member password', email.split('@')[0])).status, 303);
  return { client, id: JSON.parse((await client.get('/auth/me')).text).id };
}

/** The one form of a page posting to `action`, or ''. */
const formTo = (html: string, action: string) =>
  [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]).find((f) => f.includes(`action="${action}"`)) ??
  '';

before(async () => {
  upstream = await startRecordingUpstream();
  smtp = await startSmtpSink();
  gh = await startTestGatehouse({ upstream: upstream.url });
  admin = new TestClient(gh.url);
  assert.equal((await admin.signUp(ADMIN.email, ADMIN.password, 'Root', { setup: gh.setupToken! })).status, 303);
  mailHome = tempHome();
  const state = enableAuth(emptyState(), loadMasterKey(mailHome.home, {}), null);
  state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
  writeState({ home: mailHome.home, server: 'local', profile: 'main' }, state);
  mailed = await startTestGatehouse({ home: mailHome.home, upstream: upstream.url });
});
after(async () => {
  await gh?.stop();
  await mailed?.stop();
  mailHome?.cleanup();
  await smtp?.close();
  await upstream?.close();
});

describe('pages over HTTP', () => {
  it('1. the account page links admins (only) to the console, and the console links back', async () => {
    const account = await admin.get('/auth/account');
    assert.match(account.text, /<a href="\/auth\/admin">Admin console<\/a>/);
    const { client } = await member('plain-member@example.com');
    assert.doesNotMatch((await client.get('/auth/account')).text, /href="\/auth\/admin"/);
    assert.match((await admin.get('/auth/admin')).text, /<a href="\/auth\/account">Your account<\/a>/);
  });

  it('2. delete asks on its own page first, then the console says who was deleted', async () => {
    const { id } = await member('ada@example.com');
    const console1 = (await admin.get('/auth/admin')).text;
    // The console links to the confirm page; it has no form that deletes at once.
    assert.match(
      console1,
      new RegExp(`href="/auth/admin/confirm\\?action=delete&amp;user=${id}" aria-label="Delete ada@example.com"`),
    );
    assert.equal(formTo(console1, `/auth/admin/users/${id}/delete`), '');

    const confirm = await admin.get(`/auth/admin/confirm?action=delete&user=${id}`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /<h1 id="page-title">Delete this account\?<\/h1>/);
    assert.match(confirm.text, /ada@example\.com/);
    assert.match(confirm.text, /cannot be undone/);
    const form = formTo(confirm.text, `/auth/admin/users/${id}/delete`);
    assert.match(form, /^<form method="post"/);
    assert.match(form, /<input type="hidden" name="csrf" value="[^"]+">/);
    assert.match(form, /<button[^>]*type="submit">Delete account<\/button>/);
    assert.match(confirm.text, /<a href="\/auth\/admin">Cancel<\/a>/);
    assert.ok(await gh.store.findUserById(id), 'looking at the confirm page changes nothing');

    const done = await admin.post(`/auth/admin/users/${id}/delete`, { csrf: csrfFrom(form) });
    assert.equal(done.status, 303);
    assert.equal(await gh.store.findUserById(id), null);
    const back = await admin.get(String(done.headers.location));
    assert.match(back.text, /<p class="notice" role="status">Deleted ada@example\.com\.<\/p>/);
  });

  it('2. disable, role changes and key revocation confirm too, and report by name', async () => {
    const { id } = await member('grace@example.com');
    for (const [action, heading, said] of [
      ['disable', 'Disable this account?', 'Disabled grace@example.com and ended their sessions.'],
      ['make-admin', 'Make this account an admin?', 'grace@example.com is now an admin (from their next sign-in).'],
      ['make-member', 'Make this account a member?', 'grace@example.com is now a member (from their next sign-in).'],
    ] as const) {
      const confirm = await admin.get(`/auth/admin/confirm?action=${action}&user=${id}`);
      assert.equal(confirm.status, 200, action);
      assert.match(confirm.text, new RegExp(`<h1 id="page-title">${heading.replace('?', '\\?')}</h1>`));
      const form = formTo(confirm.text, `/auth/admin/users/${id}/${action}`);
      assert.ok(form, action);
      const done = await admin.post(`/auth/admin/users/${id}/${action}`, { csrf: csrfFrom(form) });
      assert.equal(done.status, 303, action);
      assert.ok((await admin.get(String(done.headers.location))).text.includes(`role="status">${said}</p>`), action);
    }

    const owner = (await gh.store.findUserById(id))!;
    const { key } = await gh.apiKeys.issue(owner, 'CI deploys', 'member', null);
    assert.match(
      (await admin.get('/auth/admin')).text,
      new RegExp(`href="/auth/admin/confirm\\?action=revoke-key&amp;key=${key.id}"`),
    );
    const confirm = await admin.get(`/auth/admin/confirm?action=revoke-key&key=${key.id}`);
    assert.match(confirm.text, /Revoke this API key\?/);
    assert.match(confirm.text, /CI deploys/);
    assert.match(confirm.text, /owned by grace@example\.com/);
    const done = await admin.post(`/auth/admin/keys/${key.id}/revoke`, {
      csrf: csrfFrom(formTo(confirm.text, `/auth/admin/keys/${key.id}/revoke`)),
    });
    assert.ok(
      (await admin.get(String(done.headers.location))).text.includes(
        'role="status">Revoked the API key “CI deploys”.</p>',
      ),
    );
  });

  it('2. confirm pages are for admins, about someone else, and a made-up notice is not shown', async () => {
    const { client, id } = await member('linus@example.com');
    assert.equal((await client.get(`/auth/admin/confirm?action=delete&user=${id}`)).status, 403);
    assert.equal((await new TestClient(gh.url).get(`/auth/admin/confirm?action=delete&user=${id}`)).status, 302);
    assert.equal((await admin.get(`/auth/admin/confirm?action=explode&user=${id}`)).status, 404);
    assert.equal((await admin.get('/auth/admin/confirm?action=delete&user=nobody')).status, 404);
    const me = JSON.parse((await admin.get('/auth/me')).text).id;
    assert.equal((await admin.get(`/auth/admin/confirm?action=delete&user=${me}`)).status, 400);
    // Only the redirect after a real action carries a notice the console will show.
    const forged = await admin.get(`/auth/admin?done=delete&who=${encodeURIComponent('the CEO')}&sig=x`);
    assert.equal(forged.status, 200);
    assert.doesNotMatch(forged.text, /Deleted|role="status"/);
  });

  it('3. without mail, the forgot page says what to do, and sign-in does not offer it', async () => {
    const visitor = new TestClient(gh.url);
    const page = await visitor.get('/auth/forgot');
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      /Password reset by email is not set up for this app\. Ask an administrator to reset your password\./,
    );
    assert.match(page.text, /<code>gatehouse users /);
    assert.doesNotMatch((await visitor.get('/auth/sign-in')).text, /\/auth\/forgot/);
    const post = await visitor.post('/auth/forgot', { email: 'x@example.com', csrf: 'x' });
    assert.equal(post.status, 404);
    assert.match(post.text, /not set up for this app/);
    // With mail, the link is there and leads to the form.
    const withMail = new TestClient(mailed.url);
    assert.match((await withMail.get('/auth/sign-in')).text, /href="\/auth\/forgot">Forgot password\?<\/a>/);
    assert.match((await withMail.get('/auth/forgot')).text, /<form method="post" action="\/auth\/forgot"/);
  });

  it('4. a password error is said once, not again by the hint under the field', async () => {
    const visitor = new TestClient(gh.url);
    const signUp = await visitor.signUp('short@example.com', 'short', 'Short');
    assert.equal(signUp.status, 400);
    assert.equal((signUp.text.match(/8 characters/g) ?? []).length, 1, 'sign-up');
    assert.match(signUp.text, /<p class="field-error" id="password-error">Use at least 8 characters\.<\/p>/);

    const { client } = await member('changer@example.com');
    const account = await client.post('/auth/account/password', {
      csrf: await client.csrf('/auth/account'),
      current_password: 'a member password',
      password: 'short',
    });
    assert.equal(account.status, 400);
    assert.equal((account.text.match(/8 characters/g) ?? []).length, 1, 'account');
    assert.match(account.text, /aria-describedby="password-error" aria-invalid="true"/);
  });

  it('5. session times carry their zone', async () => {
    const html = (await admin.get('/auth/account')).text;
    const times = [...html.matchAll(/<time datetime="([^"]+)">([^<]+)<\/time>/g)];
    assert.ok(times.length >= 2);
    for (const [, iso, shown] of times) {
      assert.match(iso!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(shown, `${iso!.slice(0, 10)} ${iso!.slice(11, 16)} UTC`);
    }
  });

  it('6. sign-in: email, then password, then "Forgot password?" in the page order', async () => {
    const html = (await new TestClient(mailed.url).get('/auth/sign-in')).text;
    const email = html.indexOf('id="email"');
    const password = html.indexOf('id="password"');
    const forgot = html.indexOf('href="/auth/forgot"');
    const submit = html.indexOf('type="submit"');
    assert.ok(
      email > 0 && email < password && password < forgot && forgot < submit,
      `${email} ${password} ${forgot} ${submit}`,
    );
  });

  it('7. the password change form names the account for password managers', async () => {
    const { client } = await member('keeper@example.com');
    const form = formTo((await client.get('/auth/account')).text, '/auth/account/password');
    assert.match(
      form,
      /<input type="text" name="username" autocomplete="username" value="keeper@example\.com" readonly hidden>/,
    );
    // The field rides along with the form and changes nothing on the server.
    const changed = await client.post('/auth/account/password', {
      csrf: csrfFrom(form),
      username: 'someone-else@example.com',
      current_password: 'a member password',
      password: 'a brand new passphrase',
    });
    assert.equal(changed.status, 200);
    assert.match(changed.text, /Password changed/);
    assert.equal((await new TestClient(gh.url).signIn('keeper@example.com', 'a brand new passphrase')).status, 303);
  });

  it('serves gatehouse.js from the assets route, and the CSP allows it and nothing inline', async () => {
    const js = await new TestClient(gh.url).get('/auth/assets/gatehouse.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    const csp = String((await new TestClient(gh.url).get('/auth/sign-in')).headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  });
});

const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el ? el.id || el.getAttribute('href') || el.textContent?.trim() || el.tagName : null;
  });

let browser: Browser;

describe('pages in Chromium', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(() => browser?.close());

  it('show-password toggles the field; without scripts the page still works', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = pageProblems(page, { navigationsMayAbort: true });
    await page.goto(mailed.url + '/auth/sign-in');
    await page.getByLabel('Password', { exact: true }).fill('hunter2 hunter2');
    const toggle = page.getByRole('button', { name: 'Show password' });
    await toggle.click();
    assert.equal(await page.locator('#password').getAttribute('type'), 'text');
    assert.equal(await page.locator('#password').inputValue(), 'hunter2 hunter2');
    await page.getByRole('button', { name: 'Hide password' }).click();
    assert.equal(await page.locator('#password').getAttribute('type'), 'password');
    assert.deepEqual(problems, []);
    await context.close();

    const plain = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
    const bare = await plain.newPage();
    await bare.goto(mailed.url + '/auth/sign-in');
    assert.equal(await bare.getByRole('button', { name: /Show/ }).count(), 0, 'no toggle without the script');
    await bare.getByLabel('Email').focus();
    const order = [await focused(bare)];
    for (let i = 0; i < 3; i++) {
      await bare.keyboard.press('Tab');
      order.push(await focused(bare));
    }
    assert.deepEqual(order, ['email', 'password', '/auth/forgot', 'Sign in']);
    await plain.close();
  });

  it('tabs through sign-in: email, password (and its Show button), then "Forgot password?"', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(mailed.url + '/auth/sign-in');
    await page.getByLabel('Email').focus();
    const order = [await focused(page)];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused(page));
    }
    assert.deepEqual(order, ['email', 'password', 'Show password', '/auth/forgot', 'Sign in']);
    // The Show button's focus ring, drawn over the field's end, in both schemes.
    await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await page.getByRole('button', { name: 'Show password' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await focused(page), 'Hide password');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page
        .locator('.card')
        .screenshot({ path: join(ARTIFACTS, `pages-desktop-sign-in-shown-${scheme}.png`), animations: 'disabled' });
    }
    await context.close();
  });

  it('a sent form shows its button busy, and a page shown again gets it back', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(gh.url + '/auth/sign-in');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    // The first post answers 204 No Content: the browser stays on the page, which can then be looked at
    // as it is while a form is on its way. (A held request would block Playwright's evaluate.)
    await page.route('**/auth/sign-in', (route) =>
      route.request().method() === 'POST' ? route.fulfill({ status: 204 }) : route.continue(),
    );
    const button = page.locator('form button[type="submit"]');
    await button.click();
    await page.waitForFunction(
      () => document.querySelector('form button[type="submit"]')?.getAttribute('aria-busy') === 'true',
    );
    assert.equal(await button.isDisabled(), true);
    assert.equal((await button.textContent())?.trim(), 'Sign in…');
    await page
      .locator('.card')
      .screenshot({ path: join(ARTIFACTS, 'pages-desktop-sign-in-busy-light.png'), animations: 'disabled' });
    // A second submit (Enter in a field) does not send the form again.
    let posts = 0;
    page.on('request', (r) => void (r.method() === 'POST' && posts++));
    await page.getByLabel('Password', { exact: true }).press('Enter');
    assert.equal(posts, 0);
    // What the back-forward cache does when it shows this page again.
    await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
    assert.equal(await button.isDisabled(), false);
    assert.equal(await button.getAttribute('aria-busy'), null);
    assert.equal((await button.textContent())?.trim(), 'Sign in');
    await page.unroute('**/auth/sign-in');
    await button.click();
    await page.waitForURL(gh.url + '/');
    await context.close();
  });

  for (const [label, viewport] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    it(`screenshots, light and dark (${label}): sign-in, account with the admin link, the confirm page`, async () => {
      const { id } = await member(`${label}-target@example.com`);
      const context = await browser.newContext({ viewport, colorScheme: 'light' });
      const page = await context.newPage();
      const problems = pageProblems(page, { navigationsMayAbort: true });
      const shot = async (name: string) => {
        assert.ok(
          (await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0,
          `${name} scrolls sideways`,
        );
        for (const scheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme: scheme });
          await page.screenshot({
            path: join(ARTIFACTS, `pages-${label}-${name}-${scheme}.png`),
            fullPage: true,
            animations: 'disabled',
          });
        }
        await page.emulateMedia({ colorScheme: 'light' });
      };

      await page.goto(mailed.url + '/auth/sign-in');
      await shot('1-sign-in');

      await page.goto(gh.url + '/auth/sign-in?return_to=%2Fauth%2Faccount');
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(gh.url + '/auth/account');
      assert.equal(
        await page
          .locator('time')
          .first()
          .textContent()
          .then((t) => /UTC$/.test(t ?? '')),
        true,
      );
      await shot('2-account-admin');

      await page.getByRole('link', { name: 'Admin console' }).first().click();
      await page.waitForURL(gh.url + '/auth/admin');
      await page.getByRole('link', { name: `Delete ${label}-target@example.com` }).click();
      await page.waitForURL(/\/auth\/admin\/confirm\?action=delete/);
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Delete this account?');
      await shot('3-admin-confirm');

      await page.getByRole('link', { name: 'Cancel' }).click();
      await page.waitForURL(gh.url + '/auth/admin');
      assert.ok(await gh.store.findUserById(id), 'Cancel changes nothing');
      await page.getByRole('link', { name: `Delete ${label}-target@example.com` }).click();
      await page.getByRole('button', { name: 'Delete account' }).click();
      await page.waitForURL(/\/auth\/admin\?done=delete/);
      assert.equal(await page.getByRole('status').textContent(), `Deleted ${label}-target@example.com.`);
      assert.equal(await gh.store.findUserById(id), null);
      await shot('4-admin-done');

      assert.deepEqual(problems, []);
      await context.close();
    });
  }
});
