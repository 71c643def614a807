// Debian's Chromium for the browser tests (never a downloaded one): where it is, why a test skips
// without it, the flags every test launches it with, and what counts as a broken page.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_SKIP: string | false = existsSync(CHROMIUM)
  ? false
  : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium as every browser test launches it. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

/** A phone's browser, for the narrow, touch-first views. */
export const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/**
 * Everything broken on a page, collected as it happens: CSP violations and other console errors,
 * uncaught exceptions, failed requests, sub-resources (stylesheet, icon) answering 4xx/5xx. A document
 * answering 4xx on purpose (a sign-up error, a 404 page) is not one. Chromium reports every 4xx as
 * "Failed to load resource", naming the URL only in the location; the favicon, which no 'response'
 * event shows, is caught there.
 */
export function pageProblems(page: Page, opts: { navigationsMayAbort?: boolean } = {}): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/^Failed to load resource/.test(m.text()) && m.location().url === page.url()) return;
    problems.push(`console: ${m.text()} ${m.location().url}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // `navigationsMayAbort`: a navigation the test itself replaces (a held form post) is not a broken page.
    if (!(opts.navigationsMayAbort && r.resourceType() === 'document')) problems.push(`failed: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** Script problems only: console errors other than failed loads, and uncaught exceptions. */
export function scriptProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}
