// Turning auth on and off in the stored state; shared by `gatehouse auth …` and the first `serve`.
import { randomBytes } from 'node:crypto';
import { emptyState, embeddedDbFile, type Scope, type StoredState } from './state.js';
import { isSealed, seal, unseal } from './secrets.js';
import { databaseKindOf } from './database-url.js';

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

/**
 * Which store auth uses and why: the binding in auth.db, else GATEHOUSE_DATABASE_URL, else the embedded
 * store. `name` is what `--db` / `migrate-users` accept for it (a binding name, `embedded`, or
 * `GATEHOUSE_DATABASE_URL`); `url` carries the password, so it is never printed — `describeStore` is.
 */
export interface StoreChoice {
  source: 'binding' | 'env' | 'embedded';
  name: string;
  url: string;
}

export const ENV_STORE = 'GATEHOUSE_DATABASE_URL';

export function storeChoiceFor(
  scope: Scope,
  state: StoredState,
  masterKey: Buffer,
  env: NodeJS.ProcessEnv,
): StoreChoice {
  if (state.auth.db) {
    const binding = state.bindings[state.auth.db];
    if (!binding) throw new Error(`auth uses database binding "${state.auth.db}", which does not exist`);
    return {
      source: 'binding',
      name: state.auth.db,
      url: isSealed(binding.url) ? unseal(binding.url, masterKey) : binding.url,
    };
  }
  if (env.GATEHOUSE_DATABASE_URL) return { source: 'env', name: ENV_STORE, url: env.GATEHOUSE_DATABASE_URL };
  return embeddedChoice(scope);
}

export function embeddedChoice(scope: Scope): StoreChoice {
  return { source: 'embedded', name: 'embedded', url: `sqlite:${embeddedDbFile(scope)}` };
}

/** The database URL auth uses: the chosen binding, GATEHOUSE_DATABASE_URL, or the embedded store. */
export function storeUrlFor(scope: Scope, state: StoredState, masterKey: Buffer, env: NodeJS.ProcessEnv): string {
  return storeChoiceFor(scope, state, masterKey, env).url;
}

/** Kind and place of a database URL without user name or password: `postgres, 127.0.0.1:5432/test`. */
export function whereIs(url: string): string {
  const kind = databaseKindOf(url);
  if (!kind) return 'unsupported URL';
  if (kind === 'sqlite') return `sqlite, ${url.replace(/^(sqlite|file):(\/\/)?/i, '')}`;
  try {
    const u = new URL(url);
    return `${kind}, ${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return `${kind}, unparseable URL`;
  }
}

/** One phrase naming a store for people: never its password. */
export function describeStore(choice: StoreChoice): string {
  switch (choice.source) {
    case 'binding':
      return `binding "${choice.name}" (${whereIs(choice.url)})`;
    case 'env':
      return `${ENV_STORE} (${whereIs(choice.url)})`;
    case 'embedded':
      return `the embedded store (${whereIs(choice.url).replace(/^sqlite, /, '')})`;
  }
}

/** The SMTP binding — GATEHOUSE_SMTP_URL, else a bound one — as `{ url, from }` with the password unsealed. */
export function smtpBindingOf(
  state: StoredState,
  masterKey: Buffer,
  env: NodeJS.ProcessEnv = {},
): { url: string; from: string } | null {
  if (env.GATEHOUSE_SMTP_URL)
    return {
      url: env.GATEHOUSE_SMTP_URL,
      from: env.GATEHOUSE_SMTP_FROM ?? `no-reply@${new URL(env.GATEHOUSE_SMTP_URL).hostname}`,
    };
  for (const [name, b] of Object.entries(state.bindings)) {
    if (b.kind !== 'smtp') continue;
    const url = isSealed(b.url) ? unseal(b.url, masterKey) : b.url;
    return { url, from: b.from ?? `Gatehouse <no-reply@${name === 'smtp' ? 'localhost' : name}>` };
  }
  return null;
}
