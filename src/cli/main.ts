// `gatehouse` entry: one sentence per error, exit 0 success, 1 failure, 2 usage error.
import { AUTH_HELP, authCommand } from './auth.js';
import { CommandError, UsageError, type Io } from './common.js';
import { SERVE_HELP, serveCommand } from './serve.js';
import { KEYS_HELP, keysCommand } from './keys.js';
import { BIND_HELP, bindCommand } from './bind.js';
import { USERS_HELP, usersCommand } from './users.js';
import { PROVIDERS_HELP } from './providers.js';
import { closestWord, explainParseError, isParseArgsError, optionsIn } from './parse-errors.js';
import { packageVersion } from './version.js';
import { MIGRATE_HELP, migrateCommand } from './migrate.js';
import { ACCESS_HELP, accessCommand } from './access.js';
import { PAIR_HELP, pairCommand } from './pair.js';
import { OPEN_HELP, openCommand } from './open.js';
import { loginCommand, logoutCommand, remoteCommand, REMOTE_HELP } from './remote.js';
import { MCP_HELP, mcpCommand } from './mcp.js';
import { OAUTH_HELP, oauthCommand } from './oauth.js';

const HELP = `gatehouse — a login layer in front of your web app

${SERVE_HELP}

${BIND_HELP}

${AUTH_HELP}

${KEYS_HELP}

${USERS_HELP}

${MIGRATE_HELP}

${ACCESS_HELP}

${PAIR_HELP}
${OPEN_HELP}

${REMOTE_HELP}


${MCP_HELP}

${OAUTH_HELP}

gatehouse --version

Settings are scoped per server (--server, GATEHOUSE_SERVER, default "local") and profile (--profile,
GATEHOUSE_PROFILE, default "main"); state lives in GATEHOUSE_HOME (default ./.gatehouse).`;

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest, io);
      case 'auth':
        return await authCommand(rest, io);
      case 'keys':
        return await keysCommand(rest, io);
      case 'users':
        return await usersCommand(rest, io);
      case 'migrate-users':
        return await migrateCommand(rest, io);
      case 'access':
        return await accessCommand(rest, io);
      case 'pair':
        return await pairCommand(rest, io);
      case 'open':
        return await openCommand(rest, io);
      case 'login':
        return await loginCommand(rest, io);
      case 'logout':
        return await logoutCommand(rest, io);
      case '--remote':
        return await remoteCommand(rest[0], rest.slice(1), io);
      case 'mcp':
        return await mcpCommand(rest, io);
      case 'oauth':
        return await oauthCommand(rest, io);
      case 'bind':
      case 'unbind':
      case 'bindings':
        return await bindCommand(command, rest, io);
      case 'version':
      case '--version':
      case '-v':
        io.out(packageVersion());
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? 2 : 0;
      default:
        if (command.startsWith('--remote=')) return await remoteCommand(command.slice('--remote='.length), rest, io);
        throw new UsageError(unknownCommand(command));
    }
  } catch (err) {
    return report(err, command ?? '', rest, io);
  }
}

/** Every error ends here: one line on stderr, exit 2 for how it was typed, 1 for what went wrong. */
function report(err: unknown, command: string, rest: string[], io: Io): number {
  if (isParseArgsError(err)) {
    const label = commandLabel(command, rest);
    io.err(`gatehouse ${label}: ${explainParseError(err, label, optionsIn(helpFor(command, rest)))}`);
    return 2;
  }
  const prefix = (where?: string) => (where ? `gatehouse ${where}: ` : 'gatehouse: ');
  if (err instanceof UsageError) {
    io.err(prefix(err.command) + err.message);
    return 2;
  }
  if (err instanceof CommandError) {
    io.err(prefix(err.command) + err.message);
    return 1;
  }
  // Anything else is unexpected, but still a sentence for the person at the terminal, not a stack.
  io.err(prefix() + ((err as Error | null)?.message || String(err)));
  return 1;
}

const COMMANDS = [
  'serve',
  'auth',
  'keys',
  'users',
  'bind',
  'unbind',
  'bindings',
  'help',
  'version',
  'pair',
  'open',
  'login',
  'logout',
];

/** `gatehouse serv` is a typo, not a question: guess the command the way options are guessed. */
function unknownCommand(command: string): string {
  const guess = command.startsWith('-') ? null : closestWord(command, COMMANDS);
  return `unknown command "${command}" (${guess ? `did you mean \`gatehouse ${guess}\`?` : 'try `gatehouse --help`'})`;
}

const WITH_SUBCOMMANDS = new Set(['auth', 'keys', 'users', 'access', 'mcp']);
const WORD = /^[a-z][a-z-]*$/;

/** "serve", "auth enable", "auth providers add": the words the person typed before the options. */
function commandLabel(command: string, rest: string[]): string {
  const words = [command];
  if (WITH_SUBCOMMANDS.has(command) && WORD.test(rest[0] ?? '')) words.push(rest[0]!);
  if (command === 'auth' && rest[0] === 'providers' && WORD.test(rest[1] ?? '')) words.push(rest[1]!);
  return words.join(' ');
}

/** The help text whose options the failing command accepts: the source of "did you mean" guesses. */
function helpFor(command: string, rest: string[]): string {
  switch (command) {
    case 'serve':
      return SERVE_HELP;
    case 'auth':
      // AUTH_HELP embeds the providers help, whose options `auth enable` and friends do not take.
      return rest[0] === 'providers' ? PROVIDERS_HELP : AUTH_HELP.replace(PROVIDERS_HELP, '');
    case 'keys':
      return KEYS_HELP;
    case 'users':
      return USERS_HELP;
    case 'access':
      return ACCESS_HELP;
    case 'pair':
      return PAIR_HELP;
    case 'open':
      return OPEN_HELP;
    case 'login':
    case 'logout':
    case '--remote':
      return REMOTE_HELP;
    case 'mcp':
      return MCP_HELP;
    case 'oauth':
      return OAUTH_HELP;
    case 'bind':
    case 'unbind':
    case 'bindings':
      return BIND_HELP;
    default:
      return '';
  }
}
