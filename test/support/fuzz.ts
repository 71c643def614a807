// A small deterministic HTTP fuzzer: mutates a seed corpus of requests (framing, paths, headers,
// cookies, bytes) and sends each over a fresh socket. Used by the bounded CI run and by scripts/fuzz.ts.
//
// Besides single requests it sends connections that try to smuggle: an `Upgrade:` request (websocket,
// h2c, garbage; with or without `Connection: Upgrade`, a valid WebSocket key, an Origin) followed on the
// same socket by more requests — in the same write, and in a later write after the first answer — that
// forge identity headers, target protected paths or are malformed themselves. What the app recorded is
// then checked by appViolations(): nothing forged, nothing anonymous, nothing behind an upgrade.
import { rawRequest, rawWrites, statusOf } from './raw.js';
import type { Recorded } from './upstream.js';
import { decide, publicPathRules } from '../../src/access/rules.js';
import { appLandsUnder, hostileSpellings } from './spellings.js';

/** The gate's own matcher: public paths are --public rules. */
const isPublicPath = (url: string, patterns: readonly string[]) =>
  decide(publicPathRules(patterns), 'GET', url, null).outcome === 'public';

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

const PATHS = [
  '/',
  '/private',
  '/public/a',
  '/public/../private',
  '/public/%2e%2e/private',
  '/public%2fx',
  '//public/a',
  '/public/a;x',
  '/healthz',
  '/%00',
  '/\\public',
  '/public/%252e%252e/x',
  '/auth/sign-in',
  '/auth/../private',
  '/auth%2fsign-in',
  '/AUTH/sign-in',
  '/auth',
  '/auth/me',
  '/auth/check',
  '/auth/oauth/x/callback?code=a&state=b',
  '/auth/reset?token=x',
  '*',
  'http://evil/private',
  '/private?return_to=//evil',
  '/' + 'a'.repeat(9000),
  // Spellings a lenient app (Flask, Express, IIS) takes for /admin/x, which a rule refuses the member.
  ...hostileSpellings('/admin/x'),
];
const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
  'get',
  'G ET',
  'PROPFIND',
  '',
];
const HEADERS = [
  'X-Forwarded-User: admin',
  'X_Forwarded_User: admin',
  'x-forwarded-for: 1.2.3.4',
  'X-Original-URL: /private',
  'X-Rewrite-URL: /private',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: xchunked',
  'Content-Length: 5',
  'Content-Length: -1',
  'Content-Length: 99999999999',
  'Connection: x-forwarded-user',
  'Upgrade: websocket',
  'Expect: 100-continue',
  'Host: evil.example',
  'Host:',
  'Cookie: gatehouse_session=x.y',
  'Cookie: gatehouse_session=%00',
  'Authorization: Bearer ghk_aaaaaaaaaaaa_' + 'b'.repeat(43),
  'Authorization: Basic YWRtaW46YWRtaW4=',
  'Origin: null',
  'Sec-Fetch-Site: cross-site',
  'Accept: text/html',
  'X-HTTP-Method-Override: DELETE',
  'Forwarded: for=1.2.3.4;host=evil',
  'Range: bytes=0-0,1-1',
];

// Upgrade targets. The fuzz app answers upgrades on paths with a `/ws` segment with a WebSocket echo,
// and everywhere else like an app without an upgrade handler (200, connection kept alive).
const UPGRADE_PATHS = [
  '/ws',
  '/private/ws',
  '/public/ws',
  '/public/chat',
  '/private/chat',
  '/',
  '/healthz',
  '/auth/ws',
  '/public/../private/ws',
  '/ws?x=1',
];
// Where a smuggled follow-up wants to go: mostly somewhere only a session may reach.
const PROTECTED_TARGETS = [
  '/private',
  '/admin/x',
  '/private/ws',
  '/',
  '/private?x=1',
  '/public/../private',
  '/public/chat',
];
const PROTOCOLS = [
  'websocket',
  'websocket',
  'WebSocket',
  'h2c',
  'websocket, h2c',
  'h2c, websocket',
  'garbage/1',
  'x'.repeat(300),
  '',
  'web socket',
];
const CONNECTIONS = [
  'Upgrade',
  'Upgrade',
  'upgrade',
  'keep-alive, Upgrade',
  'Upgrade, HTTP2-Settings',
  'close, upgrade',
  'keep-alive',
  'Upgrade, x-forwarded-user',
];
const ORIGINS = [
  'http://gatehouse.test',
  'HTTP://GATEHOUSE.TEST',
  'https://evil.example',
  'null',
  'http://gatehouse.test.evil.example',
  'http://gatehouse.test:81',
];

