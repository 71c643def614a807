// Password hashing: argon2id (OWASP minimum m=19 MiB, t=2, p=1) in PHC strings via @node-rs/argon2,
// which runs on libuv's thread pool, off the event loop. Concurrency is bounded so a sign-in storm
// queues instead of taking every core from proxied traffic. The native module loads on the first hash,
// not at start: it is ~5 MiB of resident memory that an instance serving signed-in traffic never needs.
import { createRequire } from 'node:module';
import type { Algorithm } from '@node-rs/argon2';

const argon2 = () => import('@node-rs/argon2');

export interface HashParams {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_HASH_PARAMS: HashParams = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** true when the password matches; `rehash` when the stored parameters are older than ours. */
  verify(phc: string, password: string): Promise<{ ok: boolean; rehash: boolean }>;
  /** Spend the same time as verify() for a user that does not exist (no enumeration by timing). */
  verifyDummy(password: string): Promise<void>;
  /** Hashes running or waiting now (for tests and metrics). */
  readonly inFlight: number;
  readonly maxConcurrent: number;
  /** Real password checks evaluated, and dummy ones (for unknown or locked accounts): tests count them. */
  readonly verifications: number;
  readonly dummyVerifications: number;
}

/** Thrown when more password checks are waiting than the queue holds: answer 503 and let the client retry. */
export class HasherBusyError extends Error {
  readonly code = 'HASHER_BUSY';
}

export interface HasherOptions {
  params?: HashParams;
  maxConcurrent?: number; // hashes at once (default 1: traffic keeps the other core)
  perSecond?: number; // hashes started per second at most (default 10: traffic keeps most of a core)
  maxQueue?: number; // waiting hashes beyond this are refused (default 256)
}

export function createPasswordHasher(opts: HasherOptions = {}): PasswordHasher {
  const params = opts.params ?? DEFAULT_HASH_PARAMS;
  const limit = createLimiter(opts.maxConcurrent ?? 1, {
    perSecond: opts.perSecond ?? 10,
    maxQueue: opts.maxQueue ?? 256,
  });
  // Algorithm is a const enum, which verbatimModuleSyntax cannot import; 2 is Argon2id.
  const options = { algorithm: 2 as Algorithm, ...params };
  let dummy: Promise<string> | undefined;
  let verifications = 0;
  let dummyVerifications = 0;

  return {
    hash: (password) => limit(async () => (await argon2()).hash(password, options)),
    async verify(phc, password) {
      if (!phc.startsWith('$argon2')) return { ok: false, rehash: false };
      verifications++;
      const ok = await limit(() => verifyPhc(phc, password));
      return { ok, rehash: ok && !hasParams(phc, params) };
    },
    async verifyDummy(password) {
      dummy ??= argon2().then((a) => a.hash('gatehouse-dummy-password', options));
      const phc = await dummy;
      dummyVerifications++;
      await limit(() => verifyPhc(phc, password));
    },
    get inFlight() {
      return limit.active + limit.waiting;
    },
    maxConcurrent: opts.maxConcurrent ?? 1,
    get verifications() {
      return verifications;
    },
    get dummyVerifications() {
      return dummyVerifications;
    },
  };
}

/** A malformed stored hash is a failed check, not an error. */
async function verifyPhc(phc: string, password: string): Promise<boolean> {
  return (await argon2()).verify(phc, password).catch(() => false);
}

function hasParams(phc: string, p: HashParams): boolean {
  const m = /\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  return !!m && Number(m[1]) === p.memoryCost && Number(m[2]) === p.timeCost && Number(m[3]) === p.parallelism;
}

type Limiter = (<T>(task: () => Promise<T>) => Promise<T>) & { readonly active: number; readonly waiting: number };

/**
 * At most `max` tasks run at once, started at most `perSecond` times a second; the rest wait in FIFO
 * order, and beyond `maxQueue` waiting tasks new ones are refused with HasherBusyError.
 */
