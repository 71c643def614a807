// Retained heap per cached session, measured inside one process after full garbage collections (run
// with --expose-gc --no-flush-bytecode by scenarioSessionHeap): what the session cache, the identity
// headers and the signed assertion keep, with none of the garbage an RSS reading also counts.
// Prints one JSON line: bytes per session while every session is active, and half a minute later.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../src/store/open.js';
import { createSessionService, type ResolvedSession } from '../src/session/sessions.js';
import { identityHeaders } from '../src/proxy/headers.js';
import { createIdentitySigner } from '../src/access/identity-signer.js';
import { newSigningKey } from '../src/access/assertion.js';
import { createAssertionCache } from '../src/proxy/assertions.js';

const n = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const heap = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
};

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-heap-'));
const store = await openStore(`sqlite:${join(dir, 'heap.sqlite')}`);
await store.migrate();
let clock = Date.now();
const sessions = createSessionService(store, randomBytes(32), {
  idleMs: 86_400_000,
  absoluteMs: 86_400_000,
  now: () => clock,
});
const signer = await createIdentitySigner({
  keys: [{ ...(await newSigningKey()), generation: 1, signsFrom: 0 }],
  origin: () => 'https://app.example.com',
  prefix: '/auth',
  now: () => clock,
});
const withAssertion = createAssertionCache(signer);
const cookies: string[] = [];
for (let i = 0; i < n + 200; i++) {
  const user = await store.createUser(
    { email: `member${i}@example.com`, name: `Member ${i}`, role: 'member', passwordHash: null, emailVerified: true },
    new Date(),
  );
  // A flat string, as a request's header value is (a concatenated one would shrink when first hashed).
  const { cookieValue } = await sessions.create(user, 'password', { ip: null, userAgent: null });
  cookies.push(Buffer.from(cookieValue, 'latin1').toString('latin1'));
}
// What the gate keeps per session: the resolution, its identity headers, its assertion.
const identities = new WeakMap<ResolvedSession, string[]>();
const use = async (cookie: string) => {
  const s = (await sessions.resolve(cookie))!;
  identities.set(s, identityHeaders(s.principal));
  await new Promise<void>((resolve, reject) => withAssertion(s, [], resolve, reject));
};
for (const c of cookies.slice(0, 200)) await use(c); // code paths and allocator warm
const before = await heap();
for (const c of cookies.slice(200)) await use(c);
const active = await heap();
// Half a minute later (the sessions still cached, none used since): one more request signs.
clock += 31_000;
sessions.peek(cookies[0]!); // keeps the cache's clock honest: nothing expires within a day
await use(cookies[0]!);
const idle = await heap();
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ sessions: n, activeBytes: (active - before) / n, idleBytes: (idle - before) / n }));
