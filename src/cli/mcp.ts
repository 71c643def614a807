// `gatehouse mcp …`: MCP resources (architecture.md#oauth) in the state file. PATH and everything below it take
// OAuth 2.1 bearer tokens issued by Gatehouse; running servers pick a change up within a second.
import { emptyState, readState, updateState } from '../config/state.js';
import { parseResources, resourcesFrom, storedResource, type McpResource } from '../oauth/resources.js';
import {
  CommandError,
  parseCommand,
  scopeFrom,
  subcommandOf,
  type Subcommands,
  UsageError,
  type Io,
} from './common.js';

export const MCP_HELP =
  'gatehouse mcp add PATH [--name NAME] [--scopes "a b"]   ' +
  'PATH and below become an OAuth 2.1 protected resource\n' +
  'gatehouse mcp list [--json] · mcp remove PATH';

export async function mcpCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, {
    help: MCP_HELP,
    words: 1,
    positionals: true,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (typeof parsed === 'number') return parsed;
  const {
    words: [sub = ''],
    values,
    positionals,
  } = parsed;
  const run = subcommandOf(MCP_SUBCOMMANDS, 'mcp', sub, MCP_HELP);
  return run({ scope: scopeFrom(values, io.env), values, path: positionals[0], io });
}

/** What each `mcp` subcommand gets from the command line. */
interface McpContext {
  scope: ReturnType<typeof scopeFrom>;
  values: { name?: string; scopes?: string; json?: boolean };
  path: string | undefined;
  io: Io;
}

const MCP_SUBCOMMANDS: Subcommands<McpContext> = {
  list: listResources,
  add: addResource,
  remove: removeResource,
};

function listResources({ scope, values, io }: McpContext): number {
  const resources = resourcesFrom(io.env.GATEHOUSE_MCP, (readState(scope) ?? emptyState()).mcp);
  if (values.json) io.out(JSON.stringify(resources.map(storedResource), null, 2));
  else if (!resources.length) io.out('no MCP resources (add one with `gatehouse mcp add /mcp`)');
  else for (const r of resources) io.out(describe(r));
  if (!values.json && io.env.GATEHOUSE_MCP) io.out('(from GATEHOUSE_MCP)');
  return 0;
}

function addResource({ scope, values, path, io }: McpContext): number {
  refuseWhenFromEnv(io);
  if (!path) throw new UsageError('mcp add needs a PATH such as /mcp');
  const entry = {
    path,
    ...(values.name ? { name: values.name } : {}),
    ...(values.scopes ? { scopes: values.scopes.split(/\s+/).filter(Boolean) } : {}),
  };
  let added: McpResource | null = null;
  updateState(scope, (current) => {
    const state = current ?? emptyState();
    const kept = (state.mcp ?? []).filter((r) => r.path !== path); // add again = replace
    const { resources, problems } = parseResources([...kept, entry], 'mcp add');
    if (problems.length) throw new UsageError(problems.join('; ').replace(/mcp add entry \d+: /g, ''), 'mcp add');
    added = resources.at(-1)!;
    return { ...state, mcp: resources.map(storedResource) };
  });
  io.out(`✓ ${describe(added!)} (running servers apply it within a second)`);
  return 0;
}

function removeResource({ scope, path, io }: McpContext): number {
  refuseWhenFromEnv(io);
  if (!path) throw new UsageError('mcp remove needs the PATH (see `gatehouse mcp list`)');
  updateState(scope, (current) => {
    const state = current ?? emptyState();
    const left = (state.mcp ?? []).filter((r) => r.path !== path);
    if (left.length === (state.mcp ?? []).length)
      throw new CommandError(`there is no MCP resource at ${path}`, 'mcp remove');
    return { ...state, mcp: left };
  });
  io.out(`✓ removed ${path}: it is an ordinary path of the app again`);
  return 0;
}

function refuseWhenFromEnv(io: Io) {
  if (io.env.GATEHOUSE_MCP)
    throw new CommandError('the MCP resources come from GATEHOUSE_MCP here; change that variable instead');
}

function describe(r: McpResource): string {
  const name = r.name !== r.path ? ` "${r.name}"` : '';
  return `${r.path}${name}${r.scopes.length ? ` scopes: ${r.scopes.join(' ')}` : ''}`;
}
