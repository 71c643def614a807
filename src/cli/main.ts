// `gatehouse` entry: one sentence per error, exit 0 success, 1 failure, 2 usage error.
import { AUTH_HELP, authCommand } from './auth.js';
import { CommandError, UsageError, type Io } from './common.js';
import { SERVE_HELP, serveCommand } from './serve.js';
import { KEYS_HELP, keysCommand } from './keys.js';
import { BIND_HELP, bindCommand } from './bind.js';
import { USERS_HELP, usersCommand } from './users.js';
import { MIGRATE_HELP, migrateCommand } from './migrate.js';

const HELP = `gatehouse — a login layer in front of your web app

${SERVE_HELP}

${BIND_HELP}

${AUTH_HELP}

${KEYS_HELP}

${USERS_HELP}

${MIGRATE_HELP}

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
      case 'bind':
      case 'unbind':
      case 'bindings':
        return await bindCommand(command, rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}" (try \`gatehouse --help\`)`);
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`gatehouse: ${e.message}`);
      return 2;
    }
    io.err(`gatehouse: ${err instanceof CommandError ? e.message : e.message || String(err)}`);
    return 1;
  }
}
