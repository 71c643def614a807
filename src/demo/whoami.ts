// The built-in demo app (`gatehouse serve --demo`): a "whoami" page that shows the identity headers it
// received, and a sign-out button that is a plain POST form — exactly what a real app would do.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

const IDENTITY = ['x-forwarded-user', 'x-forwarded-email', 'x-forwarded-name', 'x-forwarded-provider', 'x-forwarded-role'];
const CLIENT = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Gatehouse percent-encodes non-ASCII header values; show them as the user typed them. */
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
  return Object.fromEntries([...IDENTITY, ...CLIENT].map((h) => [h, decoded(headers[h])]));
}

const CSS = `:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--text:#111827;--muted:#5b6473;--border:#dde1e8;--accent:#3b4fd8}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b24;--text:#eef1f6;--muted:#a3acba;--border:#2d3544;--accent:#8b98ff}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:720px;margin:0 auto;padding:40px 18px}h1{font-size:1.6rem;letter-spacing:-.02em;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 24px}.card{background:var(--card);border:1px solid var(--border);border-radius:14px;padding:8px 0;margin-bottom:20px;overflow-x:auto}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:10px 18px;vertical-align:top}th{width:38%;font-weight:600;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;white-space:nowrap}
td{overflow-wrap:anywhere}tr+tr th,tr+tr td{border-top:1px solid var(--border)}.none{color:var(--muted)}
.row{display:flex;gap:12px;flex-wrap:wrap;align-items:center}button,.link{font:inherit;font-weight:600;padding:10px 16px;border-radius:10px;border:1px solid var(--border);background:var(--card);color:var(--text);cursor:pointer;text-decoration:none}
button:hover,.link:hover{border-color:var(--accent)}:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
@media (max-width:480px){th,td{padding:8px 12px}h1{font-size:1.3rem}}`;

function page(headers: IncomingHttpHeaders): string {
  const id = identityOf(headers);
  const who = id['x-forwarded-email'];
  const rows = (names: string[]) =>
    names
      .map((h) => `<tr><th scope="row">${escapeHtml(h)}</th><td>${id[h] === null ? '<span class="none">(not sent)</span>' : escapeHtml(id[h]!)}</td></tr>`)
      .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>whoami · Gatehouse demo</title><link rel="stylesheet" href="/whoami.css"></head><body><main>
<h1>${who ? `Signed in as ${escapeHtml(who)}` : 'No identity headers'}</h1>
<p class="sub">${who ? 'This demo app never saw a password. It only reads the headers Gatehouse adds to every request.' : 'Auth is off for this request, so Gatehouse sent no identity.'}</p>
<div class="card"><table>${rows(IDENTITY)}</table></div>
<div class="card"><table>${rows(CLIENT)}</table></div>
<div class="row">
<form method="post" action="/auth/sign-out"><button type="submit">Sign out</button></form>
<a class="link" href="/auth/account">Your account</a><a class="link" href="/api/whoami">JSON</a>
</div></main></body></html>`;
}

export async function startDemoApp(opts: { host?: string; port?: number } = {}): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/whoami.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' });
      return void res.end(CSS);
    }
    if (path === '/api/whoami') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(identityOf(req.headers)));
    }
    if (path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('not found');
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-content-type-options': 'nosniff',
    });
    res.end(page(req.headers));
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
