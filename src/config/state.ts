// Persistent state of one server/profile: `<GATEHOUSE_HOME>/<server>.<profile>.json`, written atomically
// with mode 0600 by the CLI and read (and watched) by `gatehouse serve`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';

export type AuthMode = 'on' | 'off' | 'hybrid';
export type SignUpPolicy = 'open' | 'invite' | 'domains';

export interface StoredState {
  version: 1;
  auth: {
    enabled: boolean;
    mode: AuthMode;
    secret: string | null; // sealed session / CSRF signing secret
    db: string | null; // binding name, or null for the embedded store
    signUp: SignUpPolicy;
    allowedDomains: string[];
    publicPaths: string[];
  };
  bindings: Record<string, { kind: string; url: string; from?: string }>; // url: sealed when it holds a password
  providers: Array<Record<string, unknown>>;
}

export function emptyState(): StoredState {
  return {
    version: 1,
    auth: { enabled: false, mode: 'on', secret: null, db: null, signUp: 'open', allowedDomains: [], publicPaths: [] },
    bindings: {},
    providers: [],
  };
}

export interface Scope {
  home: string;
  server: string;
  profile: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

export function checkScope(scope: Scope): string[] {
  const problems: string[] = [];
  if (!NAME.test(scope.server)) problems.push(`server name "${scope.server}" must be letters, digits, "-" or "_"`);
  if (!NAME.test(scope.profile)) problems.push(`profile name "${scope.profile}" must be letters, digits, "-" or "_"`);
  return problems;
}

export function stateFile(scope: Scope): string {
  return join(scope.home, `${scope.server}.${scope.profile}.json`);
}

export function embeddedDbFile(scope: Scope): string {
  return join(scope.home, `${scope.server}.${scope.profile}.sqlite`);
}

/** The stored state, or null when this server/profile was never set up. Throws on a corrupt file. */
export function readState(scope: Scope): StoredState | null {
  const file = stateFile(scope);
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON`, { cause: err });
  }
  const base = emptyState();
  const p = parsed as Partial<StoredState>;
  return { ...base, ...p, auth: { ...base.auth, ...(p.auth ?? {}) }, version: 1 };
}

export function writeState(scope: Scope, state: StoredState): void {
  writeFileAtomic(stateFile(scope), JSON.stringify(state, null, 2) + '\n');
}
