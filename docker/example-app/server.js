// The example app of compose.yaml: it knows nothing about passwords; it reads Gatehouse's headers.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3000);
createServer((req, res) => {
  const email = req.headers['x-forwarded-email'];
  const name = decodeURIComponent(req.headers['x-forwarded-name'] ?? '');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><meta charset="utf-8"><title>Example app</title>
<h1>Hello ${escape(name || email || 'stranger')}</h1>
<p>Signed in as ${escape(email ?? '(nobody)')} with ${escape(req.headers['x-forwarded-provider'] ?? '-')}, role ${escape(req.headers['x-forwarded-role'] ?? '-')}.</p>
<form method="post" action="/auth/sign-out"><button>Sign out</button></form>`);
}).listen(port, process.env.HOST ?? '0.0.0.0', () => console.log(`example app on :${port}`));

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
