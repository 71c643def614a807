// Picks a backend from a binding URL, and opens the store a server/profile is configured to use.
// Drivers load lazily (src/store/drivers.ts) so a SQLite deployment never loads pg, mysql2 or mongodb.
// Opening lives here, not in config/: configuration stays data, and the storage layer reads it.
import { databaseKindOf, schemeOf } from '../config/database-url.js';
import { storeUrlFor } from '../config/auth-state.js';
import type { Scope, StoredState } from '../config/state.js';
import { loadDriver } from './drivers.js';
import { StoreError, type Store, type StoreKind, type StoreOptions } from './types.js';

export function storeKindOf(url: string): StoreKind {
  const kind = databaseKindOf(url);
  if (!kind) throw new StoreError('INVALID', `unsupported database URL scheme "${schemeOf(url)}:"`);
  return kind;
}

/** Opens (does not migrate) the store for a binding URL; `sqlite:/path/file.db` for the embedded one. */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  switch (storeKindOf(url)) {
    case 'sqlite': {
      const { createSqliteStore } = await import('./sqlite.js');
      return createSqliteStore(url.replace(/^(sqlite|file):(\/\/)?/i, ''), options);
    }
    case 'postgres': {
      const { createPostgresStore } = await loadDriver('postgres', () => import('./postgres.js'));
      return createPostgresStore(url, options);
    }
    case 'mysql': {
      const { createMysqlStore } = await loadDriver('mysql', () => import('./mysql.js'));
      return createMysqlStore(url, options);
    }
    case 'mongodb': {
      const { createMongoStore } = await loadDriver('mongodb', () => import('./mongodb.js'));
      return createMongoStore(url, options);
    }
  }
}

/**
 * Opens (does not migrate) the store at `url`. GATEHOUSE_TABLE_PREFIX (default `gatehouse_`) lets two
 * apps share one database without seeing each other's users; GATEHOUSE_DB_POOL bounds the pool.
 */
export async function openStoreAt(url: string, env: NodeJS.ProcessEnv): Promise<Store> {
  return openStore(url, {
    prefix: env.GATEHOUSE_TABLE_PREFIX || undefined,
    poolSize: env.GATEHOUSE_DB_POOL ? Number(env.GATEHOUSE_DB_POOL) : undefined,
  });
}

/** Opens (does not migrate) the store auth uses: the binding in auth.db, GATEHOUSE_DATABASE_URL, or the
 *  embedded one. */
export async function openStoreFor(
  scope: Scope,
  state: StoredState,
  masterKey: Buffer,
  env: NodeJS.ProcessEnv,
): Promise<Store> {
  return openStoreAt(storeUrlFor(scope, state, masterKey, env), env);
}
