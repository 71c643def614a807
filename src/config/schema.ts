// Every setting, declared once: its GATEHOUSE_* variable, its `gatehouse serve` option, default,
// one-line help, check and parser. KNOWN_ENV, the serve help, start-up validation and the typed serve
// settings are all derived from this list, so a new setting cannot be documented but unchecked, or
// checked but unknown. Problem messages are user-facing and tested word for word.
import { parseTrustedProxies } from '../security/client-ip.js';
import { parseLimits, type LimitRules } from '../security/rate-limit.js';
import { AUTH_MODES, isOneOf, MFA_POLICIES, orList, SIGN_UP_POLICIES } from './choices.js';
import { DATABASE_PROTOCOLS } from './database-url.js';
import { isDomainName } from './domains.js';
import { parseDuration } from './duration.js';
import { parseKey } from './secrets.js';
import { splitList } from './settings.js';
import { publicPathProblem, urlProblem } from './validate.js';

export interface Setting<T> {
  /** The environment variable; absent for options that only exist on the command line (--demo). */
  env?: `GATEHOUSE_${string}`;
  /** Older names still read when `env` is unset (AUTH_SECRET). */
  aliases?: readonly string[];
  /** The `gatehouse serve` option and the placeholder the help shows; no `arg`: an on/off switch. */
  flag?: { name: string; arg?: string };
  /** The text used when neither option nor variable is given. */
  default?: string;
  help: string;
  /** Problems with a given value (never called for an absent one). */
  check?(text: string): string[];
  /** The typed value; `undefined` when absent and without default. Only called once `check` passed. */
  parse(text: string | undefined): T;
}

const setting = <T>(s: Setting<T>): Setting<T> => s;
const text = (t: string | undefined) => t;
const optional = (t: string | undefined) => t ?? null;
const list = (t: string | undefined) => splitList(t ?? '');
/** Most variables treat an empty value as unset (`GATEHOUSE_DB_POOL=` in a compose file). */
const ifSet = (check: (t: string) => string[]) => (t: string) => (t === '' ? [] : check(t));
const problem = (ok: boolean, message: string) => (ok ? [] : [message]);
const eachOf = (check: (item: string) => string | null) => (t: string) =>
  splitList(t).flatMap((item) => check(item) ?? []);

const MIN_IDLE_MS = 5 * 60_000;
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;
const TABLE_PREFIX = /^[a-z0-9_]{0,32}$/;
const EMAIL_OR_NAMED = /^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/;

