// The database drivers (pg, mysql2, mongodb) are optional dependencies loaded on first use: a SQLite
// deployment installs and loads none of them. When one is missing, the operator gets one sentence
// saying which package to install instead of Node's "Cannot find package 'pg' imported from …".
import { StoreError } from './types.js';

export type ServerDatabase = 'postgres' | 'mysql' | 'mongodb';

/** The npm package each server database needs. */
export const DRIVER_PACKAGES: Readonly<Record<ServerDatabase, string>> = {
  postgres: 'pg',
  mysql: 'mysql2',
  mongodb: 'mongodb',
};

export function missingDriverMessage(kind: ServerDatabase): string {
  const pkg = DRIVER_PACKAGES[kind];
  return `bind ${kind} needs the ${pkg} package: npm install ${pkg}`;
}

/** Whether `err` is Node failing to find `pkg` (ESM or CommonJS resolution), not some other load error. */
export function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof e?.message === 'string' && (e.message.includes(`'${pkg}'`) || e.message.includes(`'${pkg}/`));
}

/**
 * Runs `load` (a dynamic import of the driver or of a module that imports it) and turns a missing
 * driver into the one-sentence StoreError. `load` is a parameter so tests can simulate the failure.
 */
export async function loadDriver<T>(kind: ServerDatabase, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissingPackage(err, DRIVER_PACKAGES[kind]))
      throw new StoreError('UNAVAILABLE', missingDriverMessage(kind), { cause: err });
    throw err;
  }
}
