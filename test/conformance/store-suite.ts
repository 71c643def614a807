// ONE storage conformance suite that every backend runs (SQLite, PostgreSQL, MySQL/MariaDB, MongoDB).
//
//   defineStoreConformance(name, open, opts?)
//     name   – the describe() title
//     open   – (prefix) => a new, not yet migrated Store using that table/collection prefix
//     opts   – { skip?: string | false; relay?: { open(prefix): Promise<Store>; cut(): void; restore(): void } }
//              relay: a Store reaching the server through a TCP relay, to test outages.
//
// Each run uses a fresh random prefix, so runs never collide on the shared servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isStoreError, type NewUser, type Store } from '../../src/store/types.js';

export interface RelayOptions {
  open(prefix: string): Promise<Store>;
  cut(): void;
  restore(): void;
}

export interface ConformanceOptions {
  skip?: string | false;
  relay?: RelayOptions;
  /** Drop the tables/collections of a prefix after the run. */
  cleanup?: (prefix: string) => Promise<void>;
}

const user = (email: string, extra: Partial<NewUser> = {}): NewUser => ({ email, name: 'N', role: 'member', passwordHash: '$argon2id$x', emailVerified: false, ...extra });
const T0 = new Date('2026-01-01T00:00:00.123Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

export function defineStoreConformance(name: string, open: (prefix: string) => Promise<Store>, opts: ConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, { skip: opts.skip || false }, () => {
    const prefix = `gh_t${randomBytes(4).toString('hex')}_`;
    let store: Store;

    before(async () => {
      store = await open(prefix);
      await store.migrate();
    });
    after(async () => {
      await store?.close();
      await opts.cleanup?.(prefix);
    });

    it('migrates idempotently, also when two processes migrate at once', async () => {
      await store.migrate();
      const fresh = `gh_t${randomBytes(4).toString('hex')}_`;
      const [a, b] = [await open(fresh), await open(fresh)];
      try {
        await Promise.all([a.migrate(), b.migrate()]);
        await a.createUser(user('m@example.com'), T0);
        assert.equal(await b.countUsers(), 1);
      } finally {
        await a.close();
        await b.close();
        await opts.cleanup?.(fresh);
      }
    });

    it('creates, finds, updates, lists and deletes users; dates and unicode round-trip', async () => {
      const name = 'Zoë 李 مرحبا 🚀';
      const u = await store.createUser(user('round@example.com', { name, emailVerified: true }), T0);
      assert.match(u.id, /^[0-9a-f-]{36}$/);
      const found = (await store.findUserByEmail('round@example.com'))!;
      assert.equal(found.id, u.id);
      assert.equal(found.name, name);
      assert.equal(found.createdAt.getTime(), T0.getTime(), 'ms precision');
      assert.equal(found.emailVerified, true);
      assert.equal(found.disabled, false);
      assert.equal(found.role, 'member');
      const updated = (await store.updateUser(u.id, { role: 'admin', disabled: true, passwordHash: null }, at(5)))!;
      assert.equal(updated.role, 'admin');
      assert.equal(updated.disabled, true);
      assert.equal(updated.passwordHash, null);
      assert.equal(updated.updatedAt.getTime(), at(5).getTime());
      assert.equal(await store.updateUser('no-such-id', { name: 'x' }, T0), null);
      assert.ok((await store.listUsers({ limit: 100, offset: 0 })).some((x) => x.id === u.id));
      assert.ok((await store.countUsers()) >= 1);
      assert.equal(await store.findUserById('no-such-id'), null);
    });

    it('keeps one account per email under 20 parallel sign-ups', async () => {
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.createUser(user('race@example.com'), T0)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(isStoreError(r.reason, 'DUPLICATE'), String(r.reason));
    });

    it('links identities once per (issuer, subject)', async () => {
      const u = await store.createUser(user('idp@example.com'), T0);
      await store.linkIdentity({ issuer: 'https://idp', subject: 's1', provider: 'corp', userId: u.id, email: 'idp@example.com', createdAt: T0 });
      await assert.rejects(
        store.linkIdentity({ issuer: 'https://idp', subject: 's1', provider: 'corp', userId: u.id, email: null, createdAt: T0 }),
        (e) => isStoreError(e, 'DUPLICATE'),
      );
      assert.equal((await store.findIdentity('https://idp', 's1'))?.userId, u.id);
      assert.equal(await store.findIdentity('https://other', 's1'), null);
    });

    it('creates, touches, lists and ends sessions', async () => {
      const u = await store.createUser(user('sess@example.com'), T0);
      const mk = (id: string, created: number, expires = 1_000_000) => ({
        id, userId: u.id, provider: 'password', createdAt: at(created), lastSeenAt: at(created), expiresAt: at(expires), ip: '127.0.0.1', userAgent: 'UA ✓',
      });
      await store.createSession(mk('a'.repeat(64), 1));
      await store.createSession(mk('b'.repeat(64), 2));
      await store.createSession(mk('c'.repeat(64), 3, 10));
      assert.deepEqual((await store.listUserSessions(u.id)).map((s) => s.id[0]), ['c', 'b', 'a']);
      await store.touchSession('a'.repeat(64), at(500));
      await store.touchSession('a'.repeat(64), at(400)); // never moves backwards
      assert.equal((await store.findSession('a'.repeat(64)))!.lastSeenAt.getTime(), at(500).getTime());
      assert.equal((await store.findSession('a'.repeat(64)))!.userAgent, 'UA ✓');
      // c expired absolutely, b idle (last seen at 2, idle 100 → gone at 200), a seen at 500.
      assert.equal(await store.deleteExpiredSessions(at(300), 100), 2);
      assert.ok(await store.findSession('a'.repeat(64)));
      await store.createSession(mk('d'.repeat(64), 4));
      assert.equal(await store.deleteUserSessions(u.id, 'a'.repeat(64)), 1);
      assert.deepEqual((await store.listUserSessions(u.id)).map((s) => s.id[0]), ['a']);
      assert.equal(await store.deleteSession('a'.repeat(64)), true);
      assert.equal(await store.deleteSession('a'.repeat(64)), false);
      await store.createSession(mk('e'.repeat(64), 5));
      assert.ok((await store.deleteAllSessions()) >= 1);
      assert.equal(await store.findSession('e'.repeat(64)), null);
    });

    it('gives a single-use token to exactly one of 20 concurrent consumers', async () => {
      const u = await store.createUser(user('tok@example.com'), T0);
      await store.createToken({ hash: 'h'.repeat(64), kind: 'reset', userId: u.id, email: u.email, createdAt: T0, expiresAt: at(60_000) });
      assert.equal(await store.consumeToken('h'.repeat(64), 'verify-email', at(1)), null, 'wrong kind');
      const got = await Promise.all(Array.from({ length: 20 }, () => store.consumeToken('h'.repeat(64), 'reset', at(1))));
      const winners = got.filter(Boolean);
      assert.equal(winners.length, 1);
      assert.equal(winners[0]!.userId, u.id);
      assert.equal(winners[0]!.email, u.email);
      assert.equal(await store.consumeToken('h'.repeat(64), 'reset', at(2)), null);
    });

    it('returns nothing for an expired token, and removes it', async () => {
      await store.createToken({ hash: 'x'.repeat(64), kind: 'setup', userId: null, email: null, createdAt: T0, expiresAt: at(10) });
      assert.equal(await store.consumeToken('x'.repeat(64), 'setup', at(11)), null);
      await store.createToken({ hash: 'x'.repeat(64), kind: 'setup', userId: null, email: null, createdAt: T0, expiresAt: at(100) });
      assert.ok(await store.consumeToken('x'.repeat(64), 'setup', at(11)), 'the expired row was gone, so the hash could be reused');
    });

    it('stores, finds, lists, touches and revokes API keys', async () => {
      const u = await store.createUser(user('key@example.com'), T0);
      await store.createApiKey({ id: 'k1', hash: 'k'.repeat(64), userId: u.id, name: 'ci', role: 'member', createdAt: T0, expiresAt: at(1000), lastUsedAt: null, revoked: false });
      await assert.rejects(
        store.createApiKey({ id: 'k2', hash: 'k'.repeat(64), userId: u.id, name: 'dup', role: 'member', createdAt: T0, expiresAt: null, lastUsedAt: null, revoked: false }),
        (e) => isStoreError(e, 'DUPLICATE'),
      );
      const k = (await store.findApiKeyByHash('k'.repeat(64)))!;
      assert.equal(k.expiresAt?.getTime(), at(1000).getTime());
      await store.touchApiKey('k1', at(7));
      assert.equal((await store.listApiKeys(u.id))[0]!.lastUsedAt?.getTime(), at(7).getTime());
      assert.equal(await store.revokeApiKey('k1'), true);
      assert.equal(await store.revokeApiKey('k1'), false);
      assert.equal((await store.findApiKeyByHash('k'.repeat(64)))!.revoked, true);
    });

    it('counts 50 concurrent hits as exactly 1..50, and rolls the window over', async () => {
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.hit('ip:1.2.3.4', 60_000, at(0))));
      assert.deepEqual(counts.map((c) => c.count).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
      assert.equal(counts[0]!.resetAt.getTime(), at(60_000).getTime());
      assert.equal((await store.peekCounter('ip:1.2.3.4', at(1)))?.count, 50);
      const next = await store.hit('ip:1.2.3.4', 60_000, at(60_000));
      assert.equal(next.count, 1, 'a new window');
      assert.equal(next.resetAt.getTime(), at(120_000).getTime());
      assert.equal(await store.peekCounter('ip:1.2.3.4', at(120_000)), null, 'expired windows are not reported');
      await store.clearCounter('ip:1.2.3.4');
      assert.equal(await store.peekCounter('ip:1.2.3.4', at(60_001)), null);
    });

    it('deletes a user with their sessions, identities, keys and tokens', async () => {
      const u = await store.createUser(user('gone@example.com'), T0);
      await store.createSession({ id: 'g'.repeat(64), userId: u.id, provider: 'password', createdAt: T0, lastSeenAt: T0, expiresAt: at(1e6), ip: null, userAgent: null });
      await store.linkIdentity({ issuer: 'https://idp', subject: 'gone', provider: 'corp', userId: u.id, email: null, createdAt: T0 });
      await store.createApiKey({ id: 'kg', hash: 'q'.repeat(64), userId: u.id, name: 'x', role: 'member', createdAt: T0, expiresAt: null, lastUsedAt: null, revoked: false });
      await store.createToken({ hash: 'z'.repeat(64), kind: 'reset', userId: u.id, email: u.email, createdAt: T0, expiresAt: at(1e6) });
      assert.equal(await store.deleteUser(u.id), true);
      assert.equal(await store.findUserById(u.id), null);
      assert.equal(await store.findSession('g'.repeat(64)), null);
      assert.equal(await store.findIdentity('https://idp', 'gone'), null);
      assert.equal(await store.findApiKeyByHash('q'.repeat(64)), null);
      assert.equal(await store.consumeToken('z'.repeat(64), 'reset', at(1)), null);
      assert.equal(await store.deleteUser(u.id), false);
    });

    if (opts.relay) {
      const relay = opts.relay;
      it('answers UNAVAILABLE when the server goes away mid-operation, writes nothing half, and recovers without restart', async () => {
        const viaRelay = await relay.open(prefix);
        try {
          await viaRelay.ping();
          relay.cut();
          await assert.rejects(viaRelay.createUser(user('outage@example.com'), T0), (e) => isStoreError(e, 'UNAVAILABLE'));
          await assert.rejects(viaRelay.ping(), (e) => isStoreError(e, 'UNAVAILABLE'));
          await assert.rejects(viaRelay.hit('outage', 1000, T0), (e) => isStoreError(e, 'UNAVAILABLE'));
          relay.restore();
          let recovered = false;
          for (let i = 0; i < 50 && !recovered; i++) {
            try {
              await viaRelay.ping();
              recovered = true;
            } catch {
              await new Promise((r) => setTimeout(r, 200));
            }
          }
          assert.ok(recovered, 'the same Store object works again');
          assert.equal(await viaRelay.findUserByEmail('outage@example.com'), null, 'the failed write left no row');
          const u = await viaRelay.createUser(user('after-outage@example.com'), T0);
          assert.equal((await store.findUserById(u.id))?.email, 'after-outage@example.com');
        } finally {
          relay.restore();
          await viaRelay.close();
        }
      });
    }
  });
}