/** The marker every forged identity carries: the app must never see it. */
export const VICTIM = 'fuzz-victim';
// Identity and client facts only Gatehouse may set, in the spellings attackers use.
const FORGED: ReadonlyArray<readonly [string, string]> = [
  ['X-Forwarded-User', VICTIM],
  ['X-Forwarded-Role', 'admin'],
  ['X_Forwarded_User', VICTIM],
  ['x-forwarded-user', VICTIM],
  ['X_Forwarded_Role', 'admin'],
  ['X-Forwarded-Email', `${VICTIM}@example.com`],
  ['X-Forwarded-Email-Verified', 'true'],
  ['X-Forwarded-Name', 'Fuzz Victim'],
  ['X-Forwarded-Provider', 'fuzz-idp'],
  ['X-Forwarded-For', '203.0.113.66'],
  ['X-Forwarded-Host', 'fuzz-forged.example'],
  ['X-Forwarded-Proto', 'fuzz'],
  ['X-Real-IP', '203.0.113.66'],
  ['Forwarded', 'for=203.0.113.66;host=fuzz-forged.example'],
  ['X-Auth-Request-User', VICTIM],
  ['Remote-User', VICTIM],
];
/** Values forged above for client facts (not identity): they must not arrive under any reserved name. */
const FORGED_FACTS = new Set([
  '203.0.113.66',
  'fuzz-forged.example',
  'fuzz',
  'for=203.0.113.66;host=fuzz-forged.example',
]);
// Follow-ups that are broken themselves: the parser must refuse them, not pass half of one on.
const MALFORMED: ReadonlyArray<(head: string) => string> = [
  (h) => h.replace(/\r\nHost: [^\r]*/, ''), // no Host
  (h) => h.replaceAll('\r\n', '\n'), // bare LF
  (h) => h.replace('\r\n', `\r\n X-Forwarded-User: ${VICTIM}\r\n`), // obs-fold onto the request line
  (h) => h.replace('\r\n', `\r\nX-Forwarded-User : ${VICTIM}\r\n`), // space before the colon
  (h) => h.replace('\r\n', '\r\nContent-Length: 3\r\nContent-Length: 4\r\n'),
  (h) => h.replace('\r\n', '\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n'),
  (h) => h.replace(' HTTP/1.1', ' HTTP/1.0'), // legal, but no keep-alive
  (h) => h.replace('\r\n', `\r\nX-Forwarded-User\r\n`), // a header without a colon
  (h) => h.replace(/^\S+/, 'GET /private HTTP/1.1\r\nGET'), // two request lines
];

/** What was sent in one request of an upgrade/pipeline case, looked up by its X-Fuzz-Case tag. */
export interface SentPart {
  tag: string;
  credential: 'member' | 'spoiled' | 'none';
  /** No byte damage, no framing tricks, no stray pool headers: the request means what it says. */
  clean: boolean;
  /** Sent on a socket after a clean upgrade request: it must never reach the app as a request. */
  afterUpgrade: boolean;
}

interface Part {
  text: string;
  sent: SentPart;
}

interface FuzzCase {
  writes: Array<{ data: Buffer; afterMs: number }>;
  parts: Part[];
  delayed: number; // requests in the later write
}

/** The seeded random source with the two helpers every generator uses. */
export interface Rng {
  (): number;
  pick<T>(xs: readonly T[]): T;
}

