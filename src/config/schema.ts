// Every setting, declared once: its GATEHOUSE_* variable, its `gatehouse serve` option, default,
// one-line help, check and parser. KNOWN_ENV, the serve help, start-up validation and the typed serve
// settings are all derived from this list, so a new setting cannot be documented but unchecked, or
// checked but unknown. Problem messages are user-facing and tested word for word. The settings of
// `gatehouse serve` itself are here, the others in other-settings.ts, and the checks they are built from in
// setting-checks.ts.
import { parseTrustedProxies } from '../security/client-ip.js';
import { parseLimits, type LimitRules } from '../security/rate-limit.js';
import { parseDuration } from './duration.js';
import { splitList } from './settings.js';
import { OTHER_SETTINGS } from './other-settings.js';
import {
  eachOf,
  ifSet,
  isOrigin,
  isWebUrl,
  list,
  optional,
  problem,
  setting,
  thrown,
  type Setting,
} from './setting-checks.js';

// Kept importable from here: every reader of the settings list knows it by this module.
export { OTHER_SETTINGS } from './other-settings.js';
export type { Setting } from './setting-checks.js';

const MIN_IDLE_MS = 5 * 60_000;
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;

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
        'GATEHOUSE_SESSION_IDLE must be at least 5m ' +
          '(a shorter idle limit signs people out while they read a page)',
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
