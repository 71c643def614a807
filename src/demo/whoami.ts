// The built-in demo app (`gatehouse serve --demo`): a "whoami" page that shows the identity headers it
// received, and a sign-out button that is a plain POST form — exactly what a real app would do.
// Plain node:http on purpose: the demo shows how little an app behind Gatehouse needs.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { AddressInfo } from 'node:net';
import { AUTH_PREFIX } from '../config/prefix.js';

const IDENTITY = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-email-verified',
  'x-forwarded-name',
  'x-forwarded-provider',
  'x-forwarded-role',
  'x-forwarded-groups',
];
/** Sent only for some credentials (a scoped API key, an OAuth token): shown when sent. */
const WHEN_SENT = ['x-forwarded-scopes', 'x-forwarded-client'];
const CLIENT = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Gatehouse percent-encodes identity values where needed; decoding is always safe and gives back what was typed. */
function decoded(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const v = Array.isArray(value) ? value.join(', ') : value;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

export function identityOf(headers: IncomingHttpHeaders): Record<string, string | null> {
  return Object.fromEntries([...IDENTITY, ...WHEN_SENT, ...CLIENT].map((h) => [h, decoded(headers[h])]));
}

/** "Ada Lovelace" → "AL"; whole code points, so "Zoë 李" → "Z李" and emoji are never split. */
export function initialsOf(name: string | null, email: string | null): string {
  const words = (name ?? '').trim().split(/\s+/).filter(Boolean);
  const letters = words.length ? [words[0]!, words.length > 1 ? words[words.length - 1]! : ''] : [email ?? '?'];
  return (
    letters
      .map((w) => Array.from(w)[0] ?? '')
      .join('')
      .toUpperCase() || '?'
  );
}

// Served as /whoami.css (the page's CSP allows only same-origin styles: no inline style anywhere).
const CSS = `:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --card: #fff; --text: #111827; --muted: #4b5563; --border: #d9dde5;
  --accent: #3b4fd8; --accent-hover: #2f40b8; --accent-text: #fff; --focus: #1d4ed8;
  --badge-bg: #e8ebfc; --shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 8px 24px -12px rgba(16, 24, 40, .15);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b24; --text: #eef1f6; --muted: #a3acba; --border: #2d3544;
    --accent: #7c8cff; --accent-hover: #97a4ff; --accent-text: #0b0f1a; --focus: #a5b4fc;
    --badge-bg: #232b4d; --shadow: 0 1px 2px rgba(0, 0, 0, .4), 0 12px 32px -16px rgba(0, 0, 0, .7);
  }
}
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; -webkit-font-smoothing: antialiased; }
.top { display: flex; align-items: center; gap: 10px; padding: 14px 24px; border-bottom: 1px solid var(--border); background: var(--card); }
.logo { font-weight: 700; letter-spacing: -.01em; }
.tag { color: var(--muted); font-size: .875rem; }
main { max-width: 760px; margin: 0 auto; padding: 40px 20px 56px; }
.hero { display: flex; align-items: center; gap: 16px; margin-bottom: 12px; }
.avatar { flex: none; display: grid; place-items: center; width: 56px; height: 56px; border-radius: 50%; background: var(--accent); color: var(--accent-text); font-weight: 700; font-size: 1.2rem; }
.avatar-none { background: var(--border); color: var(--muted); }
h1 { font-size: 1.6rem; line-height: 1.25; letter-spacing: -.02em; margin: 0; overflow-wrap: anywhere; text-wrap: balance; }
.pad { padding: 14px 16px; }
.pad p { margin: 0; overflow-wrap: anywhere; }
.verified strong { color: var(--accent); }
.meta { margin: 4px 0 0; color: var(--muted); display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: .8rem; font-weight: 600; background: var(--badge-bg); color: var(--accent); }
.sub { color: var(--muted); margin: 16px 0 28px; max-width: 60ch; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 28px 0 8px; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 14px; box-shadow: var(--shadow); overflow: hidden; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 12px 18px; vertical-align: baseline; }
th { width: 34%; font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; white-space: nowrap; }
td { overflow-wrap: anywhere; }
tr + tr th, tr + tr td { border-top: 1px solid var(--border); }
.none { color: var(--muted); font-style: italic; }
.row { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; margin-top: 28px; }
.row form { margin: 0; }
button, .link { display: inline-flex; align-items: center; min-height: 44px; font: inherit; font-weight: 600; padding: 10px 18px; border-radius: 10px; border: 1px solid var(--border); background: var(--card); color: var(--text); cursor: pointer; text-decoration: none; }
.link:hover { border-color: var(--muted); }
.primary { background: var(--accent); border-color: transparent; color: var(--accent-text); }
.primary:hover { background: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
@media (max-width: 560px) {
  .top { padding: 12px 16px; }
  main { padding: 28px 16px 40px; }
  h1 { font-size: 1.3rem; }
  .lead { display: block; font-size: .95rem; font-weight: 500; color: var(--muted); letter-spacing: 0; }
  .avatar { width: 48px; height: 48px; font-size: 1.05rem; }
  .hero { align-items: flex-start; }
  /* Name above value: a 38% column leaves too little room for ids and emails on a phone. */
  tr { display: block; padding: 10px 16px; }
  th, td { display: block; width: auto; padding: 0; }
  th { font-size: .78rem; color: var(--muted); margin-bottom: 2px; }
  tr + tr { border-top: 1px solid var(--border); }
  tr + tr th, tr + tr td { border-top: 0; }
  .row > * { flex: 1 1 auto; justify-content: center; }
  .row form button { width: 100%; justify-content: center; }
}
@media (max-width: 359px) { .tag { display: none; } }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`;

/** What the demo found when it verified X-Forwarded-Assertion, as an app would (docs/app-guide.md). */
export type AssertionCheck =
  { ok: true; kid: string; sub: string; secondsLeft: number } | { ok: false; reason: string } | null;

type KeySet = ReturnType<typeof createRemoteJWKSet>;
const keySets = new Map<string, KeySet>();

/** Where the demo checks assertions: Gatehouse's JWKS, and the origin it signs as (the public URL, else its
 *  listening address). Never the origin a request names: X-Forwarded-Host is how the client reached Gatehouse
 *  (http://localhost:4180), not who signed, and an app that took it from there would believe any issuer. */
export interface AssertionSource {
  jwks: string;
  origin: string;
}

/** Verifies the assertion as docs/app-guide.md tells apps to: against the configured issuer and audience. */
export async function checkAssertion(
  headers: IncomingHttpHeaders,
  source: AssertionSource | null,
  prefix: string,
): Promise<AssertionCheck> {
  const jwt = headers['x-forwarded-assertion'];
  if (typeof jwt !== 'string' || !jwt || !source) return null;
  let keys = keySets.get(source.jwks);
  if (!keys) keySets.set(source.jwks, (keys = createRemoteJWKSet(new URL(source.jwks))));
  try {
    const expected = { issuer: source.origin + prefix, audience: source.origin, algorithms: ['ES256'] };
    const { payload, protectedHeader } = await jwtVerify(jwt, keys, expected);
    const secondsLeft = Math.max(0, (payload.exp ?? 0) - Math.floor(Date.now() / 1000));
    return { ok: true, kid: String(protectedHeader.kid), sub: String(payload.sub), secondsLeft };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.slice(0, 200) };
  }
}

