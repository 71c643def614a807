// A Store that can be pointed at another database while Gatehouse runs (`gatehouse auth enable --db
// other` against a running server). Every call goes to the current backend; a switch migrates the
// new one first, then swaps, then closes the old one once in-flight calls had time to finish.
import type { Store } from './types.js';

export interface SwitchableStore {
  store: Store;
  current(): Store;
  switchTo(next: Store): Promise<void>;
}

export function createSwitchableStore(initial: Store): SwitchableStore {
  let active = initial;
  const store = new Proxy({} as Store, {
    get(_target, key: keyof Store) {
      const value = active[key];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(active) : value;
    },
  });
  return {
    store,
    current: () => active,
    async switchTo(next) {
      await next.migrate();
      const old = active;
      active = next;
      setTimeout(() => void old.close().catch(() => {}), 5_000).unref();
    },
  };
}
