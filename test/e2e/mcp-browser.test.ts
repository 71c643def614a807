// The OAuth consent for an MCP client in a real browser (Chromium): sign in, the consent page (phone
// and desktop screenshots in test/artifacts/), Allow — the browser really follows the redirect to the
// client's loopback address under the page's CSP (form-action must allow it) — then Connected apps on
// the account page, and Disconnect ends the token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { REPO, startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { TestClient } from '../support/client.js';
import { startMcpApp, type McpApp } from '../support/mcp.js';
import { CHROMIUM_SKIP, launchChromium } from '../support/browser.js';

const skip = CHROMIUM_SKIP;
const ARTIFACTS = join(REPO, 'test/artifacts');

describe('OAuth consent in a real browser', { skip }, () => {
  let browser: Browser;
  let app: McpApp;
  let gh: TestGatehouse;
  let callback: Server;
  let callbackUrl: string;
  const arrived: URL[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await startMcpApp();
    gh = await startTestGatehouse({
      upstream: app.url,
      env: { GATEHOUSE_MCP: JSON.stringify([{ path: '/mcp', name: 'Team tools', scopes: ['tools', 'read'] }]) },
    });
    await new TestClient(gh.url).signUp('ada@example.com', 'a long enough password', 'Ada Lovelace');
    // The client's redirect target: a native app listening on loopback.
    callback = createServer((req, res) => {
      arrived.push(new URL(req.url ?? '/', callbackUrl));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gh?.stop();
    await app?.close();
    await new Promise<void>((r) => (callback ? callback.close(() => r()) : r()));
  });

  function cspProblems(page: Page): string[] {
    const problems: string[] = [];
    page.on(
      'console',
      (m) => m.type() === 'error' && /Content Security Policy|Refused/.test(m.text()) && problems.push(m.text()),
    );
    page.on('pageerror', (e) => problems.push(e.message));
    return problems;
  }

  it('asks, follows Allow to the client, lists the app, and Disconnect ends its token', async () => {
    const reg = (await (
      await fetch(`${gh.url}/auth/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Claude Desktop', redirect_uris: [callbackUrl] }),
      })
    ).json()) as { client_id: string };
    const verifier = randomBytes(32).toString('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: reg.client_id,
      redirect_uri: callbackUrl,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: `${gh.url}/mcp`,
      scope: 'tools read',
      state: 'browser-state',
    });

    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems = cspProblems(page);
    await page.goto(`${gh.url}/auth/oauth/authorize?${q}`);
    assert.match(new URL(page.url()).pathname, /\/auth\/sign-in$/, 'signed out: sign in first');
    await page.fill('#email', 'ada@example.com');
    await page.fill('#password', 'a long enough password');
    await Promise.all([page.waitForURL(/\/auth\/oauth\/authorize\?/), page.click('button[type=submit]')]);
    assert.equal(await page.textContent('h1'), 'Allow Claude Desktop?');
    const card = (await page.textContent('.card'))!;
    assert.match(card, /Claude Desktop wants to use Team tools as ada@example\.com/);
    assert.match(card, /Sends you back to\s*127\.0\.0\.1:\d+/);
    assert.match(card, /Access\s*tools, read/);
    await page.screenshot({ path: join(ARTIFACTS, 'oauth-consent-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(ARTIFACTS, 'oauth-consent-desktop.png'), fullPage: true });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0);

    await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('button[value=allow]')]);
    // The browser may also ask the client's server for /favicon.ico: the answer is the request to /callback.
    const back = arrived.filter((u) => u.pathname === '/callback').at(-1)!;
    assert.equal(back.searchParams.get('state'), 'browser-state');
    assert.equal(back.searchParams.get('iss'), `${gh.url}/auth`);
    const token = (await (
      await fetch(`${gh.url}/auth/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: back.searchParams.get('code')!,
          client_id: reg.client_id,
          code_verifier: verifier,
          redirect_uri: callbackUrl,
        }),
      })
    ).json()) as { access_token: string };
    const call = () =>
      fetch(`${gh.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    assert.equal((await call()).status, 200);

    await page.goto(`${gh.url}/auth/account`);
    assert.match((await page.textContent('.card'))!, /Connected apps[\s\S]*Claude Desktop[\s\S]*tools, read/);
    await page.screenshot({ path: join(ARTIFACTS, 'oauth-connected-apps-desktop.png'), fullPage: true });
    await Promise.all([
      page.waitForURL(/\/auth\/account$/),
      page.click('button[aria-label="Disconnect Claude Desktop"]'),
    ]);
    assert.doesNotMatch((await page.textContent('.card'))!, /Claude Desktop/);
    assert.equal((await call()).status, 401);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
