import { ROLE_NAME } from '../store/types.js';
import { normalizeEmail } from '../accounts/email.js';
import { createApiKeyService, parseScopes } from '../session/api-keys.js';
import { CommandError, parseCommand, parseDuration, scopeFrom, UsageError, withStore, type Io } from './common.js';

export const KEYS_HELP = `gatehouse keys create --user EMAIL --name NAME [--role ROLE] [--expires 30d] [--scopes "reports:read …"]
gatehouse keys list [--user EMAIL] [--json]
gatehouse keys revoke ID`;

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
export const keyLine = (r: KeyListRow) =>
  `${r.id}  ${r.name}  ${r.role}${r.scopes.length ? `  [${r.scopes.join(' ')}]` : ''}  ${r.revoked ? 'revoked' : r.expiresAt ? `expires ${r.expiresAt}` : 'active'}  last used ${r.lastUsedAt ?? 'never'}`;

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
    words: [sub],
    values,
    positionals,
  } = parsed;
  const scope = scopeFrom(values, io.env);
  switch (sub) {
    case 'create': {
      if (!values.user || !values.name) throw new UsageError('keys create needs --user EMAIL and --name NAME');
      const role = values.role ?? 'member';
      if (!ROLE_NAME.test(role)) throw new UsageError('--role must be a role name such as member, admin or operator');
      const ttl = values.expires ? parseDuration(values.expires) : null;
      if (values.expires && ttl === null) throw new UsageError('--expires must be a duration such as 30d or 12h');
      const scopes = parseScopes(values.scopes ?? '');
      if (typeof scopes === 'string') throw new UsageError(`--scopes: ${scopes}`);
      return withStore(scope, io, async (store) => {
        const user = await store.findUserByEmail(normalizeEmail(values.user));
        if (!user) throw new CommandError(`there is no user ${values.user}`);
        const { key, token } = await createApiKeyService(store).issue(
          user,
          values.name!,
          role,
          ttl ? new Date(Date.now() + ttl) : null,
          scopes,
        );
        const scoped = key.scopes?.length ? `, scopes ${key.scopes.join(' ')}` : '';
        io.out(
          `✓ key ${key.id} for ${user.email} (${key.role}${scoped}${key.expiresAt ? `, expires ${key.expiresAt.toISOString()}` : ''})`,
        );
        io.out(token);
        io.err('Store it now: it is shown only once. Send it as `Authorization: Bearer <key>`.');
        return 0;
      });
    }
    case 'list':
      return withStore(scope, io, async (store) => {
        const user = values.user ? await store.findUserByEmail(normalizeEmail(values.user)) : null;
        if (values.user && !user) throw new CommandError(`there is no user ${values.user}`);
        const keys = await store.listApiKeys(user?.id);
        const rows = keys.map((k) => ({
          id: k.id,
          name: k.name,
          userId: k.userId,
          role: k.role,
          scopes: k.scopes ?? [],
          revoked: k.revoked,
          expiresAt: k.expiresAt?.toISOString() ?? null,
          lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
        }));
        if (values.json) io.out(JSON.stringify(rows, null, 2));
        else if (!rows.length) io.out('no API keys');
        else for (const r of rows) io.out(keyLine(r));
        return 0;
      });
    case 'revoke': {
      const id = positionals[0];
      if (!id) throw new UsageError('keys revoke needs the key ID (see `gatehouse keys list`)');
      return withStore(scope, io, async (store) => {
        if (!(await store.revokeApiKey(id))) throw new CommandError(`there is no active key ${id}`);
        io.out(`✓ key ${id} revoked; running servers stop accepting it within 2 seconds`);
        return 0;
      });
    }
    default:
      throw new UsageError(`unknown keys command "${sub}"\n${KEYS_HELP}`);
  }
}
