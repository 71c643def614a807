// `gatehouse auth providers add|list|remove`: social login configuration. Client secrets are sealed at
// rest and listed as <set>; a running server picks changes up within a second.
import { loadMasterKey, seal } from '../config/secrets.js';
import { emptyState, readState, updateState, type Scope } from '../config/state.js';
import { ENTRY_NAME, orList, PROVIDER_KINDS, RESERVED_PROVIDER_NAMES } from '../config/choices.js';
import { AUTH_PREFIX } from '../config/prefix.js';
import { isAllowedIssuer, PRESETS, type ProviderKind } from '../oidc/providers.js';
import { CommandError, parseCommand, scopeFrom, UsageError, type Io } from './common.js';
import { checkDiscovery } from './discovery.js';

const PROVIDERS_ADD_USAGE =
  'gatehouse auth providers add google|github|microsoft|apple|oidc --client-id ID --client-secret SECRET ' +
  '[--issuer URL] [--name NAME] [--scopes "…"]';

export const PROVIDERS_HELP = `${PROVIDERS_ADD_USAGE}
                    [--skip-check]   store it without first fetching the issuer's discovery document
gatehouse auth providers list [--json]
gatehouse auth providers remove NAME`;

const PROVIDER_OPTIONS = {
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  issuer: { type: 'string' },
  name: { type: 'string' },
  scopes: { type: 'string' },
  json: { type: 'boolean' },
  'skip-check': { type: 'boolean' },
} as const;

export async function providersCommand(args: string[], io: Io): Promise<number> {
  const shape = { help: PROVIDERS_HELP, words: 1, positionals: true, options: PROVIDER_OPTIONS };
  const parsed = parseCommand(args, io, shape);
  if (typeof parsed === 'number') return parsed;
  const {
    words: [sub],
    values,
    positionals,
  } = parsed;
  const scope = scopeFrom(values, io.env);
  const state = readState(scope) ?? emptyState();
  switch (sub) {
    case 'list': {
      const rows = state.providers.map((p) => ({
        name: p.name,
        kind: p.kind,
        clientId: p.clientId,
        clientSecret: p.clientSecret ? '<set>' : '<not set>',
        issuer: p.issuer ?? PRESETS[p.kind as ProviderKind]?.issuer ?? null,
        scopes: p.scopes ?? null,
      }));
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else if (!rows.length) io.out('no social login providers');
      else
        for (const r of rows) {
          const credentials = `client ${r.clientId}  secret ${r.clientSecret}`;
          io.out(`${String(r.name).padEnd(12)} ${String(r.kind).padEnd(10)} ${credentials}  ${r.issuer ?? ''}`);
        }
      return 0;
    }
    case 'remove': {
      const name = positionals[0];
      if (!name) throw new UsageError('providers remove needs a NAME');
      updateState(scope, (current) => {
        const next = current ?? emptyState();
        if (!next.providers.some((p) => p.name === name))
          throw new CommandError(`there is no provider named "${name}"`);
        next.providers = next.providers.filter((p) => p.name !== name);
        return next;
      });
      io.out(`✓ removed ${name}; its sign-in button disappears within a second`);
      return 0;
    }
    case 'add':
      return addProvider(scope, values, positionals[0], io);
    default:
      throw new UsageError(`unknown providers command "${sub}"\n${PROVIDERS_HELP}`);
  }
}

type ProviderValues = {
  'client-id'?: string;
  'client-secret'?: string;
  issuer?: string;
  name?: string;
  scopes?: string;
  'skip-check'?: boolean;
};

/** `auth providers add KIND …`: every problem of the options at once, then the discovery check, then the write. */
async function addProvider(
  scope: Scope,
  values: ProviderValues,
  kindText: string | undefined,
  io: Io,
): Promise<number> {
  const kind = kindText as ProviderKind | undefined;
  const problems: string[] = [];
  if (!kind || !PRESETS[kind]) problems.push(`the kind must be ${orList(PROVIDER_KINDS)}`);
  if (!values['client-id']) problems.push('--client-id is required');
  if (!values['client-secret']) problems.push('--client-secret is required');
  const issuer = values.issuer ?? (kind ? PRESETS[kind]?.issuer : null) ?? null;
  if (kind && !issuer)
    problems.push(
      kind === 'microsoft'
        ? '--issuer is required for microsoft (https://login.microsoftonline.com/<tenant-id>/v2.0)'
        : '--issuer is required for oidc',
    );
  if (issuer && !isAllowedIssuer(issuer))
    problems.push(`issuer "${issuer}" must be https:// (http:// only for 127.0.0.1 or localhost)`);
  if (kind === 'oidc' && !values.name)
    problems.push('--name is required for oidc (it names the button and X-Forwarded-Provider)');
  const name = values.name ?? kind ?? '';
  if (name && !ENTRY_NAME.test(name)) problems.push('--name must be lower-case letters, digits, "-" or "_"');
  if (RESERVED_PROVIDER_NAMES.includes(name))
    problems.push(`--name "${name}" is how Gatehouse names its own sign-ins (X-Forwarded-Provider); choose another`);
  if (problems.length) throw new UsageError(problems.join('; '));
  if (!(await issuerAnswers(kind!, issuer, values['skip-check'] ?? false, io))) {
    throw new CommandError(`${name} was not added (\`--skip-check\` stores it anyway)`, 'auth providers add');
  }
  const entry = {
    name,
    kind: kind!,
    clientId: values['client-id']!,
    clientSecret: seal(values['client-secret']!, loadMasterKey(scope.home, io.env)),
    ...(values.issuer ? { issuer: values.issuer } : {}),
    ...(values.scopes ? { scopes: values.scopes } : {}),
  };
  updateState(scope, (current) => {
    const next = current ?? emptyState();
    next.providers = [...next.providers.filter((p) => p.name !== name), entry];
    return next;
  });
  const origin = io.env.GATEHOUSE_PUBLIC_URL?.replace(/\/$/, '') ?? 'https://<public-url>';
  io.out(
    `✓ ${name} added; register this redirect URI with the provider: ${origin}${AUTH_PREFIX}/oauth/${name}/callback`,
  );
  return 0;
}

/**
 * Fetches the issuer's discovery document (GitHub, OAuth 2.0 only, has none) and prints the verdict.
 * --skip-check is for an issuer this machine cannot reach but the server will.
 */
async function issuerAnswers(kind: ProviderKind, issuer: string | null, skip: boolean, io: Io): Promise<boolean> {
  if (!issuer || PRESETS[kind].oauthOnly) return true;
  if (skip) {
    io.out('– discovery: not checked (--skip-check)');
    return true;
  }
  const verdict = await checkDiscovery(issuer);
  if (verdict.ok) io.out(verdict.line);
  else io.err(verdict.line);
  return verdict.ok;
}
