// Shared by every command: where state lives, the usage-error type, durations (from config/duration.ts).
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkScope, emptyState, readState, type Scope, type StoredState } from '../config/state.js';
import { loadMasterKey } from '../config/secrets.js';
import { describeStore, ENV_STORE, storeChoiceFor } from '../config/auth-state.js';
import { openStoreFor } from '../store/open.js';
import type { Store } from '../store/types.js';

export { parseDuration } from '../config/duration.js';

/**
 * A mistake in how the command was typed (exit 2). `command` ("bind", "bind postgres") names where
 * it happened, printed as "gatehouse bind: …"; without it the line reads "gatehouse: …".
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
/** The command was understood but could not be done (exit 1). */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

export function scopeFrom(values: { server?: string; profile?: string }, env: NodeJS.ProcessEnv): Scope {
  const scope = {
    home: resolve(env.GATEHOUSE_HOME || '.gatehouse'),
    server: values.server ?? env.GATEHOUSE_SERVER ?? 'local',
    profile: values.profile ?? env.GATEHOUSE_PROFILE ?? 'main',
  };
  const problems = checkScope(scope);
  if (problems.length) throw new UsageError(problems.join('; '));
  return scope;
}

/** A command's subcommands by name; each gets what the command parsed (C) and returns the exit code. */
export type Subcommands<C> = Readonly<Record<string, (c: C) => number | Promise<number>>>;

/**
 * The handler a subcommand table has for `sub`, or undefined: an own key only, so a word such as
 * "toString" is an unknown subcommand like any other, not a method of every object.
 */
export function subcommandIn<C>(table: Subcommands<C>, sub: string): Subcommands<C>[string] | undefined {
  return Object.hasOwn(table, sub) ? table[sub] : undefined;
}

/** The subcommand `sub` of `command`, or the one usage error every command gives for an unknown one. */
export function subcommandOf<C>(
  table: Subcommands<C>,
  command: string,
  sub: string,
  help: string,
): Subcommands<C>[string] {
  const run = subcommandIn(table, sub);
  if (!run) throw new UsageError(`unknown ${command} command "${sub}"\n${help}`);
  return run;
}

export const SCOPE_OPTIONS = {
  server: { type: 'string' },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** How a command is typed: `gatehouse NAME WORD… [--option …] [POSITIONAL…]`. */
export interface CommandShape<O extends OptionsConfig> {
  /** Printed for --help (exit 0) and when a required leading word is missing (exit 2). */
  help: string;
  /** Options beyond --help (and --server/--profile unless `scoped` is false). */
  options: O;
  /** Leading words (a subcommand, "clients list") the command needs before its options; default 0. */
  words?: number;
  /** Whether positionals may follow, or the subcommands (first word) that take them; default none. */
  positionals?: boolean | readonly string[];
  /** Whether --server and --profile are taken; default true (the remote commands name a URL instead). */
  scoped?: boolean;
}

type WithScope<O extends OptionsConfig> = O & typeof SCOPE_OPTIONS;
type ValuesOf<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; allowPositionals: true; options: WithScope<O> }>
>['values'];

/** A parsed command line: its leading words, its options, and the rest. */
export interface ParsedCommand<O extends OptionsConfig> {
  words: string[];
  values: ValuesOf<O>;
  positionals: string[];
}

/**
 * The one preamble of every command: parses `args` strictly (node:util's errors become one sentence in
 * main.ts), and answers `--help` — anywhere, a leading word too — with the help text and exit 0, and a
 * missing leading word with the help text and exit 2. Returns the exit code when it answered, else the
 * parsed line.
 */
export function parseCommand<const O extends OptionsConfig>(
  args: string[],
  io: Io,
  shape: CommandShape<O>,
): ParsedCommand<O> | number {
  const count = shape.words ?? 0;
  const words: string[] = [];
  while (words.length < count && args[words.length] !== undefined && !args[words.length]!.startsWith('-')) {
    words.push(args[words.length]!);
  }
  const takes = shape.positionals ?? false;
  const { values, positionals } = parseArgs({
    args: args.slice(words.length),
    strict: true,
    allowPositionals: typeof takes === 'boolean' ? takes : takes.includes(words[0] ?? ''),
    options: { ...(shape.scoped === false ? { help: SCOPE_OPTIONS.help } : SCOPE_OPTIONS), ...shape.options },
  });
  const help = (values as { help?: boolean }).help === true;
  if (help || words.length < count) {
    io.out(shape.help);
    return help ? 0 : 2;
  }
  return { words, values: values as ValuesOf<O>, positionals };
}

/** "gatehouse: users in …" when the store in use is not the only one this setup could mean; else null. */
function storeNotice(scope: Scope, state: StoredState, masterKey: Buffer, env: NodeJS.ProcessEnv): string | null {
  const bound = Object.values(state.bindings).some((b) => b.kind !== 'smtp');
  if (!bound && !env.GATEHOUSE_DATABASE_URL) return null;
  const choice = storeChoiceFor(scope, state, masterKey, env);
  const unused =
    choice.source === 'binding' && env.GATEHOUSE_DATABASE_URL
      ? `; ${ENV_STORE} is set but not used (auth uses the binding)`
      : '';
  return `gatehouse: users in ${describeStore(choice)}${unused}`;
}

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * Opens (and migrates) the store this server/profile uses, runs `fn`, and closes it. When more than one
 * store could be meant — GATEHOUSE_DATABASE_URL is set, or a database is bound — it first says on
 * stderr which one it opened: `users list` answering "no users yet" from the wrong store looks like
 * every account is gone.
 */
export async function withStore<T>(scope: Scope, io: Io, fn: (store: Store) => Promise<T>): Promise<T> {
  const env = io.env;
  const masterKey = loadMasterKey(scope.home, env);
  const state = readState(scope) ?? emptyState();
  const line = storeNotice(scope, state, masterKey, env);
  if (line) io.err(line);
  const store = await openStoreFor(scope, state, masterKey, env);
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}
