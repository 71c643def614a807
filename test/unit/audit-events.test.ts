// The audit helper's store-backed copy (recent security events): the same fields as the line, minus the
// user agent; a failing store is logged, not thrown, at most once a minute; the session sweep prunes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditLog, EVENTS_KEPT } from '../../src/security/audit-log.js';
import { startSessionSweep } from '../../src/services.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('recent security events', () => {
  it('writes every audit line to the store too, without the user agent', async () => {
    const store = createSqliteStore(':memory:', { prefix: 'ev_' });
    await store.migrate();
    const lines: string[] = [];
    const log = createAuditLog(
      (l) => lines.push(l),
      () => Date.parse('2026-03-14T09:26:53Z'),
      store,
    );
    log.record('sign-in.failure', {
      email: 'ada@example.com',
      ip: '203.0.113.7',
      userAgent: 'Firefox',
      detail: 'wrong password',
    });
    await settle();
    const [e] = await store.listEvents({ limit: 10, offset: 0 });
    assert.deepEqual(
      { ...e, id: 'x' },
      {
        id: 'x',
        at: new Date('2026-03-14T09:26:53Z'),
        event: 'sign-in.failure',
        userId: null,
        email: 'ada@example.com',
        ip: '203.0.113.7',
        detail: 'wrong password',
      },
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"userAgent":"Firefox"/, 'the line keeps it; the store does not');
    await store.close();
  });

  it('logs a failing store at most once a minute and never throws into the request', async () => {
    const lines: string[] = [];
    let t = 0;
    const store = { recordEvent: () => Promise.reject(new Error('store down')) } as unknown as Store;
    const log = createAuditLog(
      (l) => lines.push(l),
      () => t,
      store,
    );
    log.record('sign-out', {});
    log.record('sign-out', {});
    await settle();
    t += 61_000;
    log.record('sign-out', {});
    await settle();
    assert.equal(lines.filter((l) => l.includes('audit.store-failed')).length, 2);
    assert.equal(lines.filter((l) => l.includes('"sign-out"')).length, 3);
  });

  it('is pruned by the session sweep: older than 30 days, and beyond the newest 10,000', async () => {
    const store = createSqliteStore(':memory:', { prefix: 'ev_' });
    await store.migrate();
    const now = Date.parse('2026-03-14T00:00:00Z');
    await store.recordEvent({
      id: 'old',
      at: new Date(now - EVENTS_KEPT.maxAgeMs - 1000),
      event: 'sign-out',
      userId: null,
      email: null,
      ip: null,
      detail: null,
    });
    await store.recordEvent({
      id: 'new',
      at: new Date(now - 1000),
      event: 'sign-out',
      userId: null,
      email: null,
      ip: null,
      detail: null,
    });
    const stop = startSessionSweep(
      store,
      60_000,
      () => now,
      () => {},
      10,
    );
    for (let i = 0; i < 100 && (await store.listEvents({ limit: 10, offset: 0 })).length > 1; i++) await settle();
    stop();
    assert.deepEqual(
      (await store.listEvents({ limit: 10, offset: 0 })).map((e) => e.id),
      ['new'],
    );
    await store.close();
  });
});
