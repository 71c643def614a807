// The store of a running server follows the state file (src/live-store.ts); stopping the server while
// a switch is still under way waits for it, so no newly opened store is left open behind it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { enableAuth } from '../../src/config/auth-state.js';
import type { Scope } from '../../src/config/state.js';
import { openLiveStore } from '../../src/live-store.js';
import { tempHome } from '../support/gatehouse.js';

const homes: Array<ReturnType<typeof tempHome>> = [];
after(() => homes.forEach((h) => h.cleanup()));

describe('live store', () => {
  it('waits at close for a switch still in flight, and says where users now are', async () => {
    const h = tempHome();
    homes.push(h);
    const scope: Scope = { home: h.home, server: 'local', profile: 'main' };
    const masterKey = randomBytes(32);
    const state = enableAuth(null, masterKey, null);
    const logs: string[] = [];
    const live = await openLiveStore({ scope, state, masterKey, env: {}, log: (l) => logs.push(l) });
    const next = structuredClone(state);
    // Any URL the opener knows works for a binding; a second SQLite file keeps the test local.
    next.bindings.other = { kind: 'postgres', url: `sqlite:${join(h.home, 'other.sqlite')}` };
    next.auth.db = 'other';
    live.follow(next);
    live.follow(next); // the same target again while switching: no second switch
    await live.close();
    assert.deepEqual(logs, [`store: now using binding "other" (sqlite, ${join(h.home, 'other.sqlite')})`]);
  });

  it('keeps the old store when the new one cannot be opened', async () => {
    const h = tempHome();
    homes.push(h);
    const scope: Scope = { home: h.home, server: 'local', profile: 'main' };
    const masterKey = randomBytes(32);
    const state = enableAuth(null, masterKey, null);
    const logs: string[] = [];
    const live = await openLiveStore({ scope, state, masterKey, env: {}, log: (l) => logs.push(l) });
    const next = structuredClone(state);
    next.bindings.bad = { kind: 'postgres', url: 'nosuch://db' };
    next.auth.db = 'bad';
    live.follow(next);
    await live.close();
    assert.equal(logs.length, 1);
    assert.match(
      logs[0]!,
      /^store: could not switch to the new database, kept the old one: unsupported database URL scheme "nosuch:"$/,
    );
  });
});
