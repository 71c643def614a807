// ONE storage conformance suite that every backend runs (SQLite, PostgreSQL, MySQL/MariaDB, MongoDB).
//
//   defineStoreConformance(name: string, open: (prefix: string) => Promise<Store>, opts?: ConformanceOptions)
//     name   – the describe() title
//     open   – (prefix) => a new, not yet migrated Store using that table/collection prefix
//     opts   – all optional:
//       skip             a one-line reason to skip (a server that is not reachable), never a silent pass
//       cleanup(prefix)  drops the tables/collections of a prefix after the run
//       setSchemaVersion(prefix, v)  writes the stored schema version, to show a newer schema is refused
//       poolSize(query, configured?)  the pool size the DRIVER is set up with for this backend's URL with
//                        `query` added (and GATEHOUSE_DB_POOL = configured), without connecting; throws
//                        like the backend would. Every server backend gives it; SQLite has no pool.
//       storedCounterKeys(prefix)  the keys as they are in the counters table/collection, read past the
//                        Store, to show every backend stores a long key the same way (as its SHA-256)
//       relay            { open(prefix), cut(), restore(), cutOnNextRequest?(), cutOnNextReply?(), cutOnRequest?(n) }: a Store
//                        reaching the server through something the test can sever (test/support/tcp-relay.ts
//                        for SQL servers), for the outage tests; the cutOn… ones cut mid-operation.
//
// Each run uses a fresh random prefix (gh_t<hex>_), so runs never collide on the shared servers. Tests
// share one store per run and make their own rows, so they do not depend on each other's data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  isStoreError,
  type DeviceAuthorization,
  type NewUser,
  type OAuthClient,
  type OAuthToken,
  type SigningKeyRecord,
  type Store,
} from '../../src/store/types.js';

export interface RelayOptions {
  open(prefix: string): Promise<Store>;
  /** Sever every connection and refuse new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Cut as the next request leaves the client: the server never sees it. */
  cutOnNextRequest?(): void;
  /** Cut as the next reply leaves the server: the work is done, the client never hears of it. */
  cutOnNextReply?(): void;
  /** Let n - 1 more request writes through, then cut at the n-th: somewhere inside a multi-statement call. */
  cutOnRequest?(n: number): void;
}

export interface ConformanceOptions {
  skip?: string | false;
  relay?: RelayOptions;
  /** Drop the tables/collections of a prefix after the run. */
  cleanup?: (prefix: string) => Promise<void>;
  /** Overwrite the stored schema version of a migrated prefix. */
  setSchemaVersion?: (prefix: string, version: number) => Promise<void>;
  /** The driver's pool size for the backend's URL plus `query` (e.g. "pool=3"), configured size aside. */
  poolSize?: (query: string, configured?: number) => Promise<number>;
  /** The counter keys as stored, read straight from the database. */
  storedCounterKeys?: (prefix: string) => Promise<string[]>;
}

