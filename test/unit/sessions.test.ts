// The session service with an injected clock: lifetimes, the hot-path write budget, revalidation, and
// what two replicas sharing one store see.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { createSessionService } from '../../src/session/sessions.js';
import { tempHome } from '../support/gatehouse.js';
import type { Store, User } from '../../src/store/types.js';

let home: ReturnType<typeof tempHome>;
let store: Store;
let user: User;
const secret = Buffer.alloc(32, 1);
const MIN = 60_000;

before(async () => {
  home = tempHome();
  store = createSqliteStore(join(home.home, 'sessions.sqlite'));
  await store.migrate();
  user = await store.createUser(
    { email: 's@example.com', name: 'S', role: 'member', passwordHash: null, emailVerified: true },
    new Date(),
  );
});
after(async () => {
  await store.close();
  home.cleanup();
});

function clock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('sessions', () => {
  it('issue 256-bit opaque tokens and store only their hash', async () => {
    const svc = createSessionService(store, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN });
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { cookieValue, session } = await svc.create(user, 'password', { ip: null, userAgent: null });
      const token = cookieValue.split('.')[0]!;
      assert.equal(Buffer.from(token, 'base64url').length, 32);
      assert.ok(!seen.has(token));
      seen.add(token);
      assert.notEqual(session.id, token);
      assert.equal((await store.findSession(session.id))?.userId, user.id);
    }
  });

  it('end after the idle timeout and at the absolute lifetime, however busy', async () => {
    const c = clock();
    const svc = createSessionService(store, secret, { idleMs: 10 * MIN, absoluteMs: 60 * MIN, now: c.now });
    const idle = await svc.create(user, 'password', { ip: null, userAgent: null });
    assert.ok(await svc.resolve(idle.cookieValue));
    c.advance(10 * MIN + 1);
    assert.equal(await svc.resolve(idle.cookieValue), null);

    const busy = await svc.create(user, 'password', { ip: null, userAgent: null });
    for (let i = 0; i < 59; i++) {
      c.advance(MIN);
      assert.ok(await svc.resolve(busy.cookieValue), `minute ${i + 1}`);
    }
    c.advance(MIN + 1);
    assert.equal(await svc.resolve(busy.cookieValue), null);
  });

  it('write lastSeenAt at most once a minute whatever the request rate', async () => {
    const c = clock();
    const svc = createSessionService(store, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN, now: c.now });
    const s = await svc.create(user, 'password', { ip: null, userAgent: null });
    const before = svc.touches;
    for (let i = 0; i < 10_000; i++) {
      c.advance(12); // 10,000 requests over 2 minutes
      assert.ok(await svc.resolve(s.cookieValue));
    }
    assert.ok(svc.touches - before <= 2, `${svc.touches - before} writes`);
  });

  it('refuse forged, truncated and other-secret cookies without asking the store', async () => {
    const svc = createSessionService(store, secret, { idleMs: MIN, absoluteMs: MIN });
    const { cookieValue } = await svc.create(user, 'password', { ip: null, userAgent: null });
    assert.equal(svc.peek(cookieValue.slice(0, -1) + (cookieValue.endsWith('A') ? 'B' : 'A')), null);
    assert.equal(svc.peek(cookieValue.slice(0, 20)), null);
    assert.equal(svc.peek(''), null);
    const other = createSessionService(store, Buffer.alloc(32, 2), { idleMs: MIN, absoluteMs: MIN });
    assert.equal(await other.resolve(cookieValue), null);
  });

  it('are honoured and revoked across two replicas sharing a store within the revalidation window', async () => {
    const c = clock();
    const a = createSessionService(store, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN, now: c.now });
    const b = createSessionService(store, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN, now: c.now });
    const s = await a.create(user, 'password', { ip: null, userAgent: null });
    assert.ok(await b.resolve(s.cookieValue));
    await a.revoke(s.session.id);
    assert.equal(await a.resolve(s.cookieValue), null, 'at once on the replica that signed out');
    c.advance(2000);
    assert.equal(await b.resolve(s.cookieValue), null, 'within 2 s on the other');
  });

  it('end when the user is disabled', async () => {
    const c = clock();
    const svc = createSessionService(store, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN, now: c.now });
    const u = await store.createUser(
      { email: 'd@example.com', name: 'D', role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    const s = await svc.create(u, 'password', { ip: null, userAgent: null });
    assert.ok(await svc.resolve(s.cookieValue));
    await store.updateUser(u.id, { disabled: true }, new Date());
    c.advance(2000);
    assert.equal(await svc.resolve(s.cookieValue), null);
  });

  // Regression: a revoke that landed while a store lookup for that session was in flight let the
  // lookup put the session back in the cache, valid for up to 2 more seconds.
  it('let a revocation win over a lookup already in flight', async () => {
    let hold: Promise<void> = Promise.resolve();
    const slow: Store = new Proxy(store, {
      get(target, key: keyof Store) {
        if (key === 'findSession') {
          return async (id: string) => {
            const found = await target.findSession(id);
            await hold; // the lookup has read the row, and is slow to come back
            return found;
          };
        }
        const v = target[key];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    for (const revoke of ['session', 'user', 'all'] as const) {
      const svc = createSessionService(slow, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN });
      const s = await svc.create(user, 'password', { ip: null, userAgent: null });
      let release = () => {};
      hold = new Promise<void>((r) => (release = r));
      const lookup = svc.resolve(s.cookieValue);
      await new Promise((r) => setTimeout(r, 20));
      // Revoked in this process while the lookup waits (the store row stays: only the revocation counts).
      if (revoke === 'session') await svc.revoke('not-this-one').then(() => svc.revoke(s.session.id));
      else if (revoke === 'user') await svc.revokeUser(user.id);
      else await svc.revokeAll();
      await slow.createSession(s.session).catch(() => {}); // even if the row came back, the revocation wins
      release();
      assert.equal(await lookup, null, `revoked (${revoke}) while the lookup was in flight`);
      assert.equal(svc.peek(s.cookieValue), undefined, 'and not cached: the next request asks the store');
    }
    hold = Promise.resolve();
  });

  it('ask the store once for a cookie many requests bring at once, and a revocation still wins for all', async () => {
    let lookups = 0;
    let hold: Promise<void> = Promise.resolve();
    const counting: Store = new Proxy(store, {
      get(target, key: keyof Store) {
        if (key === 'findSession') {
          return async (id: string) => {
            lookups++;
            const found = await target.findSession(id);
            await hold;
            return found;
          };
        }
        const v = target[key];
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const svc = createSessionService(counting, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN });
    const s = await svc.create(user, 'password', { ip: null, userAgent: null });
    const all = await Promise.all(Array.from({ length: 50 }, () => svc.resolve(s.cookieValue)));
    assert.equal(lookups, 1, 'one store lookup for 50 concurrent requests');
    assert.ok(all.every((r) => r?.principal.userId === user.id));

    // A request that joins a lookup after a sign-out gets the sign-out's answer, not the lookup's.
    const other = createSessionService(counting, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN });
    let release = () => {};
    hold = new Promise<void>((r) => (release = r));
    lookups = 0;
    const early = other.resolve(s.cookieValue);
    await new Promise((r) => setTimeout(r, 20));
    await other.revoke(s.session.id);
    const late = other.resolve(s.cookieValue);
    release();
    assert.deepEqual([await early, await late], [null, null]);
    assert.equal(lookups, 1);
  });

  it("keep a stand-in session (the warm-up's) in memory only, until it ends", async () => {
    const before = await store.listUserSessions(user.id);
    const svc = createSessionService(store, secret, { idleMs: 60 * MIN, absoluteMs: 600 * MIN });
    const principal = {
      userId: 'warm-up',
      email: 'warm-up@gatehouse.invalid',
      name: 'Warm-up',
      provider: 'password',
      role: 'member' as const,
      emailVerified: true,
      groups: [],
      amr: ['pwd'],
    };
    const standIn = svc.standIn(principal);
    assert.deepEqual(svc.peek(standIn.cookieValue)?.principal, principal);
    assert.deepEqual(await store.listUserSessions(user.id), before, 'nothing written');
    assert.equal(await store.findSession(svc.idOf(standIn.cookieValue)!), null);
    standIn.end();
    assert.equal(svc.peek(standIn.cookieValue), undefined, 'gone from the cache: the store would be asked');
    assert.equal(await svc.resolve(standIn.cookieValue), null, 'and the store knows no such session');
  });

  // Regression: "last seen" was written once a minute whatever the idle limit, so with an idle limit
  // near a minute an active session still expired.
  it('write "last seen" often enough for a short idle limit', async () => {
    const c = clock();
    const svc = createSessionService(store, secret, { idleMs: 5 * MIN, absoluteMs: 600 * MIN, now: c.now });
    const s = await svc.create(user, 'password', { ip: null, userAgent: null });
    for (let i = 0; i < 40; i++) {
      c.advance(30_000); // a request every 30 s for 20 minutes, four times the idle limit
      assert.ok(await svc.resolve(s.cookieValue), `still signed in after ${(i + 1) * 30} s of activity`);
    }
    c.advance(5 * MIN + 1);
    assert.equal(await svc.resolve(s.cookieValue), null, 'and idle past the limit it ends');
  });
});
