// `gatehouse access …`: ordered access rules in the state file (architecture.md#access). Running servers pick a change
// up within a second, like every other state-file change.
import { normalizeEmail } from '../accounts/email.js';
import {
  describeRule,
  parseRules,
  parseWho,
  storedRule,
  type AccessDefault,
  type AccessRule,
} from '../access/rules.js';
import { explain, subjectOfUser } from '../access/explain.js';
import { rulesInForce as policyRules } from '../access/policy.js';
import type { AuthMode } from '../config/choices.js';
import { effectiveMode, rulesFrom, splitList } from '../config/settings.js';
import { authIsOn, emptyState, readState, updateState, type Scope, type StoredState } from '../config/state.js';
import {
  CommandError,
  parseCommand,
  scopeFrom,
  subcommandOf,
  type Subcommands,
  UsageError,
  withStore,
  type Io,
} from './common.js';

const ACCESS_ADD_USAGE =
  'gatehouse access add PATTERN (--public | --allow WHO[,WHO…]) [--methods GET,HEAD] [--mfa] [--at N]';

export const ACCESS_HELP = `${ACCESS_ADD_USAGE}
gatehouse access list [--json] · access remove N
gatehouse access default [allow|deny]   where no rule applies: any signed-in user (allow), or no one (deny)
gatehouse access test METHOD PATH --as EMAIL [--provider NAME]   which rule decides, and why
  PATTERN: /exact/path or /prefix/* (matches /prefix and everything below); first match wins.
  A path matches however an app could spell it (/%61dmin, /ADMIN, /admin/ are /admin); a public rule
  opens only the path as written. --methods: only those methods (GET covers HEAD); a method a rule
  leaves out goes on to the later rules, and is refused if none applies
  WHO: any, role:R, group:G, email:ADDRESS, domain:example.com, provider:NAME, scope:S`;

