// Bindings: the databases and the SMTP server this server/profile may use. URLs are stored sealed
// (they usually carry a password) and listed without their password.
import { loadMasterKey, seal, unseal, isSealed } from '../config/secrets.js';
import {
  emptyState,
  ENTRY_NAME,
  readState,
  updateState,
  type BindingKind,
  type Scope,
  type StoredState,
} from '../config/state.js';
import { redactUrl } from '../store/fitness.js';
import { CommandError, parseCommand, scopeFrom, UsageError, type Io } from './common.js';

export const BIND_HELP = `gatehouse bind postgres|mysql|mongodb URL [--name NAME]   a database binding
gatehouse bind smtp URL [--from ADDRESS]                  smtp://user:pass@host:587
gatehouse unbind NAME
gatehouse bindings [--json]`;

const SCHEMES: Record<BindingKind, string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:', 'mariadb:'],
  mongodb: ['mongodb:', 'mongodb+srv:'],
  smtp: ['smtp:', 'smtps:'],
};

/** What a person would type, shown when the URL they typed is not one. */
const EXAMPLES: Record<BindingKind, string> = {
  postgres: 'postgres://user:password@host:5432/db',
  mysql: 'mysql://user:password@host:3306/db',
  mongodb: 'mongodb://user:password@host:27017/db',
  smtp: 'smtp://user:password@host:587',
};

export async function bindCommand(command: 'bind' | 'unbind' | 'bindings', args: string[], io: Io): Promise<number> {
  const line = parseCommand(args, io, {
    help: BIND_HELP,
    positionals: true,
    options: { name: { type: 'string' }, from: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (typeof line === 'number') return line;
  const { values, positionals } = line;
  const scope = scopeFrom(values, io.env);
  const masterKey = loadMasterKey(scope.home, io.env);
  const state = readState(scope) ?? emptyState();

  if (command === 'bindings') return listBindings(state, masterKey, values.json ?? false, io);
  if (command === 'unbind') return unbind(scope, positionals[0], io);

  const [kindText, url] = positionals;
  const kind = checkKind(kindText);
  if (!url || positionals.length > 2) throw new UsageError(`usage:\n${BIND_HELP}`);
  const parsed = checkUrl(kind, url);
  if (kind !== 'smtp' && values.from) throw new UsageError('--from is only for smtp bindings');
  if (kind === 'smtp' && values.from && !/^[^\s@]+@[^\s@]+$|<[^\s@]+@[^\s@]+>$/.test(values.from))
    throw new UsageError('--from must be an email address, e.g. "App <no-reply@example.com>"');
  const name = values.name ?? kind;
  if (!ENTRY_NAME.test(name.toLowerCase())) throw new UsageError('--name must be letters, digits, "-" or "_"');
  const binding = {
    kind,
    url: seal(url, masterKey),
    ...(kind === 'smtp' ? { from: values.from ?? `no-reply@${parsed.hostname}` } : {}),
  };
  const next = updateState(scope, (current) => {
    const s = current ?? emptyState();
    const existing = s.bindings[name];
    if (existing && existing.kind !== kind)
      throw new CommandError(`"${name}" is already a ${existing.kind} binding; choose another --name`);
    s.bindings[name] = binding;
    return s;
  });
  io.out(`✓ bound ${name} → ${redactUrl(url).replace('****', '<set>')}`);
  if (kind === 'smtp') io.out('  password reset and email verification are now available');
  else if (next.auth.db !== name) io.out(`  use it for users with \`gatehouse auth enable --db ${name}\``);
  return 0;
}

function listBindings(state: StoredState, masterKey: Buffer, json: boolean, io: Io): number {
  const rows = Object.entries(state.bindings).map(([name, b]) => ({
    name,
    kind: b.kind,
    url: redactUrl(isSealed(b.url) ? unseal(b.url, masterKey) : b.url).replace('****', '<set>'),
    ...(b.from ? { from: b.from } : {}),
    usedByAuth: state.auth.db === name,
  }));
  if (json) io.out(JSON.stringify(rows, null, 2));
  else if (!rows.length) io.out('no bindings (auth uses the embedded store)');
  else
    for (const r of rows) {
      const notes = `${r.from ? `  from ${r.from}` : ''}${r.usedByAuth ? '  ← auth' : ''}`;
      io.out(`${r.name.padEnd(12)} ${r.kind.padEnd(9)} ${r.url}${notes}`);
    }
  return 0;
}

function unbind(scope: Scope, name: string | undefined, io: Io): number {
  if (!name) throw new UsageError('unbind needs the binding name (see `gatehouse bindings`)');
  updateState(scope, (current) => {
    const next = current ?? emptyState();
    if (!next.bindings[name]) throw new CommandError(`there is no binding named "${name}"`);
    if (next.auth.db === name && next.auth.enabled) {
      throw new CommandError(
        `auth keeps its users in "${name}": run \`gatehouse auth enable\` with another database first, ` +
          'or `gatehouse auth disable`',
      );
    }
    delete next.bindings[name];
    if (next.auth.db === name) next.auth.db = null;
    return next;
  });
  io.out(`✓ unbound ${name}`);
  return 0;
}

function checkKind(kindText: string | undefined): BindingKind {
  if (!kindText) throw new UsageError(`usage:\n${BIND_HELP}`);
  if (Object.hasOwn(SCHEMES, kindText)) return kindText as BindingKind;
  // `gatehouse bind postgres://…` (kind forgotten) lands here with a URL, maybe a password, in hand.
  const urlFirst = kindText.includes('://') ? ' (the kind comes first: `gatehouse bind postgres URL`)' : '';
  throw new UsageError(
    `unknown kind "${maskPassword(kindText)}"; supported: ${Object.keys(SCHEMES).join(', ')}${urlFirst}`,
    'bind',
  );
}

/** The URL must parse and use one of the kind's schemes; the complaint quotes it as typed. */
function checkUrl(kind: BindingKind, url: string): URL {
  const schemes = SCHEMES[kind];
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below, the same way as a wrong scheme: either way it is not a URL of this kind
  }
  if (parsed && schemes.includes(parsed.protocol)) return parsed;
  const others = schemes.slice(1).map((s) => `${s}//`);
  const alsoWorks = others.length ? `; ${others.join(', ')} works too` : '';
  throw new UsageError(
    `"${maskPassword(url)}" is not a ${schemes[0]}// URL (e.g. ${EXAMPLES[kind]}${alsoWorks})`,
    `bind ${kind}`,
  );
}

/**
 * `text` exactly as typed, except a password in it reads `***`: an error message is echoed to
 * terminals, CI logs and issue reports, so it must never carry the secret.
 *
 * The password runs from the first ":" after "scheme://" to the "@" that ends the user info. For a
 * URL that parses, that "@" is the last one before the host's end (the WHATWG parser's rule); for
 * one that does not, the last "@" anywhere — masking too much beats leaking a password with an
 * unescaped "/" or "@" in it.
 */
export function maskPassword(text: string): string {
  const scheme = text.indexOf('://');
  const from = scheme >= 0 ? scheme + 3 : 0;
  let end = text.length;
  try {
    new URL(text);
    const hostEnd = text.slice(from).search(/[/?#]/);
    if (hostEnd >= 0) end = from + hostEnd;
  } catch {
    // unparseable: keep the whole rest as the search range
  }
  const at = text.lastIndexOf('@', end - 1);
  const colon = text.indexOf(':', from);
  if (at < from || colon < 0 || colon > at) return text;
  return `${text.slice(0, colon + 1)}***${text.slice(at)}`;
}
