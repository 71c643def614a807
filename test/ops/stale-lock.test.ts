// The state file's lock (config/files.ts) after a command is killed with SIGKILL: the lock file stays
// behind, and every later command used to wait 10 s and fail until the lock was 30 s old. The lock now
// names its holder, so one whose process is gone is taken over at once; a live holder still keeps it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPO, runCli, tempHome } from '../support/gatehouse.js';
import { stateFile } from '../../src/config/state.js';

/** A process that takes the state file's lock, says so, and holds it until killed. */
async function holdLock(home: string): Promise<ChildProcess> {
  const file = stateFile({ home, server: 'local', profile: 'main' });
  const script = `import(${JSON.stringify(`${REPO}src/config/files.ts`)}).then((m) => m.withFileLock(${JSON.stringify(file)}, () => {
    console.log('held');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return child;
}

const killed = (child: ChildProcess) =>
  new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
  );

describe('the state file lock', () => {
  const home = tempHome();
  const env = { GATEHOUSE_HOME: home.home };
  after(() => home.cleanup());

  it(
    'is taken over at once from a command killed with SIGKILL, and still waits for a live holder',
    { timeout: 60_000 },
    async () => {
      assert.equal((await runCli(['auth', 'disable'], env)).code, 0);
      const lockFile = `${stateFile({ home: home.home, server: 'local', profile: 'main' })}.lock`;

      const live = await holdLock(home.home);
      try {
        const blocked = await runCli(['auth', 'enable'], env);
        assert.notEqual(blocked.code, 0, 'a live holder keeps the lock');
        assert.match(blocked.stderr, /another gatehouse command is changing/);
      } finally {
        live.kill('SIGKILL');
        await killed(live);
      }
      assert.ok(existsSync(lockFile), 'SIGKILL left the lock file behind');

      const t0 = performance.now();
      const next = await runCli(['auth', 'enable'], env);
      const ms = performance.now() - t0;
      assert.equal(next.code, 0, next.stderr);
      assert.ok(ms < 5_000, `the next command ran at once (${Math.round(ms)} ms), not after the 10 s wait`);
      assert.ok(!existsSync(lockFile), 'and released the lock');
    },
  );
});