export async function accessCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseCommand(args, io, {
    help: ACCESS_HELP,
    words: 1,
    positionals: true,
    options: {
      public: { type: 'boolean' },
      allow: { type: 'string' },
      methods: { type: 'string' },
      mfa: { type: 'boolean' },
      at: { type: 'string' },
      json: { type: 'boolean' },
      as: { type: 'string' },
      provider: { type: 'string' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const {
    words: [sub = ''],
    values,
    positionals,
  } = parsed;
  const scope = scopeFrom(values, io.env);
  const run = subcommandOf(ACCESS_SUBCOMMANDS, 'access', sub, ACCESS_HELP);
  return run({ scope, values, positionals, io });
}

/** The flags `access` subcommands take beyond --server/--profile. */
interface AccessFlags {
  public?: boolean;
  allow?: string;
  methods?: string;
  mfa?: boolean;
  at?: string;
  json?: boolean;
  as?: string;
  provider?: string;
}

/** What one `access SUB …` gets: where it runs and what was typed. */
interface AccessContext {
  scope: Scope;
  values: AccessFlags;
  positionals: string[];
  io: Io;
}

const ACCESS_SUBCOMMANDS: Subcommands<AccessContext> = {
  list: ({ scope, values, io }) => list(readState(scope) ?? emptyState(), values.json ?? false, io),
  add: addRule,
  remove: removeRule,
  test: ({ scope, positionals, values, io }) => test(scope, positionals, values.as, values.provider, io),
  default: setDefault,
};

/** `access default [allow|deny]`: prints it, or sets it. */
function setDefault({ scope, positionals, io }: AccessContext): number {
  const [value] = positionals;
  if (value === undefined) {
    io.out(`access default: ${fallbackOf(readState(scope) ?? emptyState(), io)}`);
    return 0;
  }
  if (value !== 'allow' && value !== 'deny') throw new UsageError('access default takes allow or deny');
  if (io.env.GATEHOUSE_ACCESS_DEFAULT)
    throw new CommandError('the access default comes from GATEHOUSE_ACCESS_DEFAULT here; change that variable instead');
  updateState(scope, (current) => {
    const state = current ?? emptyState();
    return { ...state, auth: { ...state.auth, accessDefault: value } };
  });
  const meaning =
    value === 'deny' ? 'only what a rule allows passes' : 'where no rule applies, any signed-in user passes';
  io.out(`✓ access default: ${value} — ${meaning} (running servers apply it within a second)`);
  return 0;
}

const fallbackOf = (state: StoredState, io: Io): AccessDefault =>
  (io.env.GATEHOUSE_ACCESS_DEFAULT as AccessDefault | undefined) || state.auth.accessDefault || 'allow';

/** `access add`: the rule goes in at --at N, or last. */
function addRule({ scope, values, positionals, io }: AccessContext): number {
  refuseWhenFromEnv(io);
  const rule = ruleFromFlags(positionals[0], values);
  const at = values.at === undefined ? null : Number(values.at);
  const next = updateState(scope, (current) => {
    const state = current ?? emptyState();
    const rules = [...(state.access ?? [])];
    if (at !== null && !(Number.isInteger(at) && at >= 1 && at <= rules.length + 1))
      throw new UsageError(`--at must be a position from 1 to ${rules.length + 1}`);
    rules.splice(at === null ? rules.length : at - 1, 0, storedRule(rule));
    return { ...state, access: rules };
  });
  const n = at ?? (next.access ?? []).length;
  io.out(`✓ rule ${n}: ${describeRule(rule)} (running servers apply it within a second)`);
  return 0;
}

/** `access remove N`: N as `access list` numbers the rules. */
function removeRule({ scope, positionals, io }: AccessContext): number {
  refuseWhenFromEnv(io);
  const n = Number(positionals[0]);
  let removed: AccessRule | null = null;
  updateState(scope, (current) => {
    const state = current ?? emptyState();
    const rules = [...(state.access ?? [])];
    if (!Number.isInteger(n) || n < 1 || n > rules.length)
      throw new UsageError(
        `access remove needs a rule number from 1 to ${rules.length} (see \`gatehouse access list\`)`,
      );
    removed = parseRules([rules[n - 1]], 'access').rules[0]!;
    rules.splice(n - 1, 1);
    return { ...state, access: rules };
  });
  io.out(`✓ removed rule ${n}: ${describeRule(removed!)}`);
  return 0;
}

/** Rules from GATEHOUSE_ACCESS replace the state file's: changing the file would change nothing. */
function refuseWhenFromEnv(io: Io) {
  if (io.env.GATEHOUSE_ACCESS)
    throw new CommandError('the rules come from GATEHOUSE_ACCESS here; change that variable instead');
}

function ruleFromFlags(
  pattern: string | undefined,
  values: { public?: boolean; allow?: string; methods?: string; mfa?: boolean },
): AccessRule {
  if (!pattern) throw new UsageError('access add needs a PATTERN such as /admin/* or /status');
  if (!values.public === !values.allow) throw new UsageError('access add needs either --public or --allow WHO[,WHO…]');
  const stored = {
    pattern,
    ...(values.public ? { public: true } : {}),
    ...(values.allow ? { allow: values.allow.split(',').map((w) => w.trim()) } : {}),
    ...(values.methods ? { methods: values.methods.split(',').map((m) => m.trim().toUpperCase()) } : {}),
    ...(values.mfa ? { mfa: true } : {}),
  };
  const { rules, problems } = parseRules([stored], 'access add');
  if (problems.length) throw new UsageError(problems.join('; ').replace(/^access add rule 1: /, 'access add: '));
  return rules[0]!;
}

/** What a running server applies, in the gate's own order (access/policy.ts). */
function rulesInForce(state: StoredState, io: Io): readonly AccessRule[] {
  const env = io.env;
  const mode = effectiveMode(
    !authIsOn(state) ? 'off' : (env.GATEHOUSE_AUTH_MODE as AuthMode | undefined) || state.auth.mode,
  );
  return policyRules({
    mode,
    publicPaths: env.GATEHOUSE_PUBLIC_PATHS ? splitList(env.GATEHOUSE_PUBLIC_PATHS) : state.auth.publicPaths,
    access: rulesFrom(env.GATEHOUSE_ACCESS, state.access),
    allowedDomains: env.GATEHOUSE_ALLOWED_DOMAINS
      ? splitList(env.GATEHOUSE_ALLOWED_DOMAINS)
      : state.auth.allowedDomains,
  });
}

function list(state: StoredState, json: boolean, io: Io): number {
  const rules = rulesInForce(state, io);
  if (json) {
    io.out(JSON.stringify(rules.map(storedRule), null, 2));
    return 0;
  }
  const fallback = fallbackOf(state, io);
  if (!rules.length && fallback === 'allow')
    io.out('no access rules: every signed-in user reaches every path (add one with `gatehouse access add`)');
  rules.forEach((r, i) => io.out(`${String(i + 1).padStart(3)}  ${describeRule(r)}`));
  io.out(`  where no rule applies: ${fallback === 'deny' ? 'deny (no one passes)' : 'allow (any signed-in user)'}`);
  if (io.env.GATEHOUSE_ACCESS) io.out('(from GATEHOUSE_ACCESS)');
  return 0;
}

async function test(
  scope: ReturnType<typeof scopeFrom>,
  positionals: string[],
  as: string | undefined,
  provider: string | undefined,
  io: Io,
): Promise<number> {
  const [method, path] = positionals;
  if (!method || !path)
    throw new UsageError('access test needs METHOD PATH, e.g. access test GET /admin/users --as ada@example.com');
  const state = readState(scope) ?? emptyState();
  const rules = rulesInForce(state, io);
  const subject = as
    ? await withStore(scope, io, async (store) => {
        const user = await store.findUserByEmail(normalizeEmail(as));
        if (!user) throw new CommandError(`there is no user ${normalizeEmail(as)}`);
        return subjectOfUser(user, provider);
      })
    : null;
  if (provider && typeof parseWho(`provider:${provider}`) === 'string')
    throw new UsageError(`--provider "${provider}" is not a provider name`);
  const { headline, reason, reading } = explain(rules, method, path, subject, fallbackOf(state, io));
  io.out(headline);
  if (reading) io.out(`  ${reading}`);
  io.out(`  ${reason}`);
  return 0;
}
