// `gatehouse oauth clients …` (architecture.md#oauth): the OAuth clients registered or cached here, who they act for,
// and revocation of a client for everyone (every token and consent; running servers refuse its
// tokens within 2 s).
import { connectedApps } from '../oauth/connected.js';
import { CommandError, parseCommand, scopeFrom, UsageError, withStore, type Io } from './common.js';

export const OAUTH_HELP = `gatehouse oauth clients list [--json]   MCP/OAuth clients, and the users they act for
gatehouse oauth clients revoke ID       ends every token and consent of that client`;

export async function oauthCommand(args: string[], io: Io): Promise<number> {
  const options = { json: { type: 'boolean' } } as const;
  const parsed = parseCommand(args, io, { help: OAUTH_HELP, words: 2, positionals: true, options });
  if (typeof parsed === 'number') return parsed;
  const {
    words: [group, sub],
    values,
    positionals,
  } = parsed;
  if (group !== 'clients') {
    io.out(OAUTH_HELP);
    return 2;
  }
  const scope = scopeFrom(values, io.env);
  switch (sub) {
    case 'list':
      return withStore(scope, io, async (store) => {
        const [clients, apps] = await Promise.all([store.listOAuthClients(), connectedApps(store)]);
        const rows = await Promise.all(
          clients.map(async (c) => {
            const users = await Promise.all(
              [...new Set(apps.filter((a) => a.clientId === c.id).map((a) => a.userId))].map(
                async (id) => (await store.findUserById(id))?.email ?? id,
              ),
            );
            return {
              id: c.id,
              kind: c.kind,
              name: c.name,
              redirectUris: c.redirectUris,
              createdAt: c.createdAt.toISOString(),
              lastUsedAt: c.lastUsedAt?.toISOString() ?? null,
              users,
            };
          }),
        );
        if (values.json) io.out(JSON.stringify(rows, null, 2));
        else if (!rows.length) io.out('no OAuth clients yet');
        else
          for (const r of rows) {
            const lastUsed = `last used ${r.lastUsedAt ?? 'never'}`;
            io.out(`${r.id}  "${r.name}" (${r.kind})  ${lastUsed}  users: ${r.users.join(', ') || 'none'}`);
          }
        return 0;
      });
    case 'revoke': {
      const id = positionals[0];
      if (!id) throw new UsageError('oauth clients revoke needs a client ID (see `gatehouse oauth clients list`)');
      return withStore(scope, io, async (store) => {
        if (!(await store.deleteOAuthClient(id)))
          throw new CommandError(`there is no OAuth client ${id}`, 'oauth clients revoke');
        io.out(`✓ revoked ${id}: its tokens stop working within 2 s on every running server`);
        return 0;
      });
    }
    default:
      throw new UsageError(`unknown oauth clients command "${sub}"\n${OAUTH_HELP}`);
  }
}
