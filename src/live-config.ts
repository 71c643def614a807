// The live part of a running server's configuration: the state file, watched, turned into settings,
// a mailer and the social login providers. `gatehouse auth enable/disable`, `bind smtp …` and
// `auth providers add …` from another process take effect within a second, without a restart.
import { watchFile, unwatchFile } from 'node:fs';
import { smtpBindingOf } from './config/auth-state.js';
import { withEnvProviders } from './config/env-providers.js';
import { liveSettings, type LiveSettings } from './config/settings.js';
import { readState, stateFile, type Scope, type StoredState } from './config/state.js';
import { createSmtpMailer, type Mailer, type SmtpBinding } from './mail/mailer.js';
import { providersFromState, type ProviderEntry } from './oidc/providers.js';

export interface LiveConfig {
  settings(): LiveSettings;
  mailer(): Mailer | null;
  providers(): ProviderEntry[];
  /** `fn` runs once per re-read of a valid state file, after the settings above are updated. */
  onChange(fn: (settings: LiveSettings, state: StoredState) => void): void;
  /** Re-reads the state file now (the watcher does this within a second by itself). */
  reload(): void;
  /** Stops watching and closes the mailer. */
  close(): Promise<void>;
}

export interface LiveConfigOptions {
  scope: Scope;
  /** The state as read at start-up (prepareState). */
  state: StoredState;
  masterKey: Buffer;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** How often the watcher polls the file (ms); tests shorten it. */
  intervalMs?: number;
  /** Builds the SMTP mailer; tests pass a fake. */
  createMailer?: (binding: SmtpBinding) => Promise<Mailer>;
}

export async function createLiveConfig(opts: LiveConfigOptions): Promise<LiveConfig> {
  const { scope, masterKey, env, log } = opts;
  const mail = createMailerSlot(opts.createMailer ?? createSmtpMailer);
  const warn = (m: string) => log(`providers: ${m}`);
  // GATEHOUSE_GOOGLE_CLIENT_ID … in the environment lay over the state file's entries.
  const providersOf = (state: StoredState) =>
    providersFromState(withEnvProviders(state.providers, env), masterKey, warn);
  let settings = liveSettings(opts.state, masterKey, env);
  let providers = providersOf(opts.state);
  await mail.follow(smtpBindingOf(opts.state, masterKey, env));
  const listeners: Array<(s: LiveSettings, state: StoredState) => void> = [];

  const reload = () => {
    let next: StoredState | null;
    try {
      next = readState(scope);
      if (!next) return;
      // Everything is computed before anything is applied: a bad entry keeps all previous settings.
      const nextSettings = liveSettings(next, masterKey, env);
      const nextProviders = providersOf(next);
      const smtp = smtpBindingOf(next, masterKey, env);
      logModeChange(settings, nextSettings, log);
      settings = nextSettings;
      providers = nextProviders;
      mail.follow(smtp).catch((err: Error) => log(`mail: ${err.message}`));
    } catch (err) {
      log(`config: kept the previous settings: ${(err as Error).message}`);
      return;
    }
    for (const fn of listeners) {
      try {
        fn(settings, next);
      } catch (err) {
        log(`config: kept the previous settings: ${(err as Error).message}`);
      }
    }
  };
  const file = stateFile(scope);
  watchFile(file, { interval: opts.intervalMs ?? 500 }, reload);

  return {
    settings: () => settings,
    mailer: mail.current,
    providers: () => providers,
    onChange: (fn) => void listeners.push(fn),
    reload,
    async close() {
      unwatchFile(file, reload);
      mail.close();
    },
  };
}

function logModeChange(before: LiveSettings, after: LiveSettings, log: (line: string) => void): void {
  if (after.mode === before.mode) return;
  log(
    after.mode === 'off'
      ? 'auth: switched off (requests pass through, no identity headers)'
      : `auth: switched on (mode ${after.mode})`,
  );
}

/** The mailer follows the smtp binding, so `gatehouse bind smtp …` switches reset on while running. */
function createMailerSlot(create: (binding: SmtpBinding) => Promise<Mailer>) {
  let mailer: Mailer | null = null;
  let key: string | null = null;
  return {
    current: () => mailer,
    async follow(binding: SmtpBinding | null) {
      const nextKey = binding ? `${binding.url} ${binding.from}` : null;
      if (nextKey === key) return;
      key = nextKey;
      const next = binding ? await create(binding) : null;
      mailer?.close();
      mailer = next;
    },
    close: () => mailer?.close(),
  };
}
