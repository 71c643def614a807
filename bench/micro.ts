// Micro-benchmarks of the per-request check and of password hashing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/store/sqlite.js';
import { createSessionService } from '../src/session/sessions.js';
import { createPasswordHasher } from '../src/security/password.js';

export async function micro(quick: boolean): Promise<{ cachedUs: number; uncachedUs: number; hashMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-micro-'));
  try {
    const store = createSqliteStore(join(dir, 'm.sqlite'));
    await store.migrate();
    const user = await store.createUser(
      { email: 'm@example.com', name: 'M', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    const secret = Buffer.alloc(32, 9);
    const hot = createSessionService(store, secret, { idleMs: 86_400_000, absoluteMs: 86_400_000 });
    const { cookieValue } = await hot.create(user, 'password', { ip: null, userAgent: null });
    await hot.resolve(cookieValue);
    const n = quick ? 200_000 : 1_000_000;
    let t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) hot.peek(cookieValue);
    const cachedUs = Number(process.hrtime.bigint() - t) / 1000 / n;
    // Uncached: revalidate every time (revalidateMs 0), so each check is MAC + two SQLite reads.
    const cold = createSessionService(store, secret, { idleMs: 86_400_000, absoluteMs: 86_400_000, revalidateMs: 0 });
    const m = quick ? 5_000 : 20_000;
    t = process.hrtime.bigint();
    for (let i = 0; i < m; i++) await cold.resolve(cookieValue);
    const uncachedUs = Number(process.hrtime.bigint() - t) / 1000 / m;
    const hasher = createPasswordHasher({ perSecond: 1e6 }); // raw hash time, not the production pacing
    const k = quick ? 5 : 20;
    t = process.hrtime.bigint();
    for (let i = 0; i < k; i++) await hasher.hash(`password number ${i}`);
    const hashMs = Number(process.hrtime.bigint() - t) / 1e6 / k;
    await store.close();
    return { cachedUs, uncachedUs, hashMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
