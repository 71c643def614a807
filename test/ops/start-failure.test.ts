// A start that fails must end the process at once with one sentence: `gatehouse serve --demo` on a
// busy port used to print the error and then hang, its demo app keeping the event loop alive — a
// container that never restarts, a supervisor that never notices.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO, tempHome } from '../support/gatehouse.js';

const LIMIT_MS = 10_000;

interface Ended {
  code: number | null;
  stderr: string;
  ms: number;
  hung: boolean;
}

/** Runs the real binary; a process still alive after LIMIT_MS is killed and reported as hung. */
function runWithin(args: string[], env: Record<string, string>): Promise<Ended> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [join(REPO, 'bin/gatehouse.js'), ...args], {
      env: { ...process.env, ...env },
      cwd: REPO,
    });
    let stderr = '';
    let hung = false;
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - started, hung });
    });
  });
}

describe('serve on a busy port', () => {
  let busy: Server;
  let port: number;
  let home: ReturnType<typeof tempHome>;
  before(async () => {
    home = tempHome();
    busy = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
    home.cleanup();
  });

  const assertFailsFast = (r: Ended) => {
    assert.equal(r.hung, false, `still running after ${LIMIT_MS} ms:\n${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`gatehouse: .*port ${port} is already in use \\(EADDRINUSE\\)`));
    assert.doesNotMatch(r.stderr, /^ {4}at /m, 'no stack trace');
  };

  it('--demo exits 1 at once with one sentence', async () => {
    assertFailsFast(await runWithin(['serve', '--demo', '--port', String(port)], { GATEHOUSE_HOME: home.home }));
  });

  it('--upstream exits 1 at once with one sentence', async () => {
    assertFailsFast(
      await runWithin(['serve', '--upstream', 'http://127.0.0.1:9', '--port', String(port)], {
        GATEHOUSE_HOME: home.home,
      }),
    );
  });
});
