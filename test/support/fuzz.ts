// A small deterministic HTTP fuzzer: mutates a seed corpus of requests (framing, paths, headers,
// cookies, bytes) and sends each over a fresh socket. Used by the bounded CI run and by scripts/fuzz.ts.
import { rawRequest, statusOf } from './raw.js';

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ['/', '/private', '/public/a', '/public/../private', '/public/%2e%2e/private', '/public%2fx', '//public/a', '/public/a;x', '/healthz',
  '/%00', '/\\public', '/public/%252e%252e/x', '/auth/sign-in', '/auth/../private', '/auth%2fsign-in', '/AUTH/sign-in', '/auth', '/auth/me', '/auth/check',
  '/auth/oauth/x/callback?code=a&state=b', '/auth/reset?token=x', '*', 'http://evil/private', '/private?return_to=//evil', '/' + 'a'.repeat(9000)];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', 'G ET', 'PROPFIND', ''];
const HEADERS = ['X-Forwarded-User: admin', 'X_Forwarded_User: admin', 'x-forwarded-for: 1.2.3.4', 'X-Original-URL: /private', 'X-Rewrite-URL: /private',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: xchunked', 'Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999',
  'Connection: x-forwarded-user', 'Upgrade: websocket', 'Expect: 100-continue', 'Host: evil.example', 'Host:', 'Cookie: gatehouse_session=x.y',
  'Cookie: gatehouse_session=%00', 'Authorization: Bearer ghk_aaaaaaaaaaaa_' + 'b'.repeat(43), 'Authorization: Basic YWRtaW46YWRtaW4=', 'Origin: null',
  'Sec-Fetch-Site: cross-site', 'Accept: text/html', 'X-HTTP-Method-Override: DELETE', 'Forwarded: for=1.2.3.4;host=evil', 'Range: bytes=0-0,1-1'];

export interface FuzzResult {
  sent: number;
  statuses: Map<number, number>;
  serverErrors: string[]; // requests answered 500 (an internal error), with the request that caused it
  badGateway: string[]; // requests answered 502: the app refused what Gatehouse forwarded
}

export async function runFuzz(base: string, opts: { count: number; seed: number; validCookie: string; concurrency?: number }): Promise<FuzzResult> {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const badGateway: string[] = [];

  function mutate(): Buffer {
    const method = rnd() < 0.7 ? pick(['GET', 'POST']) : pick(METHODS);
    const path = pick(PATHS);
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: gatehouse.test'];
    if (rnd() < 0.5) lines.push(`Cookie: ${rnd() < 0.5 ? opts.validCookie : opts.validCookie.replace(/[A-Za-z]/, 'Z')}`);
    const extra = Math.floor(rnd() * 4);
    for (let i = 0; i < extra; i++) lines.push(pick(HEADERS));
    let body = '';
    if (method === 'POST' && rnd() < 0.6) {
      body = rnd() < 0.5 ? 'email=a%40b.c&password=x&csrf=y' : 'x'.repeat(Math.floor(rnd() * 200));
      if (!lines.some((l) => /^(content-length|transfer-encoding)/i.test(l))) lines.push(`Content-Length: ${body.length}`);
    }
    let text = lines.join('\r\n') + '\r\n\r\n' + body;
    // Byte-level damage on a third of the requests.
    if (rnd() < 0.33) {
      const chars = [...text];
      const n = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < n; i++) {
        const at = Math.floor(rnd() * chars.length);
        const op = rnd();
        if (op < 0.3) chars[at] = pick(['\r', '\n', '\0', ' ', ':', '\t', '\x7f', '\xff']);
        else if (op < 0.6) chars.splice(at, 1);
        else chars.splice(at, 0, pick(['\r\n', '\n', '%', '..', '/', ';', '\\']));
      }
      text = chars.join('');
    }
    return Buffer.from(text, 'latin1');
  }

  let sent = 0;
  const worker = async () => {
    while (sent < opts.count) {
      sent++;
      const req = mutate();
      const answer = await rawRequest(base, req, { quietMs: 40, timeoutMs: 3000 }).catch(() => '');
      const status = statusOf(answer);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 500) serverErrors.push(req.toString('latin1').slice(0, 300));
      if (status === 502) badGateway.push(req.toString('latin1').slice(0, 300));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return { sent, statuses, serverErrors, badGateway };
}
