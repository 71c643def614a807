// The live configuration of a running server (src/live-config.ts): it follows the state file, tells
// its listeners once per change, and a broken file keeps the previous settings (and says so).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { enableAuth } from '../../src/config/auth-state.js';
import { stateFile, writeState, type Scope, type StoredState } from '../../src/config/state.js';
import { createLiveConfig, type LiveConfig } from '../../src/live-config.js';
import type { Mailer } from '../../src/mail/mailer.js';
import { startSessionSweep } from '../../src/services.js';
import type { Store } from '../../src/store/types.js';
import { tempHome } from '../support/gatehouse.js';

const homes: Array<ReturnType<typeof tempHome>> = [];
const open: LiveConfig[] = [];
after(async () => {
  for (const l of open) await l.close();
  homes.forEach((h) => h.cleanup());
});

async function setup(opts: { intervalMs?: number } = {}) {
  const h = tempHome();
  homes.push(h);
  const scope: Scope = { home: h.home, server: 'local', profile: 'main' };
  const masterKey = randomBytes(32);
  const state = enableAuth(null, masterKey, null);
  writeState(scope, state);
  const logs: string[] = [];
  const mailers: string[] = [];
  const createMailer = async (b: { url: string; from: string }): Promise<Mailer> => {
    mailers.push(b.url);
    return { send: async () => {}, close: () => void mailers.push(`closed ${b.url}`) };
  };
  const live = await createLiveConfig({
    scope,
    state,
    masterKey,
    env: {},
    log: (l) => logs.push(l),
    intervalMs: opts.intervalMs ?? 60_000,
    createMailer,
  });
  open.push(live);
  const changes: StoredState[] = [];
  live.onChange((_settings, next) => changes.push(next));
  const write = (change: (s: StoredState) => void) => {
    const next = structuredClone(state);
    change(next);
    writeState(scope, next);
  };
  return { scope, live, logs, mailers, changes, write };
}

const waitFor = async (done: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

describe('live configuration', () => {
  it('starts from the given state', async () => {
    const { live } = await setup();
    assert.equal(live.settings().mode, 'on');
    assert.equal(live.settings().secret.length, 32);
    assert.equal(live.mailer(), null);
    assert.deepEqual(live.providers(), []);
  });

  it('applies a change, logs a mode switch and tells each listener once', async () => {
    const { live, logs, changes, write } = await setup();
    write((s) => {
      s.auth.enabled = false;
    });
    live.reload();
    assert.equal(changes.length, 1);
    assert.equal(live.settings().mode, 'off');
    assert.ok(logs.includes('auth: switched off (requests pass through, no identity headers)'), logs.join('\n'));
    write((s) => {
      s.auth.mode = 'hybrid';
    });
    live.reload();
    assert.equal(changes.length, 2);
    assert.equal(live.settings().mode, 'hybrid');
    assert.ok(logs.includes('auth: switched on (mode hybrid)'), logs.join('\n'));
  });

  it('notices a rewritten file by itself, once per change', async () => {
    const { live, changes, write } = await setup({ intervalMs: 25 });
    // fs.watchFile takes its first stat asynchronously: a write before it would become the baseline and
    // never look like a change (on a busy machine it did). Real writes come long after start-up.
    await new Promise((r) => setTimeout(r, 200));
    write((s) => {
      s.auth.signUp = 'invite';
    });
    await waitFor(() => changes.length > 0);
    await new Promise((r) => setTimeout(r, 200)); // a second firing would come within a few intervals
    assert.equal(changes.length, 1);
    assert.equal(live.settings().signUp, 'invite');
  });

  it('keeps the previous settings when the file is broken, and says why', async () => {
    const { scope, live, logs, changes } = await setup();
    const before = live.settings();
    writeFileSync(stateFile(scope), '{ "auth": ');
    live.reload();
    assert.equal(changes.length, 0);
    assert.equal(live.settings(), before);
    assert.ok(
      logs.some((l) => l.startsWith('config: kept the previous settings: ') && l.includes('is not valid JSON')),
      logs.join('\n'),
    );
    writeFileSync(stateFile(scope), JSON.stringify({ auth: { mode: 'sometimes' } }));
    live.reload();
    assert.equal(changes.length, 0);
    assert.equal(live.settings(), before);
    assert.ok(
      logs.some((l) => l.includes('"auth.mode" must be on, off, hybrid, public, org-only or passphrase')),
      logs.join('\n'),
    );
  });

  it('follows the smtp binding with a new mailer, closing the old one', async () => {
    const { live, mailers, write } = await setup();
    write((s) => {
      s.bindings.smtp = { kind: 'smtp', url: 'smtp://127.0.0.1:2525', from: 'a@example.com' };
    });
    live.reload();
    await waitFor(() => live.mailer() !== null);
    assert.notEqual(live.mailer(), null);
    write(() => {});
    live.reload();
    await waitFor(() => live.mailer() === null);
    assert.equal(live.mailer(), null);
    assert.deepEqual(mailers, ['smtp://127.0.0.1:2525', 'closed smtp://127.0.0.1:2525']);
  });
});

describe('session sweep', () => {
  it('logs a failing sweep, at most once an hour', async () => {
    let t = 0;
    const logs: string[] = [];
    const store = { deleteExpiredSessions: () => Promise.reject(new Error('connection refused')) } as unknown as Store;
    const stop = startSessionSweep(
      store,
      60_000,
      () => t,
      (l) => logs.push(l),
      10,
    );
    await waitFor(() => logs.length > 0);
    t += 30 * 60_000;
    await new Promise((r) => setTimeout(r, 60));
    stop();
    assert.deepEqual(logs, ['sessions: could not delete expired sessions (connection refused); will try again']);
  });
});
