// Client ID Metadata Documents (architecture.md#oauth; draft-ietf-oauth-client-id-metadata-document): a client
// whose id is an https URL publishes its metadata there, and Gatehouse fetches it. Fetching a URL an
// anonymous client names is server-side request forgery waiting to happen, so the fetch is fenced:
// https only; every address the name resolves to must be public (loopback only when Gatehouse itself
// runs on loopback) and the connection goes to the address that was checked (no DNS rebinding);
// redirects are not followed; 5 KB and 5 s at most. Documents are cached as their Cache-Control (or Expires) says.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { OAuthClient, Store } from '../store/types.js';
import { cleanName, redirectUriProblem } from './clients.js';

export class CimdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CimdError';
  }
}

export interface CimdOptions {
  /** Gatehouse itself is on loopback (local development, tests): loopback documents may be fetched. */
  allowLoopback: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  /** Extra CA certificates to trust (tests' self-signed servers). */
  ca?: string;
}

const MAX_BYTES = 5 * 1024;
const TIMEOUT_MS = 5000;
const DEFAULT_TTL_S = 600;
const MAX_TTL_S = 86_400;

/** A client id that names a metadata document: https, a path, nothing that could mean two things. */
export function isCimdClientId(id: string): boolean {
  if (id.length > 255 || !id.startsWith('https://')) return false;
  try {
    const u = new URL(id);
    return (
      u.pathname !== '/' && !u.hash && !u.username && !u.password && u.href === id && !/\/\.\.?(\/|$)/.test(u.pathname)
    );
  } catch {
    return false;
  }
}

// Addresses a document may never come from: private, shared, loopback, link-local, documentation,
// multicast and reserved ranges (RFC 6890), in both families.
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
// (IPv4-mapped IPv6 is unwrapped and judged as IPv4 in addressAllowed: BlockList would match every IPv4
// address against ::ffff:0:0/96.)
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

const isLoopbackAddress = (ip: string) => ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));

/** Whether a document may be fetched from this address. */
export function addressAllowed(ip: string, allowLoopback: boolean): boolean {
  const family = isIP(ip);
  if (!family) return false;
  if (allowLoopback && isLoopbackAddress(ip)) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return addressAllowed(mapped[1]!, allowLoopback);
  return !blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses a name if any of its addresses is not allowed, and hands over only checked ones. */
function fencedLookup(allowLoopback: boolean) {
  return (hostname: string, options: { all?: boolean }, cb: LookupCallback) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      if (!addresses.length || addresses.some((a) => !addressAllowed(a.address, allowLoopback))) {
        return cb(
          Object.assign(new CimdError(`${hostname} resolves to a private, loopback or reserved address`), {
            code: 'ECIMDADDRESS',
          }),
          [],
        );
      }
      if (options.all) cb(null, addresses);
      else cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface FetchedDocument {
  body: unknown;
  /** Seconds the document may be cached (0: not at all). */
  ttlSeconds: number;
}

/** GETs the document behind the fences above. */
export function fetchMetadataDocument(url: string, opts: CimdOptions): Promise<FetchedDocument> {
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  const timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const refused = refusedTarget(u, opts.allowLoopback);
    if (refused) return reject(new CimdError(refused));
    const req = request(u, {
      method: 'GET',
      headers: { accept: 'application/json' },
      lookup: fencedLookup(opts.allowLoopback) as never,
      ...(opts.ca ? { ca: opts.ca } : {}),
      agent: false,
    });
    const fail = (message: string, cause?: unknown) => {
      req.destroy();
      reject(new CimdError(message, { cause }));
    };
    const timer = setTimeout(() => fail(`no complete answer within ${timeoutMs} ms`), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof CimdError ? err : new CimdError(`could not fetch it: ${err.message}`, { cause: err }));
    });
    const settle = { resolve, reject, fail, stopTimer: () => clearTimeout(timer) };
    req.on('response', (res) => readDocument(res, maxBytes, settle));
    req.end();
  });
}

/** Why this URL is not fetched at all, or null. */
function refusedTarget(u: URL, allowLoopback: boolean): string | null {
  if (u.protocol !== 'https:') return 'the client id must be an https URL';
  // A literal address is connected to without any lookup: judge it here.
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !addressAllowed(literal, allowLoopback))
    return `${u.hostname} is a private, loopback or reserved address`;
  return null;
}