const user = (email: string, extra: Partial<NewUser> = {}): NewUser => ({
  email,
  name: 'N',
  role: 'member',
  passwordHash: '$argon2id$x',
  emailVerified: false,
  ...extra,
});
const T0 = new Date('2026-01-01T00:00:00.123Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const newPrefix = () => `gh_t${randomBytes(4).toString('hex')}_`;
const unavailable = (e: unknown) => isStoreError(e, 'UNAVAILABLE') && e.cause !== undefined;

/** Polls until fn stops throwing (a pool reconnecting); fails after ~10 s instead of hanging. */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export function defineStoreConformance(
  name: string,
  open: (prefix: string) => Promise<Store>,
  opts: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}`, { skip: opts.skip || false }, () => {
    const prefix = newPrefix();
    let store: Store;

    before(async () => {
      store = await open(prefix);
      await store.migrate();
    });
    after(async () => {
      await store?.close();
      await opts.cleanup?.(prefix);
    });

    it('migrates idempotently, also when three processes migrate a fresh prefix at once', async () => {
      await store.migrate();
      await store.migrate();
      const fresh = newPrefix();
      const stores = await Promise.all([open(fresh), open(fresh), open(fresh)]);
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        await stores[0]!.createUser(user('m@example.com'), T0);
        for (const s of stores) assert.equal(await s.countUsers(), 1);
        await stores[1]!.migrate();
        assert.equal(await stores[2]!.countUsers(), 1, 'migrating again keeps the data');
      } finally {
        for (const s of stores) await s.close();
        await opts.cleanup?.(fresh);
      }
    });

    if (opts.setSchemaVersion) {
      const setSchemaVersion = opts.setSchemaVersion;
      it('refuses to run on a schema newer than itself', async () => {
        const fresh = newPrefix();
        const s = await open(fresh);
        try {
          await s.migrate();
          await setSchemaVersion(fresh, 999);
          await assert.rejects(s.migrate(), (e) => isStoreError(e, 'MIGRATION'));
        } finally {
          await s.close();
          await opts.cleanup?.(fresh);
        }
      });
    }

    it('refuses a table prefix other than up to 32 lower-case letters, digits or _, before touching the database', async () => {
      for (const bad of ['Bad-Prefix', 'UPPER_', 'a;drop_', 'x'.repeat(33), 'spa ce_']) {
        await assert.rejects(
          async () => (await open(bad)).close(),
          (e) => isStoreError(e, 'INVALID'),
          bad,
        );
      }
    });

    if (opts.poolSize) {
      const poolSize = opts.poolSize;
      it('sizes its pool from ?pool= or ?max=, else the configured size, else 10; refuses 0, >1000 and non-numbers', async () => {
        assert.equal(await poolSize('pool=3'), 3);
        assert.equal(await poolSize('max=7', 20), 7, 'the URL wins over the configured size');
        assert.equal(await poolSize('', 20), 20);
        assert.equal(await poolSize(''), 10);
        assert.equal(await poolSize('pool=1000'), 1000);
        for (const bad of ['pool=0', 'pool=-1', 'pool=2.5', 'pool=lots', 'max=1001', 'pool=']) {
          await assert.rejects(poolSize(bad), (e) => isStoreError(e, 'INVALID'), bad);
        }
        await assert.rejects(
          poolSize('', 0),
          (e) => isStoreError(e, 'INVALID'),
          'configured 0 (unbounded to some drivers)',
        );
      });
    }

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
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.createUser(user('race@example.com'), T0)),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results)
        if (r.status === 'rejected') assert.ok(isStoreError(r.reason, 'DUPLICATE'), String(r.reason));
    });

    it('lists users by creation time, then id, page by page, and counts them', async () => {
      const before = await store.countUsers();
      // Far in the future, so these three sort after every other user of the run.
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await store.createUser(user(`page${i}@example.com`), at(1e12 + i)));
      assert.equal(await store.countUsers(), before + 3);
      const page = await store.listUsers({ limit: 2, offset: before + 1 });
      assert.deepEqual(
        page.map((u) => u.email),
        ['page1@example.com', 'page2@example.com'],
      );
      assert.deepEqual(await store.listUsers({ limit: 10, offset: before + 3 }), []);
      assert.equal(await store.deleteUser(made[0]!.id), true);
      assert.equal(await store.countUsers(), before + 2);
    });

    it('searches users by email or name, any case, with wildcards taken literally, and counts the matches', async () => {
      const a = await store.createUser({ ...user('finder.one@search.example'), name: 'Zelda Quux' }, at(1e12 + 20));
      const b = await store.createUser({ ...user('other@search.example'), name: 'Finder Two' }, at(1e12 + 21));
      await store.createUser({ ...user('x_y%z@search.example'), name: 'Percent' }, at(1e12 + 22));
      const emails = async (query: string) =>
        (await store.listUsers({ limit: 10, offset: 0, query })).map((u) => u.email);
      assert.deepEqual(await emails('FINDER'), [a.email, b.email], 'email or name, any case, by creation time');
      assert.equal(await store.countUsers('finder'), 2);
      assert.deepEqual(await emails('zelda q'), [a.email]);
      assert.deepEqual(await emails('x_y%'), ['x_y%z@search.example'], '_ and % are literal');
      assert.deepEqual(await emails('y%z@'), ['x_y%z@search.example']);
      assert.deepEqual(await emails('nobody-at-all'), []);
      assert.equal(await store.countUsers('nobody-at-all'), 0);
      assert.deepEqual(
        (await store.listUsers({ limit: 1, offset: 1, query: 'finder' })).map((u) => u.email),
        [b.email],
        'paged',
      );
      assert.ok((await store.countUsers('')) >= 3, 'an empty query is no filter');
    });

    it('keeps security events newest first, filters by user (id or email) and event, and prunes by age and count', async () => {
      await store.pruneEvents(at(1e13), 0); // a clean table for this run
      const ev = (n: number, event: string, userId: string | null, email: string | null) =>
        store.recordEvent({
          id: `ev-${n}`,
          at: at(n * 1000),
          event,
          userId,
          email,
          ip: '192.0.2.1',
          detail: n === 2 ? 'd'.repeat(1200) : null,
        });
      await ev(1, 'sign-in.failure', null, 'ann@events.example');
      await ev(2, 'sign-in.success', 'u-ann', 'ann@events.example');
      await ev(3, 'admin.action', 'u-ann', null);
      await ev(4, 'sign-in.failure', null, 'bob@events.example');
      const all = await store.listEvents({ limit: 10, offset: 0 });
      assert.deepEqual(
        all.map((e) => e.id),
        ['ev-4', 'ev-3', 'ev-2', 'ev-1'],
      );
      assert.deepEqual(all[3], {
        id: 'ev-1',
        at: at(1000),
        event: 'sign-in.failure',
        userId: null,
        email: 'ann@events.example',
        ip: '192.0.2.1',
        detail: null,
      });
      assert.equal(all[2]!.detail!.length, 1000, 'a long detail is cut');
      const ann = { id: 'u-ann', email: 'ann@events.example' };
      assert.deepEqual(
        (await store.listEvents({ limit: 10, offset: 0, user: ann })).map((e) => e.id),
        ['ev-3', 'ev-2', 'ev-1'],
      );
      assert.deepEqual(
        (await store.listEvents({ limit: 10, offset: 0, user: { id: null, email: 'bob@events.example' } })).map(
          (e) => e.id,
        ),
        ['ev-4'],
      );
      assert.deepEqual(
        (await store.listEvents({ limit: 10, offset: 0, user: ann, event: 'sign-in.failure' })).map((e) => e.id),
        ['ev-1'],
      );
      assert.deepEqual(
        (await store.listEvents({ limit: 2, offset: 1 })).map((e) => e.id),
        ['ev-3', 'ev-2'],
        'paged',
      );
      assert.equal(await store.pruneEvents(at(1500), 10), 1, 'older than the cut-off');
      assert.equal(await store.pruneEvents(at(0), 2), 1, 'all but the newest two');
      assert.deepEqual(
        (await store.listEvents({ limit: 10, offset: 0 })).map((e) => e.id),
        ['ev-4', 'ev-3'],
      );
      assert.equal(await store.pruneEvents(at(0), 2), 0);
    });

    describe('signing keys and replicas (architecture.md#access)', () => {
      const key = (generation: number, extra: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
        generation,
        kid: `gh-test-${generation}`,
        sealed: `enc:v1:${'k'.repeat(200)}${generation}`,
        createdAt: at(generation * 1000),
        signsFrom: at(generation * 1000 + 60_000),
        ...extra,
      });

      it('keeps signing keys by generation, and of 10 concurrent adds of one generation exactly one wins', async () => {
        await store.addSigningKey(key(2));
        await store.addSigningKey(key(1, { signsFrom: at(1000) }));
        assert.deepEqual(await store.listSigningKeys(), [key(1, { signsFrom: at(1000) }), key(2)]);
        const adds = Array.from({ length: 10 }, (_, i) => store.addSigningKey(key(3, { kid: `gh-race-${i}` })));
        const results = await Promise.allSettled(adds);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) {
          if (r.status === 'rejected') assert.ok(isStoreError(r.reason, 'DUPLICATE'), String(r.reason));
        }
        const sameKid = store.addSigningKey(key(4, { kid: 'gh-test-1' }));
        await assert.rejects(sameKid, (e) => isStoreError(e, 'DUPLICATE'), 'a kid is unique too');
        assert.equal(await store.deleteSigningKey(1), true);
        assert.equal(await store.deleteSigningKey(1), false);
        assert.deepEqual(
          (await store.listSigningKeys()).map((k) => k.generation),
          [2, 3],
        );
      });

      it('records replica heartbeats (one row per replica), lists the recent ones and forgets the stale', async () => {
        await store.recordReplica({ id: 'rep-a', publicUrl: 'https://a.example', seenAt: at(0) });
        await store.recordReplica({ id: 'rep-b', publicUrl: 'https://b.example', seenAt: at(1000) });
        await store.recordReplica({ id: 'rep-a', publicUrl: 'https://a2.example', seenAt: at(5000) });
        // The same beat again (MySQL reports no changed row for it).
        await store.recordReplica({ id: 'rep-a', publicUrl: 'https://a2.example', seenAt: at(5000) });
        assert.deepEqual(await store.listReplicas(at(0)), [
          { id: 'rep-a', publicUrl: 'https://a2.example', seenAt: at(5000) },
          { id: 'rep-b', publicUrl: 'https://b.example', seenAt: at(1000) },
        ]);
        assert.deepEqual(
          (await store.listReplicas(at(2000))).map((r) => r.id),
          ['rep-a'],
        );
        assert.equal(await store.deleteReplicasSeenBefore(at(2000)), 1);
        assert.deepEqual(
          (await store.listReplicas(at(0))).map((r) => r.id),
          ['rep-a'],
        );
      });
    });

    it("leaves Gatehouse's reserved users (id gatehouse:…) out of listings and counts, but holds their sessions", async () => {
      const before = await store.countUsers();
      const id = 'gatehouse:passphrase:conformance';
      await store.importUser({
        id,
        email: 'conformance@passphrase.gatehouse.invalid',
        name: 'Passphrase',
        role: 'member',
        passwordHash: null,
        emailVerified: false,
        disabled: false,
        groups: [],
        createdAt: at(1e12 + 50),
        updatedAt: at(1e12 + 50),
      });
      assert.equal(await store.countUsers(), before, 'not counted');
      assert.ok(!(await store.listUsers({ limit: 10_000, offset: 0 })).some((u) => u.id === id), 'not listed');
      assert.equal((await store.findUserById(id))?.name, 'Passphrase', 'found by id');
      await store.createSession({
        id: 'reserved-session',
        userId: id,
        provider: 'passphrase',
        createdAt: T0,
        lastSeenAt: T0,
        expiresAt: at(1e12),
        ip: null,
        userAgent: null,
      });
      assert.equal((await store.findSession('reserved-session'))?.userId, id);
      assert.equal(await store.deleteUser(id), true);
      assert.equal(await store.findSession('reserved-session'), null, 'its sessions go with it');
    });

    it('stores hostile text as text', async () => {
      const names = [
        "'; DROP TABLE users; --",
        'a\\b\\\\c %_ *',
        '\u202eRTL override\u202c',
        'tab\tnew\nline',
        'ĳ Ǆ ß ﬁ İ',
        '🏳️‍🌈👨‍👩‍👧',
      ];
      for (const [i, name] of names.entries()) {
        const u = await store.createUser(
          user(`hostile${i}@example.com`, { name, passwordHash: `$argon2id$v=19$${name}` }),
          T0,
        );
        const back = (await store.findUserById(u.id))!;
        assert.equal(back.name, name);
        assert.equal(back.passwordHash, `$argon2id$v=19$${name}`);
      }
      assert.equal(
        await store.findUserByEmail('HOSTILE0@example.com'),
        null,
        'emails are stored normalised and matched exactly',
      );
      assert.equal(await store.findUserByEmail('hostile%@example.com'), null, 'no pattern matching');
    });

    it('links identities once per (issuer, subject)', async () => {
      const u = await store.createUser(user('idp@example.com'), T0);
      await store.linkIdentity({
        issuer: 'https://idp',
        subject: 's1',
        provider: 'corp',
        userId: u.id,
        email: 'idp@example.com',
        createdAt: T0,
      });
      await assert.rejects(
        store.linkIdentity({
          issuer: 'https://idp',
          subject: 's1',
          provider: 'corp',
          userId: u.id,
          email: null,
          createdAt: T0,
        }),
        (e) => isStoreError(e, 'DUPLICATE'),
      );
      assert.equal((await store.findIdentity('https://idp', 's1'))?.userId, u.id);
      assert.equal(await store.findIdentity('https://other', 's1'), null);
      assert.equal(await store.findIdentity('https://idp', 'S1'), null, 'subjects are case-sensitive');
      const odd = {
        issuer: 'https://idp.例え.jp/租户',
        subject: 'sub-🙂-مرحبا',
        provider: 'corp',
        userId: u.id,
        email: 'ünï@例え.jp',
        createdAt: at(42),
      };
      await store.linkIdentity(odd);
      assert.deepEqual(await store.findIdentity(odd.issuer, odd.subject), odd);
    });

    it('keeps groups (sorted, unique) and any role name through create, update and read', async () => {
      const u = await store.createUser({ ...user('groups@example.com'), groups: ['ops', 'finance', 'ops'] }, T0);
      assert.deepEqual(u.groups, ['finance', 'ops']);
      assert.deepEqual((await store.findUserById(u.id))!.groups, ['finance', 'ops']);
      const updated = await store.updateUser(
        u.id,
        { groups: ['zeta', 'alpha.team', 'b_c-d'], role: 'read-only' },
        at(1),
      );
      assert.deepEqual(updated!.groups, ['alpha.team', 'b_c-d', 'zeta']);
      assert.equal(updated!.role, 'read-only');
      assert.deepEqual((await store.findUserByEmail('groups@example.com'))!.groups, ['alpha.team', 'b_c-d', 'zeta']);
      assert.deepEqual((await store.updateUser(u.id, { groups: [] }, at(2)))!.groups, []);
      const plain = await store.createUser(user('nogroups@example.com'), T0);
      assert.deepEqual((await store.findUserById(plain.id))!.groups, []);
    });

    it('imports a user exactly as given, lists identities and live tokens (what migrate-users copies)', async () => {
      const imported = {
        id: 'imp-0001',
        email: 'imported@example.com',
        name: 'Ïmported',
        role: 'operator',
        passwordHash: '$argon2id$v=19$kept',
        emailVerified: true,
        disabled: true,
        groups: ['finance', 'ops'],
        createdAt: at(5),
        updatedAt: at(9),
      };
      await store.importUser(imported);
      assert.deepEqual(await store.findUserById('imp-0001'), imported);
      await assert.rejects(store.importUser(imported), (e) => isStoreError(e, 'DUPLICATE'), 'same id');
      await assert.rejects(
        store.importUser({ ...imported, id: 'imp-0002' }),
        (e) => isStoreError(e, 'DUPLICATE'),
        'same email',
      );
      const later = {
        issuer: 'https://b',
        subject: 's',
        provider: 'b',
        userId: imported.id,
        email: null,
        createdAt: at(2),
      };
      const earlier = {
        issuer: 'https://a',
        subject: 's',
        provider: 'a',
        userId: imported.id,
        email: 'imported@example.com',
        createdAt: at(1),
      };
      await store.linkIdentity(later);
      await store.linkIdentity(earlier);
      assert.deepEqual(await store.listIdentities(imported.id), [earlier, later]);
      assert.deepEqual(await store.listIdentities('nobody'), []);
      const invite = (c: string, expires: number) => ({
        hash: c.repeat(64),
        kind: 'invite' as const,
        userId: null,
        email: `${c}@example.com`,
        createdAt: at(expires - 50),
        expiresAt: at(expires),
      });
      for (const t of [invite('7', 200), invite('8', 100), invite('9', 10)]) await store.createToken(t);
      assert.deepEqual(
        await store.listTokens('invite', at(20)),
        [invite('8', 100), invite('7', 200)],
        'live ones, oldest first',
      );
      assert.deepEqual(await store.listTokens('reset', at(20)), []);
      await store.deleteTokens('invite');
    });

    it("changes a user's email (DUPLICATE when taken) and unlinks only that user's identity", async () => {
      const a = await store.createUser(user('move-a@example.com'), T0);
      const b = await store.createUser(user('move-b@example.com'), T0);
      assert.equal(
        (await store.updateUser(a.id, { email: 'moved-a@example.com', emailVerified: true }, at(1)))!.email,
        'moved-a@example.com',
      );
      assert.equal((await store.findUserByEmail('moved-a@example.com'))!.id, a.id);
      assert.equal(await store.findUserByEmail('move-a@example.com'), null);
      await assert.rejects(store.updateUser(b.id, { email: 'moved-a@example.com' }, at(2)), (e) =>
        isStoreError(e, 'DUPLICATE'),
      );
      assert.equal(
        (await store.findUserById(b.id))!.email,
        'move-b@example.com',
        'the refused change left the row as it was',
      );
      const id = {
        issuer: 'https://idp',
        subject: 'sub-a',
        provider: 'idp',
        userId: a.id,
        email: null,
        createdAt: at(1),
      };
      await store.linkIdentity(id);
      assert.equal(await store.unlinkIdentity(b.id, id.issuer, id.subject), false, 'another user cannot unlink it');
      assert.ok(await store.findIdentity(id.issuer, id.subject));
      assert.equal(await store.unlinkIdentity(a.id, id.issuer, id.subject), true);
      assert.equal(await store.findIdentity(id.issuer, id.subject), null);
      assert.equal(await store.unlinkIdentity(a.id, id.issuer, id.subject), false);
    });

    it('creates, touches, lists and ends sessions', async () => {
      const u = await store.createUser(user('sess@example.com'), T0);
      const mk = (id: string, created: number, expires = 1_000_000) => ({
        id,
        userId: u.id,
        provider: 'password',
        createdAt: at(created),
        lastSeenAt: at(created),
        expiresAt: at(expires),
        ip: '127.0.0.1',
        userAgent: 'UA ✓',
      });
      await store.createSession(mk('a'.repeat(64), 1));
      await store.createSession(mk('b'.repeat(64), 2));
      await store.createSession(mk('c'.repeat(64), 3, 10));
      assert.deepEqual(
        (await store.listUserSessions(u.id)).map((s) => s.id[0]),
        ['c', 'b', 'a'],
      );
      await store.touchSession('a'.repeat(64), at(500));
      await store.touchSession('a'.repeat(64), at(400)); // never moves backwards
      assert.equal((await store.findSession('a'.repeat(64)))!.lastSeenAt.getTime(), at(500).getTime());
      assert.equal((await store.findSession('a'.repeat(64)))!.userAgent, 'UA ✓');
      // c expired absolutely, b idle (last seen at 2, idle 100 → gone at 200), a seen at 500.
      assert.equal(await store.deleteExpiredSessions(at(300), 100), 2);
      assert.ok(await store.findSession('a'.repeat(64)));
      await store.createSession(mk('d'.repeat(64), 4));
      assert.equal(await store.deleteUserSessions(u.id, 'a'.repeat(64)), 1);
      assert.deepEqual(
        (await store.listUserSessions(u.id)).map((s) => s.id[0]),
        ['a'],
      );
      assert.equal(await store.deleteSession('a'.repeat(64)), true);
      assert.equal(await store.deleteSession('a'.repeat(64)), false);
      await store.createSession(mk('e'.repeat(64), 5));
      assert.ok((await store.deleteAllSessions()) >= 1);
      assert.equal(await store.findSession('e'.repeat(64)), null);
    });

    it('records how a session was made (amr), and reads a session without one as not recorded', async () => {
      const u = await store.createUser(user('amr@example.com'), T0);
      const mk = (id: string, amr?: string[]) => ({
        id,
        userId: u.id,
        provider: 'password',
        createdAt: at(1),
        lastSeenAt: at(1),
        expiresAt: at(1e6),
        ip: null,
        userAgent: null,
        ...(amr ? { amr } : {}),
      });
      await store.createSession(mk('7'.repeat(64), ['pwd', 'otp']));
      await store.createSession(mk('8'.repeat(64)));
      assert.deepEqual(await store.findSession('7'.repeat(64)), mk('7'.repeat(64), ['pwd', 'otp']));
      assert.deepEqual(await store.findSession('8'.repeat(64)), mk('8'.repeat(64)));
      assert.deepEqual((await store.listUserSessions(u.id)).map((x) => x.amr?.join('+') ?? 'none').sort(), [
        'none',
        'pwd+otp',
      ]);
      await store.deleteUserSessions(u.id);
    });

    it('keeps one authenticator app per user: unconfirmed until confirmed, never replaced once confirmed', async () => {
      const u = await store.createUser(user('totp@example.com'), T0);
      const f = (secret: string) => ({ userId: u.id, secret, confirmed: false, lastStep: null, createdAt: at(1) });
      assert.equal(await store.findTotp(u.id), null);
      await store.saveTotp(f('enc:v1:first'));
      await store.saveTotp(f('enc:v1:second')); // a fresh enrolment replaces an unconfirmed one
      assert.deepEqual(await store.findTotp(u.id), f('enc:v1:second'));
      assert.equal(await store.useTotpStep(u.id, 10), false, 'an unconfirmed factor accepts nothing');
      assert.equal(await store.confirmTotp(u.id, 100), true);
      assert.equal(await store.confirmTotp(u.id, 101), false, 'confirmed once');
      assert.deepEqual(await store.findTotp(u.id), { ...f('enc:v1:second'), confirmed: true, lastStep: 100 });
      await assert.rejects(store.saveTotp(f('enc:v1:third')), (e) => isStoreError(e, 'DUPLICATE'));
      assert.equal((await store.findTotp(u.id))!.secret, 'enc:v1:second');
      assert.equal(await store.deleteTotp(u.id), true);
      assert.equal(await store.deleteTotp(u.id), false);
      await store.saveTotp(f('enc:v1:again'));
      await store.deleteUser(u.id);
      assert.equal(await store.findTotp(u.id), null, 'deleted with the user');
    });

    it('accepts each TOTP time-step once, and never an earlier one, with one winner under concurrency', async () => {
      const u = await store.createUser(user('step@example.com'), T0);
      await store.saveTotp({ userId: u.id, secret: 'enc:v1:s', confirmed: false, lastStep: null, createdAt: at(1) });
      await store.confirmTotp(u.id, 1000);
      assert.equal(await store.useTotpStep(u.id, 1000), false, 'the confirming code is used up');
      assert.equal(await store.useTotpStep(u.id, 999), false, 'an earlier step');
      const wins = await Promise.all(Array.from({ length: 8 }, () => store.useTotpStep(u.id, 1001)));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal(await store.useTotpStep(u.id, 1003), true);
      assert.equal(await store.useTotpStep(u.id, 1002), false);
      assert.equal((await store.findTotp(u.id))!.lastStep, 1003);
      assert.equal(await store.useTotpStep('nobody', 5000), false);
    });

    it('uses each recovery code once, replaces all on regenerate, and keeps users apart', async () => {
      const [u, v] = [
        await store.createUser(user('rc-u@example.com'), T0),
        await store.createUser(user('rc-v@example.com'), T0),
      ];
      const h = (c: string) => c.repeat(64);
      await store.replaceRecoveryCodes(u.id, ['a', 'b', 'c'].map(h), at(1));
      await store.replaceRecoveryCodes(v.id, [h('a')], at(1)); // the same hash for another user is another code
      assert.equal(await store.countRecoveryCodes(u.id), 3);
      const wins = await Promise.all(Array.from({ length: 8 }, () => store.consumeRecoveryCode(u.id, h('a'))));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal(await store.consumeRecoveryCode(u.id, h('a')), false);
      assert.equal(await store.consumeRecoveryCode(u.id, h('z')), false);
      assert.equal(await store.countRecoveryCodes(u.id), 2);
      assert.deepEqual(await store.listRecoveryCodes(u.id), [h('b'), h('c')]);
      assert.equal(await store.countRecoveryCodes(v.id), 1);
      await store.replaceRecoveryCodes(u.id, ['d', 'e'].map(h), at(2));
      assert.equal(await store.consumeRecoveryCode(u.id, h('b')), false, 'old codes die');
      assert.equal(await store.consumeRecoveryCode(u.id, h('d')), true);
      assert.equal(await store.deleteRecoveryCodes(u.id), 1);
      assert.equal(await store.countRecoveryCodes(u.id), 0);
      await store.deleteUser(v.id);
      assert.equal(await store.countRecoveryCodes(v.id), 0, 'deleted with the user');
    });

    it('enables an authenticator app with its recovery codes in one step, once, with one winner', async () => {
      const u = await store.createUser(user('enable@example.com'), T0);
      const h = (c: string) => c.repeat(64);
      const batch = (tag: string) => Array.from({ length: 10 }, (_, i) => `${tag.repeat(63)}${i}`);
      assert.equal(await store.enableTotp(u.id, 7, batch('n'), at(1)), false, 'nothing to confirm');
      assert.equal(await store.countRecoveryCodes(u.id), 0, 'and nothing written');
      await store.replaceRecoveryCodes(u.id, [h('o')], at(1)); // codes from before (a passkey user regenerated them)
      await store.saveTotp({ userId: u.id, secret: 'enc:v1:e', confirmed: false, lastStep: null, createdAt: at(1) });
      const tags = ['p', 'q', 'r', 's', 't', 'u'];
      const wins = await Promise.all(tags.map((tag) => store.enableTotp(u.id, 500, batch(tag), at(2))));
      assert.equal(wins.filter(Boolean).length, 1, 'one confirmation wins');
      const winner = tags[wins.indexOf(true)]!;
      assert.deepEqual(
        await store.listRecoveryCodes(u.id),
        [...batch(winner)].sort(),
        "exactly the winner's codes: the old ones and the losers' are gone",
      );
      assert.equal(await store.countRecoveryCodes(u.id), 10);
      assert.deepEqual(await store.findTotp(u.id), {
        userId: u.id,
        secret: 'enc:v1:e',
        confirmed: true,
        lastStep: 500,
        createdAt: at(1),
      });
      assert.equal(await store.useTotpStep(u.id, 500), false, 'the confirming step is used up');
      assert.equal(await store.consumeRecoveryCode(u.id, batch(winner)[3]!), true);
      assert.equal(await store.consumeRecoveryCode(u.id, h('o')), false, 'an old code is dead');
      assert.equal(await store.enableTotp(u.id, 501, batch('v'), at(3)), false, 'enabled once');
      assert.equal(await store.countRecoveryCodes(u.id), 9, 'a losing call changes no codes');
      await store.replaceRecoveryCodes(u.id, [h('w')], at(4));
      assert.deepEqual(await store.listRecoveryCodes(u.id), [h('w')], 'regenerating replaces them as before');
      await store.deleteUser(u.id);
    });

    it("ends all of one user's sessions without touching another user's, and keeps null fields null", async () => {
      const [u, v] = [
        await store.createUser(user('sess-u@example.com'), T0),
        await store.createUser(user('sess-v@example.com'), T0),
      ];
      const mk = (id: string, userId: string) => ({
        id,
        userId,
        provider: 'google',
        createdAt: at(1),
        lastSeenAt: at(1),
        expiresAt: at(1e6),
        ip: null,
        userAgent: null,
      });
      await store.createSession(mk('1'.repeat(64), u.id));
      await store.createSession(mk('2'.repeat(64), u.id));
      await store.createSession(mk('3'.repeat(64), v.id));
      assert.deepEqual(await store.findSession('3'.repeat(64)), mk('3'.repeat(64), v.id));
      await store.touchSession('f'.repeat(64), at(9)); // an unknown session is no error
      assert.equal(await store.deleteUserSessions(u.id), 2);
      assert.deepEqual(await store.listUserSessions(u.id), []);
      assert.equal((await store.listUserSessions(v.id)).length, 1);
      assert.equal(await store.deleteAllSessions(), 1);
      assert.equal(await store.deleteAllSessions(), 0);
    });

    it('gives a single-use token to exactly one of 20 concurrent consumers', async () => {
      const u = await store.createUser(user('tok@example.com'), T0);
      await store.createToken({
        hash: 'h'.repeat(64),
        kind: 'reset',
        userId: u.id,
        email: u.email,
        createdAt: T0,
        expiresAt: at(60_000),
      });
      assert.equal(await store.consumeToken('h'.repeat(64), 'verify-email', at(1)), null, 'wrong kind');
      assert.equal(await store.consumeToken('0'.repeat(64), 'reset', at(1)), null, 'unknown hash');
      const got = await Promise.all(
        Array.from({ length: 20 }, () => store.consumeToken('h'.repeat(64), 'reset', at(1))),
      );
      const winners = got.filter(Boolean);
      assert.equal(winners.length, 1);
      assert.equal(winners[0]!.userId, u.id);
      assert.equal(winners[0]!.email, u.email);
      assert.equal(await store.consumeToken('h'.repeat(64), 'reset', at(2)), null);
    });

    it('burns every token of a kind, or of one user and kind', async () => {
      const a = await store.createUser(user('burn-a@example.com'), T0);
      const b = await store.createUser(user('burn-b@example.com'), T0);
      const tok = (c: string, kind: 'reset' | 'setup', userId: string | null) =>
        store.createToken({ hash: c.repeat(64), kind, userId, email: null, createdAt: T0, expiresAt: at(60_000) });
      await tok('1', 'reset', a.id);
      await tok('2', 'reset', a.id);
      await tok('3', 'reset', b.id);
      await tok('4', 'setup', null);
      await tok('5', 'setup', null);
      assert.equal(await store.deleteTokens('reset', a.id), 2);
      assert.equal(await store.consumeToken('1'.repeat(64), 'reset', at(1)), null);
      assert.equal(await store.consumeToken('2'.repeat(64), 'reset', at(1)), null);
      assert.ok(await store.consumeToken('3'.repeat(64), 'reset', at(1)), "another user's token is untouched");
      assert.equal(await store.deleteTokens('setup'), 2);
      assert.equal(await store.consumeToken('4'.repeat(64), 'setup', at(1)), null);
      assert.equal(await store.deleteTokens('setup'), 0);
    });

    it('finds a live token without using it up, and never an expired or other-kind one', async () => {
      const live = {
        hash: 'f'.repeat(64),
        kind: 'setup' as const,
        userId: null,
        email: null,
        createdAt: T0,
        expiresAt: at(100),
      };
      await store.createToken(live);
      assert.deepEqual(await store.findToken('f'.repeat(64), 'setup', at(1)), live);
      assert.deepEqual(await store.findToken('f'.repeat(64), 'setup', at(2)), live, 'looking twice still finds it');
      assert.equal(await store.findToken('f'.repeat(64), 'invite', at(1)), null, 'wrong kind');
      assert.equal(await store.findToken('e'.repeat(64), 'setup', at(1)), null, 'unknown hash');
      assert.equal(await store.findToken('f'.repeat(64), 'setup', at(100)), null, 'expired');
      assert.deepEqual(await store.consumeToken('f'.repeat(64), 'setup', at(1)), live, 'still there to be used');
    });

    it('returns nothing for an expired token, and removes it', async () => {
      await store.createToken({
        hash: 'x'.repeat(64),
        kind: 'setup',
        userId: null,
        email: null,
        createdAt: T0,
        expiresAt: at(10),
      });
      assert.equal(await store.consumeToken('x'.repeat(64), 'setup', at(11)), null);
      await store.createToken({
        hash: 'x'.repeat(64),
        kind: 'setup',
        userId: null,
        email: null,
        createdAt: T0,
        expiresAt: at(100),
      });
      const again = await store.consumeToken('x'.repeat(64), 'setup', at(11));
      assert.ok(again, 'the expired row was gone, so the hash could be reused');
      assert.deepEqual(again, {
        hash: 'x'.repeat(64),
        kind: 'setup',
        userId: null,
        email: null,
        createdAt: T0,
        expiresAt: at(100),
      });
    });

    it('stores, finds, lists, renames and deletes passkeys, each only by its owner', async () => {
      const u = await store.createUser(user('passkey@example.com'), T0);
      const other = await store.createUser(user('passkey-other@example.com'), T0);
      // The longest credential id WebAuthn allows: 1023 bytes, 1364 base64url characters.
      const longId = randomBytes(1023).toString('base64url');
      const pk = {
        id: longId,
        userId: u.id,
        publicKey: 'pQECAyYgASFYIA',
        counter: 0,
        transports: ['hybrid', 'internal'],
        name: 'Laptop',
        createdAt: at(2),
        lastUsedAt: null,
      };
      await store.createPasskey(pk);
      await store.createPasskey({ ...pk, id: 'cred-b', transports: [], name: 'Phone', createdAt: at(1) });
      await assert.rejects(store.createPasskey({ ...pk, userId: other.id }), (e) => isStoreError(e, 'DUPLICATE'));
      assert.deepEqual(await store.findPasskey(longId), pk);
      assert.equal(await store.findPasskey('cred-none'), null);
      assert.deepEqual(
        (await store.listPasskeys(u.id)).map((k) => [k.id, k.name, k.transports]),
        [
          ['cred-b', 'Phone', []],
          [longId, 'Laptop', ['hybrid', 'internal']],
        ],
      );
      assert.deepEqual(await store.listPasskeys(other.id), []);

      assert.equal(await store.renamePasskey(other.id, longId, 'stolen'), false, "another user's passkey is not found");
      assert.equal(await store.renamePasskey(u.id, longId, 'Work laptop'), true);
      assert.equal(await store.renamePasskey(u.id, longId, 'Work laptop'), true, 'the same name again still finds it');
      assert.equal((await store.findPasskey(longId))!.name, 'Work laptop');
      assert.equal(await store.deletePasskey(other.id, longId), false);
      assert.ok(await store.findPasskey(longId));
      assert.equal(await store.deletePasskey(u.id, longId), true);
      assert.equal(await store.deletePasskey(u.id, longId), false);
      assert.equal(await store.findPasskey(longId), null);
    });

    it('records a passkey use only when its counter moves forward, one winner among equal counters', async () => {
      const u = await store.createUser(user('counter@example.com'), T0);
      const base = {
        userId: u.id,
        publicKey: 'pk',
        transports: ['internal'],
        name: 'k',
        createdAt: T0,
        lastUsedAt: null,
      };
      await store.createPasskey({ ...base, id: 'no-counter', counter: 0 });
      assert.equal(
        await store.usePasskey('no-counter', 0, at(5)),
        true,
        'an authenticator without a counter always says 0',
      );
      assert.equal(await store.usePasskey('no-counter', 0, at(6)), true);
      assert.equal((await store.findPasskey('no-counter'))!.lastUsedAt?.getTime(), at(6).getTime());

      await store.createPasskey({ ...base, id: 'counting', counter: 0 });
      assert.equal(await store.usePasskey('counting', 7, at(1)), true);
      assert.equal(await store.usePasskey('counting', 7, at(2)), false, 'the same counter twice: a replay or a clone');
      assert.equal(await store.usePasskey('counting', 3, at(2)), false);
      assert.equal(await store.usePasskey('counting', 0, at(2)), false, 'a counter that went back to 0');
      const wins = await Promise.all(Array.from({ length: 8 }, () => store.usePasskey('counting', 9, at(3))));
      assert.equal(wins.filter(Boolean).length, 1);
      const k = (await store.findPasskey('counting'))!;
      assert.equal(k.counter, 9);
      assert.equal(k.lastUsedAt?.getTime(), at(3).getTime());
      assert.equal(await store.usePasskey('no-such-passkey', 1, at(4)), false);
    });

    it('keeps pending passkey challenges single-use, per purpose, and expiring', async () => {
      const u = await store.createUser(user('challenge@example.com'), T0);
      const h = createHash('sha256').update('challenge').digest('hex');
      await store.createToken({
        hash: h,
        kind: 'passkey-register',
        userId: u.id,
        email: null,
        createdAt: T0,
        expiresAt: at(300_000),
      });
      assert.equal(
        await store.consumeToken(h, 'passkey-sign-in', at(1)),
        null,
        'a registration challenge does not sign in',
      );
      const taken = await Promise.all(
        Array.from({ length: 5 }, () => store.consumeToken(h, 'passkey-register', at(1))),
      );
      assert.equal(taken.filter(Boolean).length, 1);
      assert.equal(taken.find(Boolean)!.userId, u.id);
      await store.createToken({
        hash: h,
        kind: 'passkey-sign-in',
        userId: null,
        email: null,
        createdAt: T0,
        expiresAt: at(10),
      });
      assert.equal(await store.consumeToken(h, 'passkey-sign-in', at(10)), null, 'expired');
    });

    it('deletes a user with their passkeys', async () => {
      const u = await store.createUser(user('passkey-gone@example.com'), T0);
      await store.createPasskey({
        id: 'cred-gone',
        userId: u.id,
        publicKey: 'pk',
        counter: 0,
        transports: [],
        name: 'k',
        createdAt: T0,
        lastUsedAt: null,
      });
      assert.equal(await store.deleteUser(u.id), true);
      assert.equal(await store.findPasskey('cred-gone'), null);
      assert.deepEqual(await store.listPasskeys(u.id), []);
    });

    it('stores, finds, lists, touches and revokes API keys', async () => {
      const u = await store.createUser(user('key@example.com'), T0);
      await store.createApiKey({
        id: 'k1',
        hash: 'k'.repeat(64),
        userId: u.id,
        name: 'ci',
        role: 'member',
        createdAt: T0,
        expiresAt: at(1000),
        lastUsedAt: null,
        revoked: false,
      });
      await assert.rejects(
        store.createApiKey({
          id: 'k2',
          hash: 'k'.repeat(64),
          userId: u.id,
          name: 'dup',
          role: 'member',
          createdAt: T0,
          expiresAt: null,
          lastUsedAt: null,
          revoked: false,
        }),
        (e) => isStoreError(e, 'DUPLICATE'),
      );
      const k = (await store.findApiKeyByHash('k'.repeat(64)))!;
      assert.equal(k.expiresAt?.getTime(), at(1000).getTime());
      await store.touchApiKey('k1', at(7));
      assert.equal((await store.listApiKeys(u.id))[0]!.lastUsedAt?.getTime(), at(7).getTime());
      assert.equal(await store.revokeApiKey('k1'), true);
      assert.equal(await store.revokeApiKey('k1'), false);
      assert.equal((await store.findApiKeyByHash('k'.repeat(64)))!.revoked, true);
      assert.equal(await store.revokeApiKey('no-such-key'), false);
      assert.equal(await store.findApiKeyByHash('0'.repeat(64)), null);
    });

    it('lists API keys per user and for everyone, oldest first; null dates stay null', async () => {
      const [u, v] = [
        await store.createUser(user('keys-u@example.com'), T0),
        await store.createUser(user('keys-v@example.com'), T0),
      ];
      const key = (id: string, userId: string, created: number, name = id) => ({
        id,
        hash: id.padEnd(64, '0'),
        userId,
        name,
        role: 'admin' as const,
        createdAt: at(created),
        expiresAt: null,
        lastUsedAt: null,
        revoked: false,
      });
      await store.createApiKey(key('lb', u.id, 2, 'déploiement 🚀 نشر'));
      await store.createApiKey(key('la', u.id, 1));
      await store.createApiKey(key('lc', v.id, 3));
      assert.deepEqual(await store.listApiKeys(u.id), [key('la', u.id, 1), key('lb', u.id, 2, 'déploiement 🚀 نشر')]);
      const all = (await store.listApiKeys()).map((k) => k.id);
      assert.deepEqual(
        all.filter((id) => ['la', 'lb', 'lc'].includes(id)),
        ['la', 'lb', 'lc'],
      );
    });

    it("keeps a key's scopes (sorted, unique), a paired session's device and a token's note; none reads as absent", async () => {
      const u = await store.createUser(user('devices@example.com'), T0);
      const key = {
        id: 'sc1',
        hash: 's'.repeat(64),
        userId: u.id,
        name: 'scoped',
        role: 'operator',
        createdAt: T0,
        expiresAt: null,
        lastUsedAt: null,
        revoked: false,
      };
      await store.createApiKey({ ...key, scopes: ['reports:write', 'reports:read', 'reports:read'] });
      const found = (await store.findApiKeyByHash('s'.repeat(64)))!;
      assert.deepEqual(found.scopes, ['reports:read', 'reports:write']);
      assert.equal(found.role, 'operator', 'any role name round-trips');
      await store.createApiKey({ ...key, id: 'sc2', hash: 't'.repeat(64), scopes: [] });
      assert.equal((await store.findApiKeyByHash('t'.repeat(64)))!.scopes, undefined);
      const session = {
        id: 'p'.repeat(64),
        userId: u.id,
        provider: 'pairing',
        createdAt: T0,
        lastSeenAt: T0,
        expiresAt: at(1e6),
        ip: null,
        userAgent: null,
      };
      await store.createSession({ ...session, pairedFrom: 'Firefox on macOS ✓' });
      assert.equal((await store.findSession('p'.repeat(64)))!.pairedFrom, 'Firefox on macOS ✓');
      assert.equal((await store.listUserSessions(u.id))[0]!.pairedFrom, 'Firefox on macOS ✓');
      const code = {
        hash: 'q'.repeat(64),
        kind: 'pair' as const,
        userId: u.id,
        email: null,
        createdAt: T0,
        expiresAt: at(300_000),
      };
      await store.createToken({ ...code, note: 'Safari on iOS' });
      assert.deepEqual(await store.findToken('q'.repeat(64), 'pair', at(1)), { ...code, note: 'Safari on iOS' });
      const got = await Promise.all(
        Array.from({ length: 10 }, () => store.consumeToken('q'.repeat(64), 'pair', at(1))),
      );
      assert.equal(got.filter(Boolean).length, 1, 'a pairing code has one winner');
      await store.createToken({ ...code, kind: 'handoff', expiresAt: at(60_000) });
      assert.equal(await store.consumeToken('q'.repeat(64), 'handoff', at(60_000)), null, 'expired at its deadline');
    });

    it('counts 50 concurrent hits as exactly 1..50, and rolls the window over', async () => {
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.hit('ip:1.2.3.4', 60_000, at(0))));
      assert.deepEqual(
        counts.map((c) => c.count).sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.equal(counts[0]!.resetAt.getTime(), at(60_000).getTime());
      assert.equal((await store.peekCounter('ip:1.2.3.4', at(1)))?.count, 50);
      const next = await store.hit('ip:1.2.3.4', 60_000, at(60_000));
      assert.equal(next.count, 1, 'a new window');
      assert.equal(next.resetAt.getTime(), at(120_000).getTime());
      assert.equal(await store.peekCounter('ip:1.2.3.4', at(120_000)), null, 'expired windows are not reported');
      await store.clearCounter('ip:1.2.3.4');
      assert.equal(await store.peekCounter('ip:1.2.3.4', at(60_001)), null);
    });

    it('keeps counters apart, whatever the length or script of their keys', async () => {
      // An account-lockout key embeds the email a client typed, of any length.
      const long = `lock:tries:${'ä'.repeat(600)}@例え.jp`;
      const sibling = `${long.slice(0, -1)}P`; // differs only in its last character
      const keys = [long, sibling, 'rl:sign-in:ip:2001:db8::/64', 'rl:sign-in:ip:2001:DB8::/64', 'سجل:🙂'];
      for (const [i, key] of keys.entries()) for (let n = 0; n <= i; n++) await store.hit(key, 1000, at(0));
      for (const [i, key] of keys.entries())
        assert.equal((await store.peekCounter(key, at(1)))?.count, i + 1, key.slice(0, 40));
      await store.clearCounter(long);
      assert.equal(await store.peekCounter(long, at(1)), null);
      assert.equal((await store.peekCounter(sibling, at(1)))?.count, 2);
      assert.equal(await store.peekCounter('never-hit', at(1)), null);
    });

    it('counts, peeks and clears a 300-character lockout key (a long email), apart from its stored form', async () => {
      // MySQL once failed here (VARCHAR(255)); every backend now stores such a key as its SHA-256.
      const email = `${'l'.repeat(300 - '@example.com'.length - 'lock:'.length)}@example.com`;
      const key = `lock:${email}`;
      assert.equal(key.length, 300);
      const neighbour = `${key.slice(0, -1)}n`;
      const stored = `sha256:${createHash('sha256').update(key).digest('hex')}`; // what a careless backend might collide with
      assert.equal((await store.hit(key, 60_000, at(0))).count, 1);
      const second = await store.hit(key, 60_000, at(1));
      assert.equal(second.count, 2);
      assert.equal(second.resetAt.getTime(), at(60_000).getTime());
      assert.equal((await store.hit(neighbour, 60_000, at(1))).count, 1);
      assert.equal(
        (await store.hit(stored, 60_000, at(1))).count,
        1,
        'a key spelled like a stored hash is a key of its own',
      );
      assert.deepEqual(await store.peekCounter(key, at(2)), { count: 2, resetAt: at(60_000) });
      await store.clearCounter(key);
      assert.equal(await store.peekCounter(key, at(2)), null);
      assert.equal((await store.peekCounter(neighbour, at(2)))?.count, 1);
      assert.equal((await store.peekCounter(stored, at(2)))?.count, 1);
      assert.equal((await store.hit(key, 60_000, at(3))).count, 1, 'a cleared key starts again');
      if (opts.storedCounterKeys) {
        await store.hit('lock:short@example.com', 60_000, at(3));
        const keys = await opts.storedCounterKeys(prefix);
        assert.ok(
          keys.includes(`sha256:${createHash('sha256').update(key).digest('hex')}`),
          'stored as sha256:<hex of the key>, like every backend',
        );
        assert.ok(!keys.includes(key), 'never stored as it is');
        assert.ok(keys.includes('lock:short@example.com'), 'a short key is stored as it is, readable');
      }
    });

    it('deletes a user with their sessions, identities, keys and tokens', async () => {
      const u = await store.createUser(user('gone@example.com'), T0);
      await store.createSession({
        id: 'g'.repeat(64),
        userId: u.id,
        provider: 'password',
        createdAt: T0,
        lastSeenAt: T0,
        expiresAt: at(1e6),
        ip: null,
        userAgent: null,
      });
      await store.linkIdentity({
        issuer: 'https://idp',
        subject: 'gone',
        provider: 'corp',
        userId: u.id,
        email: null,
        createdAt: T0,
      });
      await store.createApiKey({
        id: 'kg',
        hash: 'q'.repeat(64),
        userId: u.id,
        name: 'x',
        role: 'member',
        createdAt: T0,
        expiresAt: null,
        lastUsedAt: null,
        revoked: false,
      });
      await store.createToken({
        hash: 'z'.repeat(64),
        kind: 'reset',
        userId: u.id,
        email: u.email,
        createdAt: T0,
        expiresAt: at(1e6),
      });
      assert.equal(await store.deleteUser(u.id), true);
      assert.equal(await store.findUserById(u.id), null);
      assert.equal(await store.findSession('g'.repeat(64)), null);
      assert.equal(await store.findIdentity('https://idp', 'gone'), null);
      assert.equal(await store.findApiKeyByHash('q'.repeat(64)), null);
      assert.equal(await store.consumeToken('z'.repeat(64), 'reset', at(1)), null);
      assert.equal(await store.deleteUser(u.id), false);
    });

    describe('OAuth (architecture.md#oauth)', () => {
      const client = (id: string, extra: Partial<OAuthClient> = {}): OAuthClient => ({
        id,
        kind: 'dcr',
        name: 'Claude ✓',
        redirectUris: ['http://127.0.0.1/callback', 'https://x.example/cb?a=1'],
        createdAt: at(0),
        lastUsedAt: null,
        cachedUntil: null,
        ...extra,
      });
      const token = (hash: string, userId: string, clientId: string, extra: Partial<OAuthToken> = {}): OAuthToken => ({
        hash: hash.repeat(64).slice(0, 64),
        kind: 'access',
        family: 'fam-1',
        clientId,
        userId,
        resource: 'https://gh.example/mcp',
        scopes: 'tools read',
        redirectUri: null,
        codeChallenge: null,
        createdAt: at(0),
        expiresAt: at(3_600_000),
        usedAt: null,
        ...extra,
      });

      it('registers, finds, updates, touches, lists and deletes clients; an unused registration expires', async () => {
        await store.createOAuthClient(client('c-one'));
        await store.createOAuthClient(
          client('https://app.example/client.json', { kind: 'cimd', cachedUntil: at(600_000), createdAt: at(1) }),
        );
        await assert.rejects(store.createOAuthClient(client('c-one')), (e) => isStoreError(e, 'DUPLICATE'));
        assert.deepEqual(await store.findOAuthClient('c-one'), client('c-one'));
        assert.equal(
          await store.updateOAuthClient('https://app.example/client.json', {
            name: 'Renamed',
            redirectUris: ['https://app.example/cb'],
            cachedUntil: at(900_000),
          }),
          true,
        );
        assert.equal(
          await store.updateOAuthClient('nobody', { name: 'x', redirectUris: [], cachedUntil: null }),
          false,
        );
        const cimd = (await store.findOAuthClient('https://app.example/client.json'))!;
        assert.deepEqual(
          [cimd.kind, cimd.name, cimd.redirectUris, cimd.cachedUntil],
          ['cimd', 'Renamed', ['https://app.example/cb'], at(900_000)],
        );
        await store.createOAuthClient(client('c-used', { createdAt: at(2) }));
        await store.touchOAuthClient('c-used', at(5));
        assert.deepEqual((await store.findOAuthClient('c-used'))!.lastUsedAt, at(5));
        assert.deepEqual(
          (await store.listOAuthClients()).map((c) => c.id),
          ['c-one', 'https://app.example/client.json', 'c-used'],
        );
        // Never used, registered before the cut-off: gone. Used, or a cached document: kept.
        assert.equal(await store.deleteUnusedOAuthClients(at(10)), 1);
        assert.equal(await store.findOAuthClient('c-one'), null);
        assert.ok(await store.findOAuthClient('c-used'));
        assert.equal(await store.deleteOAuthClient('c-used'), true);
        assert.equal(await store.deleteOAuthClient('c-used'), false);
        await store.deleteOAuthClient('https://app.example/client.json');
      });

      it('lets exactly one of 20 concurrent redeemers use an authorization code; a replay is told apart; none once expired', async () => {
        const u = await store.createUser(user('oauth-code@example.com'), T0);
        await store.createOAuthClient(client('c-code'));
        const code = token('a', u.id, 'c-code', {
          kind: 'code',
          redirectUri: 'http://127.0.0.1/callback',
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          expiresAt: at(60_000),
        });
        await store.createOAuthToken(code);
        assert.equal(await store.findOAuthToken(code.hash, 'access', at(1)), null, 'a code is no access token');
        assert.equal(await store.useOAuthToken(code.hash, 'refresh', at(1)), null, 'nor a refresh token');
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.useOAuthToken(code.hash, 'code', at(1))),
        );
        const winners = results.filter((r) => r?.first);
        assert.equal(winners.length, 1);
        assert.deepEqual(winners[0]!.token, { ...code, usedAt: at(1) });
        assert.equal(results.filter((r) => r && !r.first).length, 19);
        assert.equal((await store.useOAuthToken(code.hash, 'code', at(2)))!.first, false, 'a replay');
        await store.createOAuthToken({ ...code, hash: 'b'.repeat(64) });
        assert.equal(await store.useOAuthToken('b'.repeat(64), 'code', at(60_000)), null, 'expired');
        assert.equal(await store.deleteOAuthFamily(code.family), 2, 'codes belong to their family');
      });

      it('rotates a refresh token once under 20 concurrent uses; a replay is told apart; a family ends at once', async () => {
        const u = await store.createUser(user('oauth-refresh@example.com'), T0);
        await store.createOAuthClient(client('c-refresh'));
        const refresh = token('c', u.id, 'c-refresh', { kind: 'refresh', family: 'fam-r', expiresAt: at(86_400_000) });
        const access = token('d', u.id, 'c-refresh', { family: 'fam-r' });
        const other = token('e', u.id, 'c-refresh', { family: 'fam-other' });
        for (const t of [refresh, access, other]) await store.createOAuthToken(t);
        const uses = await Promise.all(
          Array.from({ length: 20 }, () => store.useOAuthToken(refresh.hash, 'refresh', at(10))),
        );
        assert.equal(uses.filter((x) => x?.first).length, 1, 'one winner');
        assert.equal(uses.filter((x) => x && !x.first).length, 19, 'the rest see a used token');
        const replay = await store.useOAuthToken(refresh.hash, 'refresh', at(20));
        assert.equal(replay!.first, false);
        assert.deepEqual(replay!.token.usedAt, at(10));
        assert.equal(await store.useOAuthToken('f'.repeat(64), 'refresh', at(20)), null, 'unknown');
        assert.equal(await store.useOAuthToken(refresh.hash, 'refresh', at(86_400_000)), null, 'expired');
        assert.equal(await store.deleteOAuthFamily('fam-r'), 2);
        assert.equal(await store.findOAuthToken(access.hash, 'access', at(30)), null);
        assert.ok(await store.findOAuthToken(other.hash, 'access', at(30)), 'another family lives on');
        assert.equal(
          await store.findOAuthToken(other.hash, 'access', at(3_600_000)),
          null,
          'an expired token is not found',
        );
        assert.deepEqual(
          (await store.listOAuthTokens(u.id)).map((t) => t.hash),
          [other.hash],
        );
        assert.equal(await store.deleteExpiredOAuthTokens(at(3_600_000)), 1);
        assert.deepEqual(await store.listOAuthTokens(u.id), []);
      });

      it("supersedes a lost answer's unused successor for a retry, and tells a successor already used apart", async () => {
        const u = await store.createUser(user('oauth-retry@example.com'), T0);
        await store.createOAuthClient(client('c-retry'));
        const fam = { family: 'fam-retry' };
        // A was spent at 10 and bought B (+ its access token); the answer was lost; the retry wrote C.
        const a = token('1', u.id, 'c-retry', { ...fam, kind: 'refresh', usedAt: at(10), expiresAt: at(86_400_000) });
        const aAccess = token('2', u.id, 'c-retry', fam);
        const b = token('3', u.id, 'c-retry', { ...fam, kind: 'refresh', expiresAt: at(86_400_000) });
        const bAccess = token('4', u.id, 'c-retry', fam);
        const c = token('5', u.id, 'c-retry', { ...fam, kind: 'refresh', expiresAt: at(86_400_000) });
        const cAccess = token('6', u.id, 'c-retry', fam);
        const other = token('7', u.id, 'c-retry', { family: 'fam-else' });
        for (const t of [a, aAccess, b, bAccess, c, cAccess, other]) await store.createOAuthToken(t);
        assert.equal(await store.supersedeOAuthRefresh(a, [cAccess.hash, c.hash]), 'superseded');
        const live = async (t: OAuthToken) => (await store.findOAuthToken(t.hash, t.kind, at(20))) !== null;
        assert.deepEqual(
          await Promise.all([a, aAccess, b, bAccess, c, cAccess, other].map(live)),
          [true, false, false, false, true, true, true],
          'the spent token stays (a replay is recognised); the other access tokens and the unused successor end; another family lives on',
        );
        // C is used (its holder got the answer) and bought D: a retry of A is now a replay.
        assert.equal((await store.useOAuthToken(c.hash, 'refresh', at(30)))!.first, true);
        const d = token('8', u.id, 'c-retry', { ...fam, kind: 'refresh', expiresAt: at(86_400_000) });
        await store.createOAuthToken(d);
        assert.equal(await store.supersedeOAuthRefresh(a, ['9'.repeat(64)]), 'replayed');
        // C itself, retried while D is unused, is a retry again.
        await store.createOAuthToken(
          token('a', u.id, 'c-retry', { ...fam, kind: 'refresh', expiresAt: at(86_400_000) }),
        );
        assert.equal(
          await store.supersedeOAuthRefresh((await store.findOAuthToken(c.hash, 'refresh', at(40)))!, ['a'.repeat(64)]),
          'superseded',
        );
        assert.equal(await live(d), false);
        await store.deleteOAuthFamily('fam-retry');
        await store.deleteOAuthFamily('fam-else');
      });

      it('remembers one consent per user, client and resource; revoking a grant ends its tokens only', async () => {
        const [u, v] = [
          await store.createUser(user('oauth-consent-u@example.com'), T0),
          await store.createUser(user('oauth-consent-v@example.com'), T0),
        ];
        await store.createOAuthClient(client('c-consent'));
        const consent = {
          userId: u.id,
          clientId: 'c-consent',
          resource: 'https://gh.example/mcp',
          scopes: 'tools',
          createdAt: at(1),
        };
        await store.saveOAuthConsent(consent);
        await store.saveOAuthConsent({ ...consent, scopes: 'tools read', createdAt: at(2) });
        await store.saveOAuthConsent({ ...consent, userId: v.id });
        assert.deepEqual(await store.findOAuthConsent(u.id, 'c-consent', 'https://gh.example/mcp'), {
          ...consent,
          scopes: 'tools read',
          createdAt: at(2),
        });
        assert.equal(await store.findOAuthConsent(u.id, 'c-consent', 'https://gh.example/other'), null);
        assert.equal((await store.listOAuthConsents(u.id)).length, 1);
        await store.createOAuthToken(token('1', u.id, 'c-consent'));
        await store.createOAuthToken(token('2', u.id, 'c-consent', { kind: 'refresh' }));
        await store.createOAuthToken(token('3', v.id, 'c-consent'));
        assert.equal(await store.revokeOAuthGrant(u.id, 'c-consent'), 2);
        assert.equal(await store.findOAuthConsent(u.id, 'c-consent', 'https://gh.example/mcp'), null);
        assert.ok(await store.findOAuthToken('3'.repeat(64), 'access', at(1)), "another user's grant lives on");
        // A deleted client takes its consents and tokens; a deleted user takes theirs.
        await store.deleteOAuthClient('c-consent');
        assert.equal(await store.findOAuthToken('3'.repeat(64), 'access', at(1)), null);
        assert.deepEqual(await store.listOAuthConsents(v.id), []);
        await store.createOAuthClient(client('c-user'));
        await store.createOAuthToken(token('4', v.id, 'c-user'));
        await store.saveOAuthConsent({ ...consent, userId: v.id, clientId: 'c-user' });
        await store.deleteUser(v.id);
        assert.equal(await store.findOAuthToken('4'.repeat(64), 'access', at(1)), null);
        assert.deepEqual(await store.listOAuthConsents(v.id), []);
      });
    });

    describe('device authorizations (RFC 8628, architecture.md#devices)', () => {
      const device = (n: string, clientId: string, extra: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({
        deviceHash: n.repeat(64).slice(0, 64),
        userHash: `u${n}`.repeat(32).slice(0, 64),
        clientId,
        scopes: 'gatehouse:admin',
        resource: 'https://gh.example',
        createdAt: at(0),
        expiresAt: at(600_000),
        intervalSec: 5,
        lastPollAt: null,
        status: 'pending',
        userId: null,
        ...extra,
      });
      const builtin: OAuthClient = {
        id: 'gatehouse-cli',
        kind: 'builtin',
        name: 'Gatehouse CLI',
        redirectUris: [],
        createdAt: at(0),
        lastUsedAt: null,
        cachedUntil: null,
      };

      it('creates (a taken user code is DUPLICATE), finds the pending one by user code, not once expired', async () => {
        await store.createOAuthClient(builtin);
        assert.deepEqual(await store.findOAuthClient('gatehouse-cli'), builtin);
        await store.createDeviceAuthorization(device('a', 'gatehouse-cli'));
        await assert.rejects(
          store.createDeviceAuthorization({ ...device('b', 'gatehouse-cli'), userHash: device('a', 'x').userHash }),
          (e) => isStoreError(e, 'DUPLICATE'),
        );
        assert.deepEqual(
          await store.findPendingDeviceAuthorization(device('a', 'x').userHash, at(1)),
          device('a', 'gatehouse-cli'),
        );
        assert.equal(await store.findPendingDeviceAuthorization(device('a', 'x').userHash, at(600_000)), null);
        assert.equal(await store.findPendingDeviceAuthorization('nope', at(1)), null);
      });

      it('polls: on time after the interval, too fast before it (the interval grows by 5 s); unknown is null', async () => {
        await store.createDeviceAuthorization(device('p', 'gatehouse-cli'));
        const h = device('p', 'x').deviceHash;
        const first = (await store.pollDeviceAuthorization(h, at(1000)))!;
        assert.equal(first.tooFast, false);
        assert.deepEqual(first.auth.lastPollAt, at(1000));
        const early = (await store.pollDeviceAuthorization(h, at(3000)))!;
        assert.equal(early.tooFast, true);
        assert.equal(early.auth.intervalSec, 10);
        assert.equal((await store.pollDeviceAuthorization(h, at(9000)))!.tooFast, true); // 6 s < 10 s
        assert.equal((await store.pollDeviceAuthorization(h, at(25_000)))!.tooFast, false);
        // Two polls at once: at most one is on time.
        const both = await Promise.all([
          store.pollDeviceAuthorization(h, at(60_000)),
          store.pollDeviceAuthorization(h, at(60_000)),
        ]);
        assert.equal(both.filter((r) => r && !r.tooFast).length, 1);
        // Expired codes are still answered (so the caller can say expired_token).
        assert.ok(await store.pollDeviceAuthorization(h, at(700_000)));
        assert.equal(await store.pollDeviceAuthorization('f'.repeat(64), at(1)), null);
      });

      it('approval has one winner, and the decided authorization is taken once', async () => {
        const u = await store.createUser(user('device@example.com'), T0);
        await store.createDeviceAuthorization(device('d', 'gatehouse-cli'));
        const { userHash, deviceHash } = device('d', 'x');
        assert.equal(await store.takeDecidedDeviceAuthorization(deviceHash), null); // still pending
        const wins = await Promise.all(
          [0, 1, 2].map((i) => store.decideDeviceAuthorization(userHash, i ? 'denied' : 'approved', u.id, at(1))),
        );
        assert.equal(wins.filter(Boolean).length, 1);
        assert.equal(await store.findPendingDeviceAuthorization(userHash, at(1)), null);
        const taken = await Promise.all([
          store.takeDecidedDeviceAuthorization(deviceHash),
          store.takeDecidedDeviceAuthorization(deviceHash),
        ]);
        assert.equal(taken.filter(Boolean).length, 1);
        assert.equal(taken.find(Boolean)!.userId, u.id);
        assert.equal(await store.pollDeviceAuthorization(deviceHash, at(2)), null);
        // An expired authorization cannot be decided.
        await store.createDeviceAuthorization(device('e', 'gatehouse-cli'));
        assert.equal(
          await store.decideDeviceAuthorization(device('e', 'x').userHash, 'approved', u.id, at(600_000)),
          false,
        );
        assert.equal(await store.deleteExpiredDeviceAuthorizations(at(600_000)), 3); // 'e', and 'a' and 'p' from before
      });

      it('a deleted client or user takes its device authorizations with it', async () => {
        const u = await store.createUser(user('device-gone@example.com'), T0);
        await store.createDeviceAuthorization(device('g', 'gatehouse-cli', { status: 'approved', userId: u.id }));
        await store.deleteUser(u.id);
        assert.equal(await store.takeDecidedDeviceAuthorization(device('g', 'x').deviceHash), null);
        await store.createDeviceAuthorization(device('h', 'gatehouse-cli'));
        assert.equal(await store.deleteOAuthClient('gatehouse-cli'), true);
        assert.equal(await store.pollDeviceAuthorization(device('h', 'x').deviceHash, at(1)), null);
      });
    });

    if (opts.relay) {
      const relay = opts.relay;
      // Each outage test opens its own Store through the relay and closes it; a hang fails at 60 s
      // instead of holding the run.
      const viaRelay = async (fn: (s: Store) => Promise<void>) => {
        const s = await relay.open(prefix);
        try {
          await s.ping();
          await fn(s);
        } finally {
          relay.restore();
          await s.close();
        }
      };

      it(
        'answers UNAVAILABLE while the server is gone, and the same Store recovers without restart',
        { timeout: 60_000 },
        async () => {
          await viaRelay(async (s) => {
            relay.cut();
            // Let the idle pooled connections see the reset before anything checks them out, so the pool's
            // idle-error path runs (an unhandled one would crash the whole process). Too short a pause
            // would only make this part vacuous, never flaky.
            await new Promise((r) => setTimeout(r, 300));
            await assert.rejects(s.createUser(user('outage@example.com'), T0), unavailable);
            await assert.rejects(s.ping(), unavailable);
            await assert.rejects(s.hit('outage', 1000, T0), unavailable);
            await assert.rejects(s.consumeToken('o'.repeat(64), 'reset', T0), unavailable);
            relay.restore();
            await eventually(() => s.ping());
            assert.equal(await s.findUserByEmail('outage@example.com'), null, 'the failed write left no row');
            const u = await s.createUser(user('after-outage@example.com'), T0);
            assert.equal((await store.findUserById(u.id))?.email, 'after-outage@example.com');
          });
        },
      );

      if (relay.cutOnNextRequest) {
        const cutOnNextRequest = relay.cutOnNextRequest.bind(relay);
        it(
          'a write cut off on its way to the server rejects UNAVAILABLE and leaves nothing behind',
          { timeout: 60_000 },
          async () => {
            const owner = await store.createUser(user('midway-owner@example.com'), T0);
            await store.createToken({
              hash: 'm'.repeat(64),
              kind: 'reset',
              userId: owner.id,
              email: null,
              createdAt: T0,
              expiresAt: at(1e6),
            });
            await viaRelay(async (s) => {
              cutOnNextRequest();
              await assert.rejects(s.createUser(user('midway@example.com'), T0), unavailable);
              relay.restore();
              await eventually(() => s.ping());
              assert.equal(await store.findUserByEmail('midway@example.com'), null);

              cutOnNextRequest();
              await assert.rejects(s.consumeToken('m'.repeat(64), 'reset', at(1)), unavailable);
              relay.restore();
              await eventually(() => s.ping());
              assert.equal(
                (await s.consumeToken('m'.repeat(64), 'reset', at(1)))?.userId,
                owner.id,
                'an interrupted consume does not burn the token',
              );
            });
          },
        );
      }

      if (relay.cutOnRequest) {
        const cutOnRequest = relay.cutOnRequest.bind(relay);
        it(
          'an enrolment cut anywhere leaves no factor, or the factor with all its codes (never half)',
          { timeout: 120_000 },
          async () => {
            const h = (c: string, i: number) => `${c.repeat(60)}${String(i).padStart(4, '0')}`;
            const seen = new Set<string>();
            for (let n = 1; n <= 8; n++) {
              const u = await store.createUser(user(`cut-enrol-${n}@example.com`), T0);
              await store.replaceRecoveryCodes(u.id, [h('o', 0)], at(1));
              await store.saveTotp({
                userId: u.id,
                secret: 'enc:v1:c',
                confirmed: false,
                lastStep: null,
                createdAt: at(1),
              });
              const fresh = Array.from({ length: 10 }, (_, i) => h('n', i));
              await viaRelay(async (s) => {
                cutOnRequest(n);
                const outcome = await s
                  .enableTotp(u.id, 900, fresh, at(2))
                  .then(String, (e: unknown) => (unavailable(e) ? 'cut' : Promise.reject(e)));
                relay.restore();
                const on = (await store.findTotp(u.id))!.confirmed;
                const codes = await store.listRecoveryCodes(u.id);
                if (on)
                  assert.deepEqual(codes, fresh, `cut at write ${n} (${outcome}): the factor is on with all its codes`);
                else
                  assert.deepEqual(
                    codes,
                    [h('o', 0)],
                    `cut at write ${n} (${outcome}): no factor, and the old codes untouched`,
                  );
                assert.ok(outcome !== 'true' || on, 'a reported success is stored');
                seen.add(on ? 'on' : 'off');
              });
            }
            assert.ok(seen.has('off'), 'some cut landed before the commit');
          },
        );
      }

      if (relay.cutOnNextReply) {
        const cutOnNextReply = relay.cutOnNextReply.bind(relay);
        it(
          'a reply lost on its way back rejects UNAVAILABLE; the work is whole, not half',
          { timeout: 60_000 },
          async () => {
            await viaRelay(async (s) => {
              cutOnNextReply();
              await assert.rejects(s.hit('lost-reply', 60_000, at(0)), unavailable);
              relay.restore();
              await eventually(() => s.ping());
              assert.equal(
                (await store.peekCounter('lost-reply', at(1)))?.count,
                1,
                'the server counted the hit exactly once',
              );
              assert.equal((await s.hit('lost-reply', 60_000, at(1))).count, 2);
            });
          },
        );
      }
    }
  });
}
