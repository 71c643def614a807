// Picks a backend from a binding URL. Drivers load lazily so a SQLite deployment never loads pg, mysql2
// or mongodb.
import { StoreError, type Store, type StoreKind, type StoreOptions } from './types.js';

export function storeKindOf(url: string): StoreKind {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mysql';
    case 'mongodb':
    case 'mongodb+srv':
      return 'mongodb';
    case 'sqlite':
    case 'file':
      return 'sqlite';
    default:
      throw new StoreError('INVALID', `unsupported database URL scheme "${scheme}:"`);
  }
}

/** Opens (does not migrate) the store for a binding URL; `sqlite:/path/file.db` for the embedded one. */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  switch (storeKindOf(url)) {
    case 'sqlite': {
      const { createSqliteStore } = await import('./sqlite.js');
      return createSqliteStore(url.replace(/^(sqlite|file):(\/\/)?/i, ''), options);
    }
    case 'postgres': {
      const { createPostgresStore } = await import('./postgres.js');
      return createPostgresStore(url, options);
    }
    case 'mysql': {
      const { createMysqlStore } = await import('./mysql.js');
      return createMysqlStore(url, options);
    }
    case 'mongodb': {
      const { createMongoStore } = await import('./mongodb.js');
      return createMongoStore(url, options);
    }
  }
}