export function createLimiter(max: number, pace: { perSecond?: number; maxQueue?: number } = {}): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const interval = pace.perSecond ? 1000 / pace.perSecond : 0;
  let nextSlot = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    if (active >= max || queue.length === 0 || timer) return;
    const wait = nextSlot - Date.now();
    if (wait > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        next();
      }, wait);
      return;
    }
    nextSlot = Math.max(nextSlot, Date.now()) + interval;
    queue.shift()!();
    next();
  };
  const run = <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (pace.maxQueue !== undefined && queue.length >= pace.maxQueue)
        return reject(new HasherBusyError('too many password checks waiting'));
      queue.push(() => {
        active++;
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
  return Object.defineProperties(run, {
    active: { get: () => active },
    waiting: { get: () => queue.length },
  }) as Limiter;
}

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'same-as-email';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The one length rule, in code points: an emoji is one character, not two UTF-16 units. Sign-up,
 * change, reset and sign-in all count this way, so an accepted password can always sign in.
 */
export function passwordLength(password: string): number {
  return [...password].length;
}

/** architecture.md#accounts: 8–1024 characters, no composition rules, common passwords refused, never truncated. */
export function checkPasswordPolicy(password: string, email = ''): PasswordProblem | null {
  const length = passwordLength(password);
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (length > MAX_PASSWORD_LENGTH) return 'too-long';
  const lower = password.toLowerCase();
  if (isCommonPassword(lower)) return 'common';
  if (email && (lower === email.toLowerCase() || lower === email.split('@')[0]?.toLowerCase())) return 'same-as-email';
  return null;
}

export const PASSWORD_MESSAGES: Record<PasswordProblem, string> = {
  'too-short': `Use at least ${MIN_PASSWORD_LENGTH} characters.`,
  'too-long': `Use at most ${MAX_PASSWORD_LENGTH} characters.`,
  common: 'This password is too common. Choose one that is harder to guess.',
  'same-as-email': 'Your password must not be your email address.',
};

/** A listed password, one with a few digits or symbols tacked on ("dragon2024!"), or a keyboard or digit walk. */
export function isCommonPassword(lower: string): boolean {
  const common = commonPasswords();
  if (common.has(lower)) return true;
  const chars = [...lower];
  for (let cut = 1; cut <= MAX_TRIVIAL_SUFFIX && chars.length - cut >= MIN_EXTENDED_BASE; cut++) {
    if (!TRIVIAL_SUFFIX_CHAR.test(chars[chars.length - cut]!)) break;
    if (common.has(chars.slice(0, -cut).join(''))) return true;
  }
  return isWalk(lower);
}

const MAX_TRIVIAL_SUFFIX = 4; // "1", "123", "2024", "!!"
const MIN_EXTENDED_BASE = 4; // "abc" + 5 digits is not a listed password made longer
const TRIVIAL_SUFFIX_CHAR = /^[\p{N}\p{P}\p{S}]$/u;

// The dictionary zxcvbn maintains from breach corpora (~49,000 entries). Loaded on first use:
// decompressing it takes a few hundred milliseconds that CLI commands and start-up need not pay.
type LanguageCommon = typeof import('@zxcvbn-ts/language-common');
let commonPasswordSet: ReadonlySet<string> | undefined;

function commonPasswords(): ReadonlySet<string> {
  if (!commonPasswordSet) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as LanguageCommon;
    commonPasswordSet = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return commonPasswordSet;
}

// Rows read left to right then top to bottom, the alphabet and the digits; a walk may run backwards
// and wrap around ("qwertyuiopas", "0987654321", "890123456").
const WALKS = [
  '1234567890',
  'qwertyuiopasdfghjklzxcvbnm',
  'qwertzuiopasdfghjklyxcvbnm',
  'azertyuiopqsdfghjklmwxcvbn',
  'abcdefghijklmnopqrstuvwxyz',
];

function isWalk(lower: string): boolean {
  return WALKS.some((walk) => {
    const wrapped = walk.repeat(Math.ceil(lower.length / walk.length) + 1);
    return wrapped.includes(lower) || [...wrapped].reverse().join('').includes(lower);
  });
}