function assertionSection(check: AssertionCheck): string {
  if (!check) return '';
  const body = check.ok
    ? '<p class="verified">✓ <strong>X-Forwarded-Assertion verified</strong> against ' +
      `Gatehouse's published keys: ES256, key <code>${escapeHtml(check.kid)}</code>, ` +
      `signed for <code>${escapeHtml(check.sub)}</code>, valid ${check.secondsLeft} s ` +
      'more. An app that checks this need not trust the network.</p>'
    : `<p class="refused">✗ <strong>X-Forwarded-Assertion did not verify</strong>: ${escapeHtml(check.reason)}</p>`;
  return `<h2 id="signed">Signed identity</h2>\n<div class="card pad">${body}</div>`;
}

/** The top of the page: who the headers say is signed in, and what one can do from here. */
function heroOf(id: Record<string, string | null>, prefix: string): { hero: string; sub: string; actions: string } {
  const email = id['x-forwarded-email'];
  const name = id['x-forwarded-name'];
  const meta = [
    name ? `<span>${escapeHtml(name)}</span>` : '',
    id['x-forwarded-role'] ? `<span class="badge">${escapeHtml(id['x-forwarded-role'])}</span>` : '',
    id['x-forwarded-provider'] ? `<span>via ${escapeHtml(id['x-forwarded-provider'])}</span>` : '',
  ].join('');
  const p = escapeHtml(prefix);
  if (!email) {
    return {
      hero: `<div class="avatar avatar-none" aria-hidden="true">?</div>
<div><h1>No identity headers</h1><p class="meta">Nobody is signed in for this request.</p></div>`,
      sub:
        'Auth is off, or this path is public, so Gatehouse sent no identity. Turn it on ' +
        'with <code>gatehouse auth enable</code>.',
      actions: `<a class="link primary" href="${p}/sign-in">Sign in</a>
<a class="link" href="/api/whoami">View as JSON</a>`,
    };
  }
  return {
    hero: `<div class="avatar" aria-hidden="true">${escapeHtml(initialsOf(name, email))}</div>
<div><h1><span class="lead">Signed in as </span>${escapeHtml(email)}</h1><p class="meta">${meta}</p></div>`,
    sub:
      'This demo app never saw a password. Everything it knows about you comes from ' +
      'the headers Gatehouse adds to each request.',
    actions: `<form method="post" action="${p}/sign-out"><button class="primary" type="submit">Sign out</button></form>
<a class="link" href="${p}/account">Your account</a>
<a class="link" href="/api/whoami">View as JSON</a>`,
  };
}

