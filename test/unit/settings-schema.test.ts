// The settings schema (src/config/schema.ts) is the one declaration of every setting: these tests pin
// that everything derived from it — KNOWN_ENV, the serve help, the parseArgs options, validation and
// the typed serve settings — agrees with it and with what this version has always accepted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_MODES, SIGN_UP_POLICIES } from '../../src/config/choices.js';
import { envSetting, KNOWN_ENV, SERVE_FLAGS, SETTINGS } from '../../src/config/schema.js';
import { readServeSettings } from '../../src/config/serve-settings.js';
import { KNOWN_ENV as KNOWN_ENV_FROM_STATE } from '../../src/config/state.js';
import { SERVE_HELP } from '../../src/cli/serve.js';
import { DEFAULT_LIMITS } from '../../src/security/rate-limit.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const REPO = new URL('../..', import.meta.url).pathname;

// The list KNOWN_ENV held before the schema existed: no variable may silently disappear.
const KNOWN_BEFORE = [
  'GATEHOUSE_HOME',
  'GATEHOUSE_SERVER',
  'GATEHOUSE_PROFILE',
  'GATEHOUSE_UPSTREAM',
  'GATEHOUSE_EXEC',
  'GATEHOUSE_PORT',
  'GATEHOUSE_HOST',
  'GATEHOUSE_PUBLIC_URL',
  'GATEHOUSE_APP_NAME',
  'GATEHOUSE_TRUSTED_PROXIES',
  'GATEHOUSE_WORKERS',
  'GATEHOUSE_AUTH_MODE',
  'GATEHOUSE_PUBLIC_PATHS',
  'GATEHOUSE_SIGN_UP',
  'GATEHOUSE_PASSPHRASE_HASH',
  'GATEHOUSE_ACCESS',
  'GATEHOUSE_ASSERTION',
  'GATEHOUSE_ALLOWED_DOMAINS',
  'GATEHOUSE_AUTH_SECRET',
  'GATEHOUSE_DATABASE_URL',
  'GATEHOUSE_TABLE_PREFIX',
  'GATEHOUSE_DB_POOL',
  'GATEHOUSE_SMTP_URL',
  'GATEHOUSE_SMTP_FROM',
  'GATEHOUSE_SESSION_IDLE',
  'GATEHOUSE_SESSION_ABSOLUTE',
  'GATEHOUSE_RATE_LIMITS',
  'GATEHOUSE_HASH_RATE',
  'GATEHOUSE_MASTER_KEY',
  'GATEHOUSE_BIN',
  'GATEHOUSE_ALLOWED_HOSTS',
  'GATEHOUSE_WS_ORIGINS',
  'GATEHOUSE_MFA', // second factor policy (architecture.md#mfa)
  'GATEHOUSE_CONFIG_DIR',
  'GATEHOUSE_TOKEN', // the remote CLI (architecture.md#devices)
  'GATEHOUSE_MCP',
  'GATEHOUSE_OAUTH_DCR',
  'GATEHOUSE_ACCESS_DEFAULT', // where no access rule applies: allow or deny
];
const FLAGS_BEFORE = [
  'upstream',
  'port',
  'host',
  'public-url',
  'demo',
  'app-name',
  'trusted-proxies',
  'workers',
  'exec',
  'server',
  'profile',
];

const problemsOf = (flags: Record<string, string | boolean>, env: NodeJS.ProcessEnv) => {
  const r = readServeSettings(flags, env);
  return r.ok ? [] : r.problems;
};