/** Exported with upgradeCase() to replay one case of a run: same seed, cases 0…i generated in order. */
export function rng(seed: number): Rng {
  const next = prng(seed);
  return Object.assign(() => next(), { pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! });
}

/** Byte-level damage on a third of the requests: control bytes, lost bytes, inserted separators. */
function damage(text: string, r: Rng): string {
  if (r() >= 0.33) return text;
  const chars = [...text];
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * chars.length);
    const op = r();
    if (op < 0.3) chars[at] = r.pick(['\r', '\n', '\0', ' ', ':', '\t', '\x7f', '\xff']);
    else if (op < 0.6) chars.splice(at, 1);
    else chars.splice(at, 0, r.pick(['\r\n', '\n', '%', '..', '/', ';', '\\']));
  }
  return chars.join('');
}

export interface FuzzResult {
  sent: number;
  statuses: Map<number, number>;
  serverErrors: string[]; // requests answered 500 (an internal error), with the request that caused it
  badGateway: string[]; // requests answered 502: the app refused what Gatehouse forwarded
  /** Upgrade/pipeline connections sent, the requests in them, and how many of those went in a later write. */
  upgradeCases: number;
  followUps: number;
  delayedFollowUps: number;
  /** Every request of those connections by its X-Fuzz-Case tag, for appViolations(). */
  parts: Map<string, SentPart>;
}

export interface FuzzOptions {
  count: number; // single mutated requests
  /** Upgrade/pipeline connections, interleaved with the single requests (default 0). */
  upgrades?: number;
  seed: number;
  validCookie: string;
  concurrency?: number;
}