interface Settle {
  resolve(doc: FetchedDocument): void;
  reject(err: Error): void;
  /** Ends the request and rejects with a CimdError. */
  fail(message: string): void;
  stopTimer(): void;
}

/** Reads a 200 answer of at most maxBytes as JSON; anything else (a redirect included) is refused. */
function readDocument(res: IncomingMessage, maxBytes: number, settle: Settle): void {
  const refuse = (message: string) => (settle.stopTimer(), settle.fail(message));
  if (res.statusCode !== 200)
    return refuse(
      res.statusCode && res.statusCode >= 300 && res.statusCode < 400
        ? 'it redirects, and redirects are not followed'
        : `it answered ${res.statusCode}`,
    );
  if (Number(res.headers['content-length'] ?? 0) > maxBytes) return refuse(`it is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) return refuse(`it is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  });
  res.on('end', () => {
    settle.stopTimer();
    if (size > maxBytes) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return settle.reject(new CimdError('it is not JSON', { cause: err }));
    }
    settle.resolve({ body, ttlSeconds: ttlOf(res.headers['cache-control'], res.headers.expires, res.headers.date) });
  });
}

/**
 * HTTP caching (RFC 9111 §4.2.1), simply: no-store/no-cache → 0; max-age → that; else Expires, counted
 * from the response's Date (an invalid Expires means already expired); else 10 minutes. At most a day.
 */
export function ttlOf(cacheControl: string | undefined, expires?: string, date?: string): number {
  const cc = (cacheControl ?? '').toLowerCase();
  if (/\bno-(store|cache)\b/.test(cc)) return 0;
  const m = /\bmax-age=(\d+)/.exec(cc);
  if (m) return Math.min(Number(m[1]), MAX_TTL_S);
  if (expires === undefined) return DEFAULT_TTL_S;
  const until = Date.parse(expires);
  const sent = date !== undefined && !Number.isNaN(Date.parse(date)) ? Date.parse(date) : Date.now();
  if (Number.isNaN(until)) return 0;
  return Math.min(Math.max(0, Math.floor((until - sent) / 1000)), MAX_TTL_S);
}

/** The metadata a document must hold for this client id. */
export function clientFromDocument(id: string, body: unknown): { name: string; redirectUris: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CimdError('it is not a JSON object');
  const d = body as Record<string, unknown>;
  if (d.client_id !== id) throw new CimdError('its client_id is not the URL it was fetched from');
  const uris = d.redirect_uris;
  if (!Array.isArray(uris) || !uris.length || uris.length > 10)
    throw new CimdError('it must list 1 to 10 redirect_uris');
  for (const u of uris) {
    const problem = redirectUriProblem(u);
    if (problem) throw new CimdError(problem);
  }
  const auth = d.token_endpoint_auth_method;
  if (auth !== undefined && auth !== 'none')
    throw new CimdError('token_endpoint_auth_method must be none (public clients with PKCE)');
  if (d.client_secret !== undefined) throw new CimdError('a metadata document cannot carry a secret');
  const name = typeof d.client_name === 'string' && d.client_name.trim() ? cleanName(d.client_name) : new URL(id).host;
  return { name, redirectUris: uris as string[] };
}

/** The client behind an id: a CIMD URL fetched (or taken from the cache while fresh), else a registration. */
export async function resolveClient(
  store: Store,
  id: string,
  now: Date,
  opts: CimdOptions,
): Promise<OAuthClient | null> {
  const cached = await store.findOAuthClient(id);
  if (!isCimdClientId(id)) return cached && cached.kind === 'dcr' ? cached : null;
  if (cached && cached.cachedUntil && cached.cachedUntil > now) return cached;
  let doc: FetchedDocument;
  try {
    doc = await fetchMetadataDocument(id, opts);
  } catch (err) {
    throw err instanceof CimdError ? err : new CimdError('could not fetch it', { cause: err });
  }
  const meta = clientFromDocument(id, doc.body);
  const cachedUntil = new Date(now.getTime() + doc.ttlSeconds * 1000);
  if (cached) {
    await store.updateOAuthClient(id, { ...meta, cachedUntil });
    return { ...cached, ...meta, cachedUntil };
  }
  const client: OAuthClient = { id, kind: 'cimd', ...meta, createdAt: now, lastUsedAt: null, cachedUntil };
  await store.createOAuthClient(client).catch(async (err: unknown) => {
    if (!(await store.findOAuthClient(id))) throw err; // a concurrent first fetch stored it: the same document
  });
  return client;
}
