// `gatehouse serve`'s settings read from its options and the environment through the schema: every
// problem at once (checks of each setting, then the ones between settings), or the typed settings.
import { isProviderVariable, providersFromEnv } from './env-providers.js';
import { parseDuration } from './duration.js';
import { KNOWN_ENV, SERVE_SETTINGS, SETTINGS, textOf, type FlagValues, type ServeSettings } from './schema.js';

export type ServeSettingsResult = { ok: true; settings: ServeSettings } | { ok: false; problems: string[] };

export function readServeSettings(flags: FlagValues, env: NodeJS.ProcessEnv): ServeSettingsResult {
  const texts: Record<string, string | undefined> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(SETTINGS)) {
    const t = textOf(s, flags, env);
    texts[key] = t;
    if (t !== undefined && s.check) problems.push(...s.check(t));
  }
  problems.push(...crossProblems(texts), ...unknownVariables(env), ...providersFromEnv(env).problems);
  if (problems.length) return { ok: false, problems };
  const settings = Object.fromEntries(Object.entries(SERVE_SETTINGS).map(([key, s]) => [key, s.parse(texts[key])]));
  return { ok: true, settings: settings as ServeSettings };
}

/** Problems between settings, judged on their texts (so one bad value does not hide another problem). */
function crossProblems(t: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const idle = parseDuration(t.sessionIdleMs ?? '');
  const absolute = parseDuration(t.sessionAbsoluteMs ?? '');
  if (idle !== null && absolute !== null && idle > absolute)
    problems.push('GATEHOUSE_SESSION_IDLE must not be longer than GATEHOUSE_SESSION_ABSOLUTE');
  if (t.exec !== undefined && (t.upstream !== undefined || t.demo === 'true'))
    problems.push('--exec starts the app itself: use it without --upstream or --demo');
  if (t.exec !== undefined && Number(t.workers) > 1)
    problems.push('--exec runs one app process: use it without --workers');
  if (t.smtpFrom && !t.smtpUrl) problems.push('GATEHOUSE_SMTP_FROM is set without GATEHOUSE_SMTP_URL');
  return problems;
}

function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('GATEHOUSE_') && !KNOWN_ENV.has(name) && !isProviderVariable(name))
    .map((name) => `unknown environment variable ${name}`);
}