export async function runFuzz(base: string, opts: FuzzOptions): Promise<FuzzResult> {
  // Two streams from one seed: the single-request stream stays what it was before upgrade cases existed.
  const single = rng(opts.seed);
  const smuggle = rng(opts.seed ^ 0x5a5a5a5a);
  const upgrades = opts.upgrades ?? 0;
  const total = opts.count + upgrades;
  const result: FuzzResult = {
    sent: 0,
    statuses: new Map(),
    serverErrors: [],
    badGateway: [],
    upgradeCases: 0,
    followUps: 0,
    delayedFollowUps: 0,
    parts: new Map(),
  };
  const tally = (req: Buffer, answer: string) => {
    const status = statusOf(answer);
    result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
    if (status === 500) result.serverErrors.push(req.toString('latin1').slice(0, 300));
    if (status === 502) result.badGateway.push(req.toString('latin1').slice(0, 300));
  };
  const sendSingle = async () => {
    const req = mutate(single, opts.validCookie);
    tally(req, await rawRequest(base, req, { quietMs: 40, timeoutMs: 3000 }).catch(() => ''));
  };
  const sendCase = async (id: number) => {
    const c = upgradeCase(smuggle, id, opts.validCookie);
    result.upgradeCases++;
    result.followUps += c.parts.length - 1;
    result.delayedFollowUps += c.delayed;
    for (const p of c.parts) result.parts.set(p.sent.tag, p.sent);
    const answer = await rawWrites(base, c.writes, { quietMs: 60, timeoutMs: 3000 }).catch(() => '');
    tally(Buffer.concat(c.writes.map((w) => w.data)), answer);
  };

  let next = 0;
  const worker = async () => {
    while (next < total) {
      // Generation happens here, in order and synchronously, so case i is the same on every run.
      const i = next++;
      result.sent++;
      await (isUpgradeCase(i, upgrades, total) ? sendCase(i) : sendSingle());
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return result;
}

/** Spreads `upgrades` cases evenly over `total` slots. */
function isUpgradeCase(i: number, upgrades: number, total: number): boolean {
  return Math.floor(((i + 1) * upgrades) / total) > Math.floor((i * upgrades) / total);
}

/** One single request from the original corpus: method, path, cookie, pool headers, body, damage. */
function mutate(r: Rng, validCookie: string): Buffer {
  const method = r() < 0.7 ? r.pick(['GET', 'POST']) : r.pick(METHODS);
  const path = r.pick(PATHS);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: gatehouse.test'];
  if (r() < 0.5) lines.push(`Cookie: ${r() < 0.5 ? validCookie : spoil(validCookie)}`);
  const extra = Math.floor(r() * 4);
  for (let i = 0; i < extra; i++) lines.push(r.pick(HEADERS));
  let body = '';
  if (method === 'POST' && r() < 0.6) {
    body = r() < 0.5 ? 'email=a%40b.c&password=x&csrf=y' : 'x'.repeat(Math.floor(r() * 200));
    if (!lines.some((l) => /^(content-length|transfer-encoding)/i.test(l)))
      lines.push(`Content-Length: ${body.length}`);
  }
  return Buffer.from(damage(lines.join('\r\n') + '\r\n\r\n' + body, r), 'latin1');
}

/** The first letter of the cookie header changed: with several cookies, it is not always the session's. */
const spoil = (cookie: string) => cookie.replace(/[A-Za-z]/, 'Z');

/** A session cookie that looks right but is not: the last character of its MAC changed. */
const forgeSession = (cookie: string) =>
  cookie.replace(
    /(gatehouse_session=[^;]*?)(.)(;|$)/,
    (_, pre: string, last: string, end: string) => `${pre}${last === 'A' ? 'B' : 'A'}${end}`,
  );

/** An upgrade (or plain) request, then 0–2 follow-ups in the same write and/or a later one. */
export function upgradeCase(r: Rng, id: number, validCookie: string): FuzzCase {
  const first = firstRequest(r, `${id}.0`, validCookie);
  const upgraded = first.sent.clean && isUpgradeHead(first.text);
  const parts = [first];
  for (let k = 1, n = r.pick([0, 1, 1, 1, 2, 2]); k <= n; k++) {
    const next = followUp(r, `${id}.${k}`, validCookie, upgraded);
    // A request can be told apart only if everything before it on the socket framed cleanly too.
    next.sent.clean &&= parts.every((p) => p.sent.clean);
    parts.push(next);
  }
  // How many requests go in the first write; the rest follow after a short delay, once the first
  // answer is likely back (a tunnel opened too early is still open then).
  const together = parts.length === 1 ? 1 : r.pick([1, 1, parts.length, 2]);
  const afterMs = r.pick([15, 50, 120]);
  const join = (ps: Part[]) => Buffer.from(ps.map((p) => p.text).join(''), 'latin1');
  const writes = [{ data: join(parts.slice(0, together)), afterMs: 0 }];
  if (together < parts.length) writes.push({ data: join(parts.slice(together)), afterMs });
  return { writes, parts, delayed: parts.length - together };
}

/** Node's parser treats a request as an upgrade when it names a protocol and Connection lists `upgrade`. */
function isUpgradeHead(text: string): boolean {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const connection = /^connection:(.*)$/gim;
  let upgradeToken = false;
  for (const m of head.matchAll(connection))
    if (m[1]!.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) upgradeToken = true;
  // An empty `Upgrade:` names no protocol: the request is an ordinary one and the socket stays HTTP.
  return upgradeToken && /^upgrade:[ \t]*\S/im.test(head) && !/^CONNECT /.test(head);
}

function credentialLine(r: Rng, validCookie: string): [SentPart['credential'], string | null] {
  const x = r();
  if (x < 0.45) return ['member', `Cookie: ${validCookie}`];
  if (x < 0.55) return ['spoiled', `Cookie: ${forgeSession(validCookie)}`];
  return ['none', null];
}

function forgedLines(r: Rng, max: number): string[] {
  const n = Math.floor(r() * (max + 1));
  return Array.from({ length: n }, () => r.pick(FORGED).join(': '));
}

/** 16 random bytes in base64, or something a WebSocket server must refuse. */
function webSocketKey(r: Rng): string {
  if (r() < 0.75) return Buffer.from(Array.from({ length: 16 }, () => Math.floor(r() * 256))).toString('base64');
  return r.pick(['', 'short', 'not base64 at all!!', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
}

/**
 * The handshake: method, target, protocol, Connection, key, version, Origin, forged identity, pool
 * noise. Half start from a valid WebSocket handshake and keep each field with high odds, so that real
 * tunnels (101) open often enough for what follows them to be fuzzed too; the rest are random.
 */
function firstRequest(r: Rng, tag: string, validCookie: string): Part {
  const valid = r() < 0.5;
  const keep = () => valid && r() < 0.9;
  const method = keep() || r() < 0.85 ? 'GET' : r.pick(METHODS);
  const path =
    valid && r() < 0.5
      ? r.pick(['/ws', '/private/ws', '/public/ws', '/ws?x=1'])
      : r() < 0.75
        ? r.pick(UPGRADE_PATHS)
        : r.pick(PATHS);
  const [credential, cookie] = credentialLine(r, validCookie);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: gatehouse.test', `X-Fuzz-Case: ${tag}`];
  if (cookie) lines.push(cookie);
  const protocol = keep() ? 'websocket' : r() < 0.92 ? r.pick(PROTOCOLS) : null;
  if (protocol !== null) lines.push(`Upgrade: ${protocol}`);
  if (keep()) lines.push('Connection: Upgrade');
  else if (r() < 0.85) lines.push(`Connection: ${r.pick(CONNECTIONS)}`);
  if (keep() || r() < 0.8) lines.push(`Sec-WebSocket-Key: ${webSocketKey(r)}`);
  if (keep()) lines.push('Sec-WebSocket-Version: 13');
  else if (r() < 0.8) lines.push(`Sec-WebSocket-Version: ${r.pick(['13', '13', '13', '8', '', '13, 8'])}`);
  if (protocol?.includes('h2c')) lines.push('HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA');
  if (keep()) lines.push(...(r() < 0.5 ? ['Origin: http://gatehouse.test'] : []));
  else if (r() < 0.5) lines.push(`Origin: ${r.pick(ORIGINS)}`);
  lines.push(...forgedLines(r, 2));
  const noisy = r() < 0.2;
  if (noisy) lines.push(r.pick(HEADERS));
  const text = lines.join('\r\n') + '\r\n\r\n';
  const damaged = r() < 0.45 ? damage(text, r) : text;
  return {
    text: damaged,
    sent: { tag, credential, clean: !noisy && damaged === text && /^[A-Z]+ \//.test(text), afterUpgrade: false },
  };
}

/** A follow-up on the same socket: forged identity, a protected target, maybe an upgrade or malformed itself. */
function followUp(r: Rng, tag: string, validCookie: string, afterUpgrade: boolean): Part {
  const method = r.pick(['GET', 'GET', 'POST', 'DELETE', 'PUT']);
  const path = r() < 0.75 ? r.pick(PROTECTED_TARGETS) : r.pick(PATHS);
  const [credential, cookie] = credentialLine(r, validCookie);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: gatehouse.test', `X-Fuzz-Case: ${tag}`];
  if (cookie) lines.push(cookie);
  lines.push(...forgedLines(r, 3));
  if (r() < 0.9) lines.push(`X-Forwarded-User: ${VICTIM}`, 'X-Forwarded-Role: admin');
  if (r() < 0.2)
    lines.push(
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Key: ${webSocketKey(r)}`,
    );
  const body = method === 'GET' ? '' : 'x'.repeat(r.pick([0, 0, 5, 40]));
  if (method !== 'GET') lines.push(`Content-Length: ${body.length}`);
  let head = lines.join('\r\n') + '\r\n\r\n';
  const malformed = r() < 0.2;
  if (malformed) head = r.pick(MALFORMED)(head);
  const text = head + body;
  const damaged = r() < 0.3 ? damage(text, r) : text;
  return { text: damaged, sent: { tag, credential, clean: !malformed && damaged === text, afterUpgrade } };
}

export type Rule =
  'forged-identity' | 'forged-fact' | 'anonymous' | 'session-cookie' | 'not-the-member' | 'smuggled' | 'refused-path';

export interface Violation {
  rule: Rule;
  request: string; // method, URL and the headers the app saw
}

export interface AppExpectations {
  /** identityHeaders() of the member whose session cookie the fuzzer sends: [name, value, …]. */
  member: readonly string[];
  publicPaths: readonly string[];
  /** Paths an access rule refuses the member: no request an app would read as one of them may arrive. */
  refused?: readonly string[];
  /** From FuzzResult.parts: what each tagged request was sent with. */
  parts: ReadonlyMap<string, SentPart>;
}

/**
 * Checks every request the app recorded. The app may only ever see identity headers written by
 * Gatehouse — exactly once each, in its spelling, with the member's values — and only on requests that
 * came with the member's session; no client fact the fuzzer forged; nothing anonymous on a protected
 * path; no session cookie; no request a lenient app would read as a path a rule refuses the member; and
 * nothing at all that followed an upgrade request on its socket.
 */
export function appViolations(seen: readonly Recorded[], expect: AppExpectations): Violation[] {
  const out: Violation[] = [];
  const memberId = valueOf(expect.member, 'x-forwarded-user');
  for (const rec of seen) {
    const flag = (rule: Rule) => out.push({ rule, request: describe(rec) });
    if (!hasOnlyGatehouseIdentity(rec, expect.member)) flag('forged-identity');
    if (hasForgedFact(rec)) flag('forged-fact');
    const member = rec.headers['x-forwarded-user'] === memberId;
    if (!member && !isPublicPath(rec.url, expect.publicPaths)) flag('anonymous');
    if (String(rec.headers.cookie ?? '').includes('gatehouse_session')) flag('session-cookie');
    // The oracle reads the path as a decoding, case-folding app would (spellings.ts), not as Gatehouse does.
    if ((expect.refused ?? []).some((base) => appLandsUnder(rec.url, base))) flag('refused-path');
    const part = expect.parts.get(String(rec.headers['x-fuzz-case'] ?? ''));
    if (part?.afterUpgrade) flag('smuggled');
    if (part?.clean && member !== (part.credential === 'member')) flag('not-the-member');
  }
  return out;
}

/** Counts per rule, for a one-line summary. */
export function countByRule(violations: readonly Violation[]): Partial<Record<Rule, number>> {
  const counts: Partial<Record<Rule, number>> = {};
  for (const v of violations) counts[v.rule] = (counts[v.rule] ?? 0) + 1;
  return counts;
}

const valueOf = (flat: readonly string[], name: string) => flat[flat.indexOf(name) + 1];

/** Header names as a framework reads them: any case, `_` for `-`. */
const normal = (name: string) => name.toLowerCase().replaceAll('_', '-');

function rawPairs(rec: Recorded): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < rec.rawHeaders.length; i += 2) pairs.push([rec.rawHeaders[i]!, rec.rawHeaders[i + 1]!]);
  return pairs;
}

/** Either no identity header in any spelling, or each of the member's exactly once, as Gatehouse writes it. */
function hasOnlyGatehouseIdentity(rec: Recorded, member: readonly string[]): boolean {
  const names = member.filter((_, i) => i % 2 === 0);
  const identity = rawPairs(rec).filter(
    ([name]) =>
      names.includes(normal(name)) || normal(name).startsWith('x-auth-request-') || normal(name) === 'remote-user',
  );
  if (identity.length === 0) return true;
  if (identity.length !== names.length) return false;
  return identity.every(([name, value]) => names.includes(name) && valueOf(member, name) === value);
}

/** A client-IP, host or proto value the fuzzer forged, arriving under any reserved name. */
function hasForgedFact(rec: Recorded): boolean {
  return rawPairs(rec).some(([name, value]) => {
    const n = normal(name);
    return (
      (n.startsWith('x-forwarded-') || n === 'x-real-ip' || n === 'forwarded') &&
      (FORGED_FACTS.has(value) || value.includes(VICTIM))
    );
  });
}

function describe(rec: Recorded): string {
  return `${rec.method} ${rec.url.slice(0, 80)} ${JSON.stringify(rec.rawHeaders).slice(0, 400)}`;
}
