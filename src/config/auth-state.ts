// Turning auth on and off in the stored state; shared by `gatehouse auth …` and the first `serve`.
import { randomBytes } from 'node:crypto';
import { emptyState, embeddedDbFile, type Scope, type StoredState } from './state.js';
import { isSealed, seal, unseal } from './secrets.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';

export function enableAuth(state: StoredState | null, masterKey: Buffer, db: string | null): StoredState {
  const next = structuredClone(state ?? emptyState());
  next.auth.enabled = true;
  next.auth.db = db;
  if (!next.auth.secret) next.auth.secret = seal(randomBytes(32).toString('base64url'), masterKey);
  return next;
}

export function rotateSecret(state: StoredState, masterKey: Buffer): StoredState {
  const next = structuredClone(state);
  next.auth.secret = seal(randomBytes(32).toString('base64url'), masterKey);
  return next;
}

/** The database URL auth uses: the chosen binding, GATEHOUSE_DATABASE_URL, or the embedded store. */
export function storeUrlFor(scope: Scope, state: StoredState, masterKey: Buffer, env: NodeJS.ProcessEnv): string {
  if (state.auth.db) {
    const binding = state.bindings[state.auth.db];
    if (!binding) throw new Error(`auth uses database binding "${state.auth.db}", which does not exist`);
    return isSealed(binding.url) ? unseal(binding.url, masterKey) : binding.url;
  }
  if (env.GATEHOUSE_DATABASE_URL) return env.GATEHOUSE_DATABASE_URL;
  return `sqlite:${embeddedDbFile(scope)}`;
}

/** The SMTP binding — GATEHOUSE_SMTP_URL, else a bound one — as `{ url, from }` with the password unsealed. */
export function smtpBindingOf(state: StoredState, masterKey: Buffer, env: NodeJS.ProcessEnv = {}): { url: string; from: string } | null {
  if (env.GATEHOUSE_SMTP_URL) return { url: env.GATEHOUSE_SMTP_URL, from: env.GATEHOUSE_SMTP_FROM ?? `no-reply@${new URL(env.GATEHOUSE_SMTP_URL).hostname}` };
  for (const [name, b] of Object.entries(state.bindings)) {
    if (b.kind !== 'smtp') continue;
    const url = isSealed(b.url) ? unseal(b.url, masterKey) : b.url;
    return { url, from: b.from ?? `Gatehouse <no-reply@${name === 'smtp' ? 'localhost' : name}>` };
  }
  return null;
}

/**
 * Opens (does not migrate) the store auth uses. GATEHOUSE_TABLE_PREFIX (default `gatehouse_`) lets two
 * apps share one database without seeing each other's users; GATEHOUSE_DB_POOL bounds the pool.
 */
export async function openConfiguredStore(scope: Scope, state: StoredState, masterKey: Buffer, env: NodeJS.ProcessEnv): Promise<Store> {
  return openStore(storeUrlFor(scope, state, masterKey, env), {
    prefix: env.GATEHOUSE_TABLE_PREFIX || undefined,
    poolSize: env.GATEHOUSE_DB_POOL ? Number(env.GATEHOUSE_DB_POOL) : undefined,
  });
}
