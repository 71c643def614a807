// `gatehouse auth passphrase set|hash` and `gatehouse auth mode MODE` (architecture.md#access: access modes).
// The passphrase is read from standard input and only its argon2id hash is kept; it is never printed.
import { AUTH_MODES, isOneOf, orList } from '../config/choices.js';
import { isDomainName } from '../config/domains.js';
import { splitList } from '../config/settings.js';
import { authIsOn, readState, updateState, type Scope, type StoredState } from '../config/state.js';
import { createPasswordHasher, MAX_PASSWORD_LENGTH, passwordLength } from '../security/password.js';
import { passphraseUserId } from '../session/passphrase.js';
import { CommandError, UsageError, withStore, type Io } from './common.js';
import { readSecret, type SecretSource } from './secret-input.js';

/** Shared by everyone who may enter, and guessed per client address: longer than a password. */
export const MIN_PASSPHRASE_LENGTH = 12;

// The backslash after the backtick starts the text on the next line (a template's line continuation).
export const PASSPHRASE_HELP = `\
gatehouse auth mode MODE [--domain D,…]             on, public (= off), org-only, passphrase or hybrid;
                                                    org-only lets in only addresses of --domain (the allowed domains)
gatehouse auth passphrase set                       the shared passphrase of mode passphrase, read from standard input;
                                                    every passphrase session ends
gatehouse auth passphrase hash                      print the argon2id hash of a passphrase read from standard input
                                                    (for GATEHOUSE_PASSPHRASE_HASH in containers)`;

async function readPassphrase(input: SecretSource | undefined): Promise<string> {
  const value = await readSecret('Passphrase', input);
  if (!value.trim()) throw new CommandError('the passphrase is empty; nothing was changed');
  const length = passwordLength(value);
  if (length < MIN_PASSPHRASE_LENGTH)
    throw new CommandError(
      `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters (it has ${length}); nothing was changed`,
    );
  if (length > MAX_PASSWORD_LENGTH)
    throw new CommandError(`the passphrase must be at most ${MAX_PASSWORD_LENGTH} characters; nothing was changed`);
  return value;
}

export async function passphraseCommand(
  sub: string | undefined,
  scope: Scope,
  io: Io,
  input?: SecretSource,
): Promise<number> {
  if (sub === 'hash') {
    io.out(await createPasswordHasher().hash(await readPassphrase(input)));
    return 0;
  }
  if (sub !== 'set') throw new UsageError(`auth passphrase needs "set" or "hash"\n${PASSPHRASE_HELP}`);
  if (io.env.GATEHOUSE_PASSPHRASE_HASH)
    throw new CommandError('the passphrase comes from GATEHOUSE_PASSPHRASE_HASH here; change that variable instead');
  const hash = await createPasswordHasher().hash(await readPassphrase(input));
  const previous = readState(scope)?.auth.passphrase ?? null;
  updateState(scope, (current) => {
    if (!current) throw new UsageError('auth was never enabled here; run `gatehouse auth enable` first');
    return { ...current, auth: { ...current.auth, passphrase: hash } };
  });
  // Running servers refuse the old passphrase's sessions at their next check (≤ 2 s) anyway; deleting
  // its reserved user also removes the sessions from the store, so no replica can revive one.
  const ended = previous ? await withStore(scope, io, (store) => endPassphraseSessions(store, previous)) : 0;
  io.out(`✓ passphrase set (only its argon2id hash is stored); ${ended} passphrase session(s) ended`);
  if ((readState(scope)?.auth.mode ?? 'on') !== 'passphrase' && io.env.GATEHOUSE_AUTH_MODE !== 'passphrase')
    io.out('  it applies in mode passphrase: `gatehouse auth mode passphrase`');
  return 0;
}

async function endPassphraseSessions(store: import('../store/types.js').Store, previousHash: string): Promise<number> {
  const id = passphraseUserId(previousHash);
  const sessions = await store.listUserSessions(id);
  await store.deleteUser(id);
  return sessions.length;
}

/** The organisation's domains: GATEHOUSE_ALLOWED_DOMAINS when set, else the stored list. */
function allowedDomains(env: NodeJS.ProcessEnv, state: StoredState | null): string[] {
  return env.GATEHOUSE_ALLOWED_DOMAINS ? splitList(env.GATEHOUSE_ALLOWED_DOMAINS) : (state?.auth.allowedDomains ?? []);
}

/** `auth mode MODE`: what each mode needs is checked before it is written. */
export function modeCommand(mode: string | undefined, domainList: string | undefined, scope: Scope, io: Io): number {
  if (!isOneOf(AUTH_MODES, mode)) throw new UsageError(`auth mode needs one of ${orList(AUTH_MODES)}`);
  const given = domainList === undefined ? null : splitList(domainList.toLowerCase());
  for (const d of given ?? []) if (!isDomainName(d)) throw new UsageError(`--domain "${d}" is not a domain name`);
  if (given && mode !== 'org-only') throw new UsageError('--domain goes with mode org-only');
  updateState(scope, (current) => {
    if (!current) throw new UsageError('auth was never enabled here; run `gatehouse auth enable` first');
    // --domain sets the allowed domains, which sign-up "domains" uses too: one list of the organisation's domains.
    if (given?.length) current = { ...current, auth: { ...current.auth, allowedDomains: given } };
    const domains = allowedDomains(io.env, current);
    if (mode === 'org-only' && !domains.length)
      throw new UsageError(
        "mode org-only lets in only the organisation's email domains: name them with --domain example.com",
      );
    if (mode === 'passphrase' && !current.auth.passphrase && !io.env.GATEHOUSE_PASSPHRASE_HASH)
      throw new CommandError('mode passphrase needs a passphrase first: `gatehouse auth passphrase set`');
    return { ...current, auth: { ...current.auth, mode } };
  });
  const what = {
    on: 'everyone signs in with an account',
    off: 'requests pass straight through, no identity headers',
    public: 'requests pass straight through, no identity headers',
    hybrid: 'loopback peers pass; everyone else signs in',
    'org-only': 'only addresses of the allowed domains get in; others see 403',
    passphrase: 'one shared passphrase; each browser gets its own session',
  }[mode];
  const state = readState(scope);
  const domains = mode === 'org-only' ? ` (${allowedDomains(io.env, state).join(', ')})` : '';
  io.out(`✓ auth mode ${mode}: ${what}${domains} (running servers apply it within a second)`);
  if (state && !authIsOn(state) && mode !== 'off' && mode !== 'public')
    io.out('  auth is disabled here, so traffic still passes through: `gatehouse auth enable` turns it on');
  if (io.env.GATEHOUSE_AUTH_MODE && io.env.GATEHOUSE_AUTH_MODE !== mode)
    io.err(
      `gatehouse: warning: GATEHOUSE_AUTH_MODE=${io.env.GATEHOUSE_AUTH_MODE} is set and overrides the stored mode`,
    );
  return 0;
}
