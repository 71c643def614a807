// The built-in demo app (`gatehouse serve --demo`): a "whoami" page that shows the identity headers it
// received, and a sign-out button that is a plain POST form — exactly what a real app would do.
// Plain node:http on purpose: the demo shows how little an app behind Gatehouse needs.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { AddressInfo } from 'node:net';
import { AUTH_PREFIX } from '../config/prefix.js';
import { CSS } from './whoami-css.js';

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

/** A person in a circle, as a data: URL (img-src data: is the only image source the page's CSP allows). */
const FAVICON = [
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'",
  "circle cx='16' cy='16' r='14' fill='%23111827'/",
  "circle cx='16' cy='13' r='5' fill='%23fff'/",
  "path d='M7 25a10 7 0 0 1 18 0' fill='%23fff'/",
  '/svg%3E',
].join('%3E%3C');

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
<link rel="icon" href="${FAVICON}">
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