function page(headers: IncomingHttpHeaders, prefix: string, check: AssertionCheck = null): string {
  const id = identityOf(headers);
  const rows = (names: string[]) =>
    names
      .map(
        (h) =>
          `<tr><th scope="row">${escapeHtml(h)}</th>` +
          `<td>${id[h] === null ? '<span class="none">not sent</span>' : escapeHtml(id[h]!)}</td></tr>`,
      )
      .join('\n');
  const { hero, sub, actions } = heroOf(id, prefix);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>whoami · Gatehouse demo</title>
<link rel="stylesheet" href="/whoami.css">
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Ccircle cx='16' cy='16' r='14' fill='%23111827'/%3E%3Ccircle cx='16' cy='13' r='5' fill='%23fff'/%3E%3Cpath d='M7 25a10 7 0 0 1 18 0' fill='%23fff'/%3E%3C/svg%3E">
</head>
<body>
<header class="top"><span class="logo">whoami</span><span class="tag">a demo app behind Gatehouse</span></header>
<main>
<section class="hero">
${hero}
</section>
<p class="sub">${sub}</p>
<h2 id="identity">Identity headers</h2>
<div class="card"><table aria-labelledby="identity">
${rows([...IDENTITY, ...WHEN_SENT.filter((h) => id[h] !== null)])}
</table></div>
<h2 id="client">Client headers</h2>
<div class="card"><table aria-labelledby="client">
${rows(CLIENT)}
</table></div>
${assertionSection(check)}
<div class="row">
${actions}
</div>
</main>
</body>
</html>
`;
}

export interface DemoApp {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** `prefix` is Gatehouse's route prefix, for the sign-out form and account link (default `/auth`); `gatehouse`,
 *  once known, where to check the signed identity. */
export async function startDemoApp(
  opts: { host?: string; port?: number; prefix?: string; gatehouse?: () => AssertionSource | null } = {},
): Promise<DemoApp> {
  const prefix = opts.prefix ?? AUTH_PREFIX;
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/whoami.css') {
      res.writeHead(200, {
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'public, max-age=3600',
        'x-content-type-options': 'nosniff',
      });
      return void res.end(CSS);
    }
    if (path === '/api/whoami') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify(identityOf(req.headers)));
    }
    if (path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('not found');
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
      'x-content-type-options': 'nosniff',
    });
    res.end(page(req.headers, prefix, await checkAssertion(req.headers, opts.gatehouse?.() ?? null, prefix)));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(opts.port ?? 0, host, r));
  const port = (server.address() as AddressInfo).port;
  // The address to reach it at: a wildcard bind is reached over loopback.
  const reach = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