describe('settings schema', () => {
  it('knows exactly the variables in the schema, and every one it knew before', () => {
    const inSchema = Object.values(SETTINGS).flatMap((s) => (s.env ? [s.env] : []));
    assert.deepEqual([...KNOWN_ENV].sort(), [...new Set(inSchema)].sort());
    assert.deepEqual([...KNOWN_ENV].sort(), [...KNOWN_BEFORE].sort());
    assert.equal(KNOWN_ENV_FROM_STATE, KNOWN_ENV, 'config/state.ts re-exports the derived set');
    assert.equal(inSchema.length, new Set(inSchema).size, 'each variable is declared once');
  });

  it('declares every serve option once, and parseArgs and the help take them from it', () => {
    const flags = Object.values(SETTINGS).flatMap((s) => (s.flag ? [s.flag.name] : []));
    assert.deepEqual([...flags].sort(), [...FLAGS_BEFORE].sort());
    assert.deepEqual(Object.keys(SERVE_FLAGS).sort(), [...FLAGS_BEFORE].sort());
    assert.equal(SERVE_FLAGS.demo!.type, 'boolean');
    assert.equal(SERVE_FLAGS.port!.type, 'string');
    for (const f of flags) assert.match(SERVE_HELP, new RegExp(`--${f}\\b`), `help mentions --${f}`);
    for (const v of KNOWN_ENV) assert.ok(SERVE_HELP.includes(v), `help mentions ${v}`);
    for (const s of Object.values(SETTINGS)) assert.ok(s.help && !s.help.includes('\n'), 'one line of help each');
  });

  it('gives the documented defaults', () => {
    const r = readServeSettings({}, {});
    assert.ok(r.ok);
    const s = r.settings;
    assert.equal(s.port, 4180);
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.workers, 1);
    assert.equal(s.sessionIdleMs, 7 * 86_400_000);
    assert.equal(s.sessionAbsoluteMs, 30 * 86_400_000);
    assert.equal(s.upstream, null);
    assert.equal(s.publicUrl, null);
    assert.equal(s.demo, false);
    assert.equal(s.exec, null);
    assert.equal(s.appName, null);
    assert.deepEqual(s.trustedProxies, []);
    assert.deepEqual(s.allowedHosts, []);
    assert.deepEqual(s.allowedOrigins, []);
    assert.deepEqual(s.limits, DEFAULT_LIMITS);
  });

  it('prefers an option over its variable, and reads typed values', () => {
    const r = readServeSettings(
      { port: '0', demo: true, 'public-url': 'https://app.example.com' },
      {
        GATEHOUSE_PORT: '9999',
        GATEHOUSE_WORKERS: '4',
        GATEHOUSE_SESSION_IDLE: '12h',
        GATEHOUSE_ALLOWED_HOSTS: 'a.example, b.example:8443',
      },
    );
    assert.ok(r.ok);
    assert.equal(r.settings.port, 0);
    assert.equal(r.settings.demo, true);
    assert.equal(r.settings.publicUrl?.origin, 'https://app.example.com');
    assert.equal(r.settings.workers, 4);
    assert.equal(r.settings.sessionIdleMs, 12 * 3_600_000);
    assert.deepEqual(r.settings.allowedHosts, ['a.example', 'b.example:8443']);
  });

  it('reports every bad value at once, in the documented words', () => {
    const problems = problemsOf(
      { port: '70000', workers: '0', upstream: 'https://x', 'public-url': 'ftp://x' },
      {
        GATEHOUSE_AUTH_MODE: 'sometimes',
        GATEHOUSE_SIGN_UP: 'anyone',
        GATEHOUSE_HASH_RATE: '-1',
        GATEHOUSE_SESSION_ABSOLUTE: 'long',
        GATEHOUSE_DB_POOL: '0',
        GATEHOUSE_TABLE_PREFIX: 'Bad-Prefix',
        GATEHOUSE_SMTP_FROM: 'nobody',
        GATEHOUSE_ALLOWED_DOMAINS: 'example.com,nope',
        GATEHOUSE_TYPO: '1',
      },
    );
    assert.deepEqual(
      problems.sort(),
      [
        'GATEHOUSE_ALLOWED_DOMAINS: "nope" is not a domain name',
        'GATEHOUSE_AUTH_MODE must be on, off, hybrid, public, org-only or passphrase, not "sometimes"',
        'GATEHOUSE_DB_POOL must be a number from 1 to 1000',
        'GATEHOUSE_HASH_RATE must be a positive number of hashes per second',
        'GATEHOUSE_SESSION_ABSOLUTE must be a duration such as 30d',
        'GATEHOUSE_SIGN_UP must be open, invite or domains, not "anyone"',
        'GATEHOUSE_SMTP_FROM is set without GATEHOUSE_SMTP_URL',
        'GATEHOUSE_SMTP_FROM must be an email address, e.g. "App <no-reply@example.com>"',
        'GATEHOUSE_TABLE_PREFIX must be at most 32 lower-case letters, digits or "_"',
        'port "70000" must be a number from 0 to 65535',
        'public URL "ftp://x" must be an http:// or https:// URL',
        'unknown environment variable GATEHOUSE_TYPO',
        'upstream "https://x" must look like http://host:port',
        'workers "0" must be a number from 1 to 64',
      ].sort(),
    );
  });

  it('checks settings against each other', () => {
    assert.deepEqual(problemsOf({ exec: 'npm start', demo: true, workers: '2' }, {}), [
      '--exec starts the app itself: use it without --upstream or --demo',
      '--exec runs one app process: use it without --workers',
    ]);
    assert.deepEqual(problemsOf({}, { GATEHOUSE_SESSION_IDLE: '40d' }), [
      'GATEHOUSE_SESSION_IDLE must not be longer than GATEHOUSE_SESSION_ABSOLUTE',
    ]);
    assert.deepEqual(problemsOf({}, { GATEHOUSE_SESSION_IDLE: '1m' }), [
      'GATEHOUSE_SESSION_IDLE must be at least 5m (a shorter idle limit signs people out while they read a page)',
    ]);
  });

  it('treats an empty value as unset where it always did, and as a value where it did not', () => {
    const empty = {
      GATEHOUSE_DB_POOL: '',
      GATEHOUSE_TABLE_PREFIX: '',
      GATEHOUSE_DATABASE_URL: '',
      GATEHOUSE_PUBLIC_URL: '',
      GATEHOUSE_MASTER_KEY: '',
    };
    assert.deepEqual(problemsOf({}, empty), []);
    assert.deepEqual(problemsOf({}, { GATEHOUSE_AUTH_MODE: '' }), [
      'GATEHOUSE_AUTH_MODE must be on, off, hybrid, public, org-only or passphrase, not ""',
    ]);
    assert.deepEqual(problemsOf({}, { AUTH_SECRET: 'short' }), [
      'GATEHOUSE_AUTH_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)',
    ]);
  });

  it('takes modes and sign-up policies from one list each', () => {
    assert.deepEqual([...AUTH_MODES], ['on', 'off', 'hybrid', 'public', 'org-only', 'passphrase']);
    assert.deepEqual([...SIGN_UP_POLICIES], ['open', 'invite', 'domains']);
    for (const mode of AUTH_MODES) assert.deepEqual(problemsOf({}, { GATEHOUSE_AUTH_MODE: mode }), []);
    for (const policy of SIGN_UP_POLICIES) assert.deepEqual(problemsOf({}, { GATEHOUSE_SIGN_UP: policy }), []);
  });

  it('gives the settings read outside `serve` their meaning in the schema, defaults included', () => {
    assert.equal(envSetting('assertion', {}), true);
    assert.equal(envSetting('assertion', { GATEHOUSE_ASSERTION: 'on' }), true);
    assert.equal(envSetting('assertion', { GATEHOUSE_ASSERTION: 'off' }), false);
    assert.equal(envSetting('oauthDcr', {}), true);
    assert.equal(envSetting('oauthDcr', { GATEHOUSE_OAUTH_DCR: 'off' }), false);
    assert.equal(envSetting('hashRate', {}), undefined);
    assert.equal(envSetting('hashRate', { GATEHOUSE_HASH_RATE: '2.5' }), 2.5);
  });

  it('reads GATEHOUSE_HASH_RATE, _ASSERTION and _OAUTH_DCR only through the schema', () => {
    const files = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    );
    for (const f of files) {
      const text = readFileSync(join(REPO, 'src', f), 'utf8');
      assert.doesNotMatch(text, /env\.GATEHOUSE_(HASH_RATE|ASSERTION|OAUTH_DCR)\b/, `${f} reads the variable itself`);
    }
  });
});
