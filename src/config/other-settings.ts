// The settings read outside `gatehouse serve`'s own start-up: by the scope (cli/common.ts), the live
// settings, the store and the mailer. Declared like the rest (config/schema.ts, setting-checks.ts).
import { AUTH_MODES, isOneOf, MFA_POLICIES, orList, SIGN_UP_POLICIES } from './choices.js';
import { DATABASE_PROTOCOLS } from './database-url.js';
import { isDomainName } from './domains.js';
import { parseKey } from './secrets.js';
import { publicPathProblem, urlProblem } from './validate.js';
import { eachOf, ifSet, prefixed, problem, setting, text, thrown } from './setting-checks.js';

const TABLE_PREFIX = /^[a-z0-9_]{0,32}$/;
const EMAIL_OR_NAMED = /^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/;

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
    help:
      'the shared passphrase of mode passphrase, as the argon2id hash ' +
      '`gatehouse auth passphrase hash` prints (containers)',
    check: ifSet((t) =>
      problem(
        t.startsWith('$argon2id$'),
        'GATEHOUSE_PASSPHRASE_HASH must be an argon2id hash ($argon2id$…), ' +
          'as `gatehouse auth passphrase hash` prints it',
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
    help:
      "MCP resources (OAuth 2.1 protected paths) as JSON, replacing the state file's: " +
      '[{"path":"/mcp","scopes":["tools"]}]',
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