/** What `gatehouse serve` itself uses, typed (ServeSettings); in the order start-up reports problems. */
export const SERVE_SETTINGS = {
  upstream: setting({
    env: 'GATEHOUSE_UPSTREAM',
    flag: { name: 'upstream', arg: 'URL' },
    help: 'the app to forward to, http://host:port',
    check: (t) => problem(/^http:\/\/[^/?#]+\/?$/.test(t), `upstream "${t}" must look like http://host:port`),
    parse: optional,
  }),
  port: setting({
    env: 'GATEHOUSE_PORT',
    flag: { name: 'port', arg: '4180' },
    default: '4180',
    help: 'port to listen on (0: any free port)',
    check: (t) => problem(/^\d+$/.test(t) && Number(t) <= 65535, `port "${t}" must be a number from 0 to 65535`),
    parse: Number,
  }),
  host: setting({
    env: 'GATEHOUSE_HOST',
    flag: { name: 'host', arg: '127.0.0.1' },
    default: '127.0.0.1',
    help: 'address to listen on',
    parse: (t) => t ?? '127.0.0.1',
  }),
  publicUrl: setting({
    env: 'GATEHOUSE_PUBLIC_URL',
    flag: { name: 'public-url', arg: 'URL' },
    help: 'the URL people use (https://… turns on secure cookies)',
    check: ifSet((t) => problem(isWebUrl(t), `public URL "${t}" must be an http:// or https:// URL`)),
    parse: (t) => (t ? new URL(t) : null),
  }),
  demo: setting({
    flag: { name: 'demo' },
    help: 'serve a built-in demo app behind the login',
    parse: (t) => t === 'true',
  }),
  exec: setting({
    env: 'GATEHOUSE_EXEC',
    flag: { name: 'exec', arg: '"CMD"' },
    help: 'start the app as a child with PORT set to an internal port (one container); SIGTERM is forwarded',
    parse: optional,
  }),
  appName: setting({
    env: 'GATEHOUSE_APP_NAME',
    flag: { name: 'app-name', arg: 'NAME' },
    help: 'the name the sign-in page shows',
    parse: optional,
  }),
  trustedProxies: setting({
    env: 'GATEHOUSE_TRUSTED_PROXIES',
    flag: { name: 'trusted-proxies', arg: 'CIDR,…' },
    help: 'proxies whose X-Forwarded-For is believed',
    check: (t) => thrown(() => parseTrustedProxies(splitList(t))),
    parse: list,
  }),
  workers: setting({
    env: 'GATEHOUSE_WORKERS',
    flag: { name: 'workers', arg: 'N' },
    default: '1',
    help: 'processes sharing the port, for machines with more cores',
    check: (t) =>
      problem(/^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= 64, `workers "${t}" must be a number from 1 to 64`),
    parse: Number,
  }),
  sessionIdleMs: setting({
    env: 'GATEHOUSE_SESSION_IDLE',
    default: '7d',
    help: 'a session unused this long ends',
    check: (t) => {
      const ms = parseDuration(t);
      if (ms === null) return ['GATEHOUSE_SESSION_IDLE must be a duration such as 7d or 12h'];
      return problem(
        ms >= MIN_IDLE_MS,
        'GATEHOUSE_SESSION_IDLE must be at least 5m (a shorter idle limit signs people out while they read a page)',
      );
    },
    parse: (t) => parseDuration(t!)!,
  }),
  sessionAbsoluteMs: setting({
    env: 'GATEHOUSE_SESSION_ABSOLUTE',
    default: '30d',
    help: 'a session ends this long after sign-in, used or not',
    check: (t) => problem(parseDuration(t) !== null, 'GATEHOUSE_SESSION_ABSOLUTE must be a duration such as 30d'),
    parse: (t) => parseDuration(t!)!,
  }),
  allowedHosts: setting({
    env: 'GATEHOUSE_ALLOWED_HOSTS',
    help: "hosts besides the public URL's that are served (host or host:port, comma-separated)",
    check: eachOf((h) => (HOST.test(h) ? null : `GATEHOUSE_ALLOWED_HOSTS: "${h}" is not a host or host:port`)),
    parse: list,
  }),
  allowedOrigins: setting({
    env: 'GATEHOUSE_WS_ORIGINS',
    help: "origins besides the public URL's that may open WebSockets",
    check: eachOf((o) =>
      isOrigin(o) ? null : `GATEHOUSE_WS_ORIGINS: "${o}" is not an origin such as https://app.example.com`,
    ),
    parse: list,
  }),
  limits: setting<LimitRules>({
    env: 'GATEHOUSE_RATE_LIMITS',
    help: 'rate limits per client (or @account), e.g. sign-in=50/1m,forgot@account=3/1h',
    check: (t) => parseLimits(t).problems,
    parse: (t) => parseLimits(t).rules,
  }),
};

/** Settings read elsewhere: by the scope (cli/common.ts), the live settings, the store and the mailer. */
export const OTHER_SETTINGS = {
  home: setting({
    env: 'GATEHOUSE_HOME',
    default: '.gatehouse',
    help: 'where state and the master key live',
    parse: text,
  }),
  server: setting({
    env: 'GATEHOUSE_SERVER',
    flag: { name: 'server', arg: 'NAME' },
    default: 'local',
    help: 'which server this is (state is kept per server)',
    parse: text,
  }),
  profile: setting({
    env: 'GATEHOUSE_PROFILE',
    flag: { name: 'profile', arg: 'NAME' },
    default: 'main',
    help: 'which profile of the server (e.g. staging)',
    parse: text,
  }),
  authMode: setting({
    env: 'GATEHOUSE_AUTH_MODE',
    help: `overrides the stored mode: ${orList(AUTH_MODES)} (docs/access.md)`,
    check: (t) => problem(isOneOf(AUTH_MODES, t), `GATEHOUSE_AUTH_MODE must be ${orList(AUTH_MODES)}, not "${t}"`),
    parse: text,
  }),
  passphraseHash: setting({
    env: 'GATEHOUSE_PASSPHRASE_HASH',
    help: 'the shared passphrase of mode passphrase, as the argon2id hash `gatehouse auth passphrase hash` prints (containers)',
    check: ifSet((t) =>
      problem(
        t.startsWith('$argon2id$'),
        'GATEHOUSE_PASSPHRASE_HASH must be an argon2id hash ($argon2id$…), as `gatehouse auth passphrase hash` prints it',
      ),
    ),
    parse: text,
  }),
  signUp: setting({
    env: 'GATEHOUSE_SIGN_UP',
    help: `overrides the stored sign-up policy: ${orList(SIGN_UP_POLICIES)}`,
    check: (t) =>
      problem(isOneOf(SIGN_UP_POLICIES, t), `GATEHOUSE_SIGN_UP must be ${orList(SIGN_UP_POLICIES)}, not "${t}"`),
    parse: text,
  }),
  mfa: setting({
    env: 'GATEHOUSE_MFA',
    help: `who must have a second factor: ${orList(MFA_POLICIES)} (default optional)`,
    check: ifSet((t) => problem(isOneOf(MFA_POLICIES, t), `GATEHOUSE_MFA must be ${orList(MFA_POLICIES)}, not "${t}"`)),
    parse: text,
  }),
  hashRate: setting({
    env: 'GATEHOUSE_HASH_RATE',
    help: 'password hashes per second this machine allows',
    check: (t) => problem(Number(t) > 0, 'GATEHOUSE_HASH_RATE must be a positive number of hashes per second'),
    parse: (t) => (t ? Number(t) : undefined),
  }),
  publicPaths: setting({
    env: 'GATEHOUSE_PUBLIC_PATHS',
    help: 'paths served without sign-in, e.g. /healthz,/static/*',
    check: ifSet(eachOf((p) => prefixed('GATEHOUSE_PUBLIC_PATHS', publicPathProblem(p)))),
    parse: text,
  }),
  assertion: setting({
    env: 'GATEHOUSE_ASSERTION',
    default: 'on',
    help: 'on (default): a signed X-Forwarded-Assertion on every request; off: none',
    check: (t) => problem(t === 'on' || t === 'off', `GATEHOUSE_ASSERTION must be on or off, not "${t}"`),
    parse: (t) => t !== 'off',
  }),
  access: setting({
    // Checked with the live settings (validate.ts), where the state file's rules are checked too.
    env: 'GATEHOUSE_ACCESS',
    help: 'access rules as JSON, replacing the state file\'s: [{"pattern":"/admin/*","allow":["role:admin"]}]',
    parse: text,
  }),
  accessDefault: setting({
    env: 'GATEHOUSE_ACCESS_DEFAULT',
    help: 'where no access rule applies: allow (any signed-in user, the default) or deny',
    check: ifSet((t) =>
      problem(t === 'allow' || t === 'deny', `GATEHOUSE_ACCESS_DEFAULT must be allow or deny, not "${t}"`),
    ),
    parse: text,
  }),
  mcp: setting({
    // Checked with the live settings (validate.ts), where the state file's list is checked too.
    env: 'GATEHOUSE_MCP',
    help: 'MCP resources (OAuth 2.1 protected paths) as JSON, replacing the state file\'s: [{"path":"/mcp","scopes":["tools"]}]',
    parse: text,
  }),
  oauthDcr: setting({
    env: 'GATEHOUSE_OAUTH_DCR',
    default: 'on',
    help: 'on (default): MCP clients may register themselves (RFC 7591); off: refused',
    check: (t) => problem(t === 'on' || t === 'off', `GATEHOUSE_OAUTH_DCR must be on or off, not "${t}"`),
    parse: (t) => t !== 'off',
  }),
  allowedDomains: setting({
    env: 'GATEHOUSE_ALLOWED_DOMAINS',
    help: 'email domains that may sign up (sign-up "domains"), and the only ones let in (mode org-only)',
    check: ifSet(eachOf((d) => (isDomainName(d) ? null : `GATEHOUSE_ALLOWED_DOMAINS: "${d}" is not a domain name`))),
    parse: text,
  }),
  dbPool: setting({
    env: 'GATEHOUSE_DB_POOL',
    help: 'connections per process to a server database',
    check: ifSet((t) =>
      problem(
        /^\d{1,4}$/.test(t) && Number(t) >= 1 && Number(t) <= 1000,
        'GATEHOUSE_DB_POOL must be a number from 1 to 1000',
      ),
    ),
    parse: text,
  }),
  tablePrefix: setting({
    env: 'GATEHOUSE_TABLE_PREFIX',
    help: 'table name prefix (default gatehouse_), so two apps can share a database',
    check: ifSet((t) =>
      problem(TABLE_PREFIX.test(t), 'GATEHOUSE_TABLE_PREFIX must be at most 32 lower-case letters, digits or "_"'),
    ),
    parse: text,
  }),
  databaseUrl: setting({
    env: 'GATEHOUSE_DATABASE_URL',
    help: 'the database for users when no binding is chosen',
    check: ifSet((t) =>
      urlProblem('GATEHOUSE_DATABASE_URL', t, DATABASE_PROTOCOLS, 'postgres://user:pass@host:5432/db'),
    ),
    parse: text,
  }),
  smtpUrl: setting({
    env: 'GATEHOUSE_SMTP_URL',
    help: 'mail server for password reset and email verification',
    check: ifSet((t) => urlProblem('GATEHOUSE_SMTP_URL', t, ['smtp:', 'smtps:'], 'smtp://user:pass@host:587')),
    parse: text,
  }),
  smtpFrom: setting({
    env: 'GATEHOUSE_SMTP_FROM',
    help: 'sender of those emails',
    check: ifSet((t) =>
      problem(
        EMAIL_OR_NAMED.test(t),
        'GATEHOUSE_SMTP_FROM must be an email address, e.g. "App <no-reply@example.com>"',
      ),
    ),
    parse: text,
  }),
  masterKey: setting({
    env: 'GATEHOUSE_MASTER_KEY',
    help: 'key that seals stored secrets (32 bytes, base64 or hex); default: a key file',
    check: ifSet((t) => thrown(() => parseKey(t.trim(), 'GATEHOUSE_MASTER_KEY'))),
    parse: text,
  }),
  // A signing secret an attacker could guess forges every session: demand at least 32 characters.
  authSecret: setting({
    env: 'GATEHOUSE_AUTH_SECRET',
    aliases: ['AUTH_SECRET'],
    help: 'session signing secret shared by replicas (default: stored, generated)',
    check: (t) =>
      problem(t.length >= 32, 'GATEHOUSE_AUTH_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)'),
    parse: text,
  }),
  bin: setting({
    env: 'GATEHOUSE_BIN',
    help: 'path of the gatehouse executable (for tools that start it)',
    parse: text,
  }),
  // The remote CLI (cli/remote.ts, architecture.md#devices): where `gatehouse login` keeps credentials,
  // and a token for it.
  configDir: setting({
    env: 'GATEHOUSE_CONFIG_DIR',
    help: 'where `gatehouse login` keeps credentials.json (default ~/.config/gatehouse)',
    parse: text,
  }),
  token: setting({
    env: 'GATEHOUSE_TOKEN',
    help: 'the admin token `gatehouse login --remote URL` uses when --token is not given',
    parse: text,
  }),
};

export const SETTINGS: Readonly<Record<string, Setting<unknown>>> = { ...SERVE_SETTINGS, ...OTHER_SETTINGS };

type Parsed<S> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };
export type ServeSettings = Parsed<typeof SERVE_SETTINGS>;
type OtherSettings = Parsed<typeof OTHER_SETTINGS>;

/**
 * One of the other settings, typed by its own parser: what the variable says, else its default. Start-up
 * has already checked the text (readServeSettings), so the parser is the one place its meaning is written.
 */
export function envSetting<K extends keyof OtherSettings>(key: K, env: NodeJS.ProcessEnv): OtherSettings[K] {
  const s = OTHER_SETTINGS[key] as Setting<OtherSettings[K]>;
  return s.parse(textOf(s, {}, env));
}

/** GATEHOUSE_* variables this version knows; anything else is most likely a typo. */
export const KNOWN_ENV: ReadonlySet<string> = new Set(Object.values(SETTINGS).flatMap((s) => (s.env ? [s.env] : [])));

/** The options of `gatehouse serve`, for parseArgs. */
export const SERVE_FLAGS: Record<string, { type: 'string' | 'boolean' }> = Object.fromEntries(
  Object.values(SETTINGS).flatMap((s) => (s.flag ? [[s.flag.name, { type: s.flag.arg ? 'string' : 'boolean' }]] : [])),
);

export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

/** A setting's text: the option, else the variable (or an alias), else the default. */
export function textOf(s: Setting<unknown>, flags: FlagValues, env: NodeJS.ProcessEnv): string | undefined {
  const flag = s.flag ? flags[s.flag.name] : undefined;
  if (flag !== undefined) return String(flag);
  for (const name of [s.env, ...(s.aliases ?? [])]) if (name && env[name] !== undefined) return env[name];
  return s.default;
}

function isWebUrl(t: string): boolean {
  try {
    const u = new URL(t);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** scheme://host[:port] and nothing more. */
function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value.replace(/\/$/, '').toLowerCase();
  } catch {
    return false;
  }
}

/** A parser that throws a sentence becomes a check. */
function thrown(fn: () => unknown): string[] {
  try {
    fn();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

function prefixed(where: string, message: string | null): string | null {
  return message && `${where}: ${message}`;
}
