// The remote CLI (architecture.md#devices): `gatehouse login --remote URL --token T` checks an
// administrator's token (without --token, one from the device grant, approved in the browser:
// remote-client.ts) against that server's admin API and keeps it (remote-credentials.ts);
// `gatehouse --remote URL users|keys|access …` then act on that server with the same output as the
// local commands (remote-commands.ts); `gatehouse logout --remote URL` revokes the token and forgets it.
import { CommandError, parseCommand, subcommandIn, UsageError, type Io } from './common.js';
import { api, CLI_CLIENT, deviceLogin, loginFor, oauthForm } from './remote-client.js';
import { credentialsFile, keepLogin, readRemotes, remoteOrigin, writeRemotes } from './remote-credentials.js';
import { REMOTE_SUBCOMMANDS } from './remote-commands.js';
import { KEYS_OPTIONS } from './keys.js';
import { USERS_OPTIONS } from './users.js';

export { remoteOrigin } from './remote-credentials.js';

// The backslash after the backtick starts the text on the next line (a template's line continuation).
export const REMOTE_HELP = `\
gatehouse login --remote URL                       sign in through the browser (device grant, RFC 8628)
gatehouse login --remote URL --token TOKEN        keep an admin's token for that server (checked first)
gatehouse logout --remote URL                     revoke that token and forget it
gatehouse --remote URL users list|show|disable|enable|set-role|groups …   the same commands, on that server
gatehouse --remote URL keys list|create|revoke … · gatehouse --remote URL access list [--json]`;

export async function loginCommand(args: string[], io: Io): Promise<number> {
  const line = parseCommand(args, io, {
    help: REMOTE_HELP,
    scoped: false,
    options: { remote: { type: 'string' }, token: { type: 'string' } },
  });
  if (typeof line === 'number') return line;
  const { values } = line;
  const url = remoteOrigin(values.remote);
  const given = values.token ?? io.env.GATEHOUSE_TOKEN;
  const { token, refreshToken } = given ? { token: given, refreshToken: undefined } : await deviceLogin(url, io);
  const me = await api({ url, token }, 'GET', '/me').catch(async (err: unknown) => {
    // A device token the admin API refuses (a member approved it) is not kept, nor left alive.
    if (!given) await oauthForm(url, 'revoke', { token, client_id: CLI_CLIENT }).catch(() => undefined);
    throw err;
  });
  keepLogin(io.env, { url, token, ...(refreshToken ? { refreshToken } : {}) });
  io.out(`✓ logged in to ${url} as ${me.email} (${me.role}); credentials in ${credentialsFile(io.env)}`);
  return 0;
}

export async function logoutCommand(args: string[], io: Io): Promise<number> {
  const line = parseCommand(args, io, { help: REMOTE_HELP, scoped: false, options: { remote: { type: 'string' } } });
  if (typeof line === 'number') return line;
  const { values } = line;
  const url = remoteOrigin(values.remote);
  const remotes = readRemotes(io.env);
  const remote = remotes.find((r) => r.url === url);
  if (!remote) throw new CommandError(`not logged in to ${url}`, 'logout');
  let revoked = true;
  // A device login's token ends its whole grant, refresh token included; an expired one is renewed first.
  await api(loginFor(io.env, remote), 'POST', '/token/revoke').catch((err: Error) => {
    revoked = false;
    io.err(`gatehouse logout: could not revoke the token (${err.message}); revoke it on the server`);
  });
  writeRemotes(
    io.env,
    remotes.filter((r) => r.url !== url),
  );
  io.out(`✓ logged out of ${url}${revoked ? '; the token is revoked' : ''}`);
  return 0;
}

// The options of the local `users` and `keys` commands: --remote runs the same commands on a server.
const REMOTE_OPTIONS = { ...USERS_OPTIONS, ...KEYS_OPTIONS };

/** `gatehouse --remote URL COMMAND …` */
export async function remoteCommand(url: string | undefined, argv: string[], io: Io): Promise<number> {
  const origin = remoteOrigin(url);
  const kept = readRemotes(io.env).find((r) => r.url === origin);
  if (!kept)
    throw new CommandError(
      `not logged in to ${origin}: run \`gatehouse login --remote ${origin} --token TOKEN\` first`,
    );
  const remote = loginFor(io.env, kept);
  const [command, sub, ...rest] = argv;
  const line = parseCommand(rest, io, { help: REMOTE_HELP, scoped: false, positionals: true, options: REMOTE_OPTIONS });
  if (typeof line === 'number') return line;
  const { values, positionals } = line;
  const run = subcommandIn(REMOTE_SUBCOMMANDS, `${command} ${sub}`);
  if (!run) throw new UsageError(`--remote does not run "${argv.join(' ').slice(0, 60)}"\n${REMOTE_HELP}`);
  return run({ remote, command, sub, values, positionals, io });
}
