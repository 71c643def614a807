import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** GATEHOUSE_HOME is private: 0700, whatever the umask. */
export function ensureHome(home: string): void {
  if (!existsSync(home)) mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
}

/** Write to a temp file in the same directory, then rename: readers see the old or the new file, never half. */
export function writeFileAtomic(file: string, data: string): void {
  ensureHome(dirname(file));
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, file);
}

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;

/** What a lock file says about its holder: this host's name and the holder's process id. */
const lockOwner = () => `${hostname()} ${process.pid}\n`;

/**
 * Whether the lock is left over from a holder that is gone: a process of this host that no longer
 * exists (a command killed with SIGKILL never removes its lock) is known at once; a holder on another
 * host (a shared GATEHOUSE_HOME), or a lock from before holders were written down, only by age.
 */
function isStale(lock: string): boolean {
  const [host, pid] = readFileSync(lock, 'utf8').trim().split(' ');
  if (host === hostname() && /^\d+$/.test(pid ?? '')) {
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true; // EPERM: alive, someone else's
    }
  }
  return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
}

/**
 * Runs `fn` while holding `<file>.lock` (created exclusively), so read-modify-write cycles of two
 * processes — `gatehouse bind …` and `gatehouse auth providers add …` run side by side — never lose
 * one another's change. A lock whose holder is gone is taken over at once (see isStale).
 * Synchronous on purpose: the critical sections are a read and a write of one small file.
 */
export function withFileLock<T>(file: string, fn: () => T): T {
  ensureHome(dirname(file));
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lock, lockOwner(), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (isStale(lock)) unlinkSync(lock);
      } catch {
        // gone meanwhile, or caught half-written by its creator: try again
      }
      if (Date.now() > deadline) throw new Error(`another gatehouse command is changing ${file}; try again`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.floor(Math.random() * 20));
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // already gone
    }
  }
}
