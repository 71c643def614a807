// The store a running server uses, following the state file: `gatehouse auth enable --db other` moves
// a running server to another database. The first store is opened and migrated before serving; a
// switch opens the new one (the switchable store migrates it), swaps, and logs either way.
import { describeStore, storeChoiceFor, storeUrlFor } from './config/auth-state.js';
import type { Scope, StoredState } from './config/state.js';
import { openStoreFor } from './store/open.js';
import { createSwitchableStore } from './store/switchable.js';
import type { Store } from './store/types.js';

export interface LiveStore {
  /** Always the current backend: hand this one to the services. */
  store: Store;
  /** Switches when the state names another database than the one in use (or being switched to). */
  follow(state: StoredState): void;
  /** Waits for a switch in flight, then closes the backend in use. */
  close(): Promise<void>;
}

export interface LiveStoreOptions {
  scope: Scope;
  state: StoredState;
  masterKey: Buffer;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export async function openLiveStore(opts: LiveStoreOptions): Promise<LiveStore> {
  const { scope, masterKey, env, log } = opts;
  const first = await openStoreFor(scope, opts.state, masterKey, env);
  try {
    await first.migrate();
  } catch (err) {
    await first.close().catch(() => {});
    throw err;
  }
  const switchable = createSwitchableStore(first);
  let storeUrl = storeUrlFor(scope, opts.state, masterKey, env);
  let switchingTo: string | null = null;
  const inFlight = new Set<Promise<void>>();

  const switchTo = async (next: StoredState, url: string) => {
    const opened = await openStoreFor(scope, next, masterKey, env);
    try {
      await switchable.switchTo(opened);
    } catch (err) {
      await opened.close().catch(() => {}); // never half-open: the failed store must not keep sockets
      throw err;
    }
    storeUrl = url;
    log(`store: now using ${describeStore(storeChoiceFor(scope, next, masterKey, env))}`);
  };

  return {
    store: switchable.store,
    follow(next) {
      const url = storeUrlFor(scope, next, masterKey, env);
      if (url === storeUrl || url === switchingTo) return;
      switchingTo = url;
      const done: Promise<void> = switchTo(next, url)
        .catch((err: Error) => log(`store: could not switch to the new database, kept the old one: ${err.message}`))
        .finally(() => {
          inFlight.delete(done);
          if (switchingTo === url) switchingTo = null;
        });
      inFlight.add(done);
    },
    async close() {
      // A switch still in flight would otherwise swap in a store nobody closes after we return.
      await Promise.all(inFlight);
      await switchable.current().close();
    },
  };
}
