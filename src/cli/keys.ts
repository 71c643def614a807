import { ROLE_NAME } from '../store/types.js';
import { normalizeEmail } from '../accounts/email.js';
import { createApiKeyService, keyRow, parseScopes } from '../session/api-keys.js';
import {
  CommandError,
  parseCommand,
  parseDuration,
  scopeFrom,
  subcommandOf,
  type Subcommands,
  UsageError,
  withStore,
  type Io,
} from './common.js';

export const KEYS_HELP =
  'gatehouse keys create --user EMAIL --name NAME [--role ROLE] [--expires 30d] [--scopes "reports:read …"]\n' +
  'gatehouse keys list [--user EMAIL] [--json]\n' +
  'gatehouse keys revoke ID';

export interface KeyListRow {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  revoked: boolean;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** One key in `keys list`, locally and with --remote alike. */
export const keyLine = (r: KeyListRow) => {
  const scopes = r.scopes.length ? `  [${r.scopes.join(' ')}]` : '';
  const state = r.revoked ? 'revoked' : r.expiresAt ? `expires ${r.expiresAt}` : 'active';
  return `${r.id}  ${r.name}  ${r.role}${scopes}  ${state}  last used ${r.lastUsedAt ?? 'never'}`;
};

export const KEYS_OPTIONS = {
  user: { type: 'string' },
  name: { type: 'string' },
  role: { type: 'string' },
  expires: { type: 'string' },
  scopes: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function keysCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, { help: KEYS_HELP, words: 1, positionals: true, options: KEYS_OPTIONS });
  if (typeof parsed === 'number') return parsed;
  const {
    words: [sub = ''],
    values,
    positionals,
  } = parsed;
  const run = subcommandOf(KEYS_SUBCOMMANDS, 'keys', sub, KEYS_HELP);
  return run({ scope: scopeFrom(values, io.env), values, positionals, io });
}

/** What each `keys` subcommand gets from the command line. */
interface KeysContext {
  scope: ReturnType<typeof scopeFrom>;
  values: { user?: string; name?: string; role?: string; expires?: string; scopes?: string; json?: boolean };
  positionals: string[];
  io: Io;
}

const KEYS_SUBCOMMANDS: Subcommands<KeysContext> = {
  create: createKey,
  list: listKeys,
  revoke: revokeKey,
};

/** Checks every flag before the store is opened: a typo costs no connection. */
function createKey({ scope, values, io }: KeysContext): Promise<number> {
  if (!values.user || !values.name) throw new UsageError('keys create needs --user EMAIL and --name NAME');
  const role = values.role ?? 'member';
  if (!ROLE_NAME.test(role)) throw new UsageError('--role must be a role name such as member, admin or operator');
  const ttl = values.expires ? parseDuration(values.expires) : null;
  if (values.expires && ttl === null) throw new UsageError('--expires must be a duration such as 30d or 12h');
  const scopes = parseScopes(values.scopes ?? '');
  if (typeof scopes === 'string') throw new UsageError(`--scopes: ${scopes}`);
  return withStore(scope, io, async (store) => {
    const user = await store.findUserByEmail(normalizeEmail(values.user!));
    if (!user) throw new CommandError(`there is no user ${values.user}`);
    const expiresAt = ttl ? new Date(Date.now() + ttl) : null;
    const { key, token } = await createApiKeyService(store).issue(user, values.name!, role, expiresAt, scopes);
    const scoped = key.scopes?.length ? `, scopes ${key.scopes.join(' ')}` : '';
    const expiry = key.expiresAt ? `, expires ${key.expiresAt.toISOString()}` : '';
    io.out(`✓ key ${key.id} for ${user.email} (${key.role}${scoped}${expiry})`);
    io.out(token);
    io.err('Store it now: it is shown only once. Send it as `Authorization: Bearer <key>`.');
    return 0;
  });
}

function listKeys({ scope, values, io }: KeysContext): Promise<number> {
  return withStore(scope, io, async (store) => {
    const user = values.user ? await store.findUserByEmail(normalizeEmail(values.user)) : null;
    if (values.user && !user) throw new CommandError(`there is no user ${values.user}`);
    const keys = await store.listApiKeys(user?.id);
    const rows = keys.map(keyRow);
    if (values.json) io.out(JSON.stringify(rows, null, 2));
    else if (!rows.length) io.out('no API keys');
    else for (const r of rows) io.out(keyLine(r));
    return 0;
  });
}

function revokeKey({ scope, positionals, io }: KeysContext): Promise<number> {
  const id = positionals[0];
  if (!id) throw new UsageError('keys revoke needs the key ID (see `gatehouse keys list`)');
  return withStore(scope, io, async (store) => {
    if (!(await store.revokeApiKey(id))) throw new CommandError(`there is no active key ${id}`);
    io.out(`✓ key ${id} revoked; running servers stop accepting it within 2 seconds`);
    return 0;
  });
}
