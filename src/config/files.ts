import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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

/**
 * Runs `fn` while holding `<file>.lock` (created exclusively), so read-modify-write cycles of two
 * processes — `gatehouse bind …` and `gatehouse auth providers add …` run side by side — never lose
 * one another's change. A lock older than 30 s is left over from a killed process and is taken over.
 * Synchronous on purpose: the critical sections are a read and a write of one small file.
 */
export function withFileLock<T>(file: string, fn: () => T): T {
  ensureHome(dirname(file));
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
      } catch {
        // gone meanwhile: try again
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
