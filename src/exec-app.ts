// Exec mode (`gatehouse serve --exec "node app.js"`): for one-container deployments, Gatehouse starts
// the app as its child on an internal port (given as PORT, bound to 127.0.0.1 via HOST), forwards
// signals to it, and exits with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface ExecutedApp {
  upstream: string;
  child: ChildProcess;
  /** Resolves with the child's exit code once it has exited. */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** A port the OS says is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function execApp(
  command: string,
  env: NodeJS.ProcessEnv,
  opts: { port?: number; readyTimeoutMs?: number } = {},
): Promise<ExecutedApp> {
  const port = opts.port ?? (await freePort());
  // Its own process group: the command runs under `sh -c`, and a signal must reach the app itself, not
  // only the shell (which would leave the app orphaned and running).
  const child = spawn(command, {
    shell: true,
    detached: true,
    stdio: 'inherit',
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      child.kill(signal);
    }
  };
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 15) : 1))),
  );
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let gone = false;
  void exited.then(() => (gone = true));
  while (!(await accepts(port))) {
    if (gone) throw new Error(`the app ("${command}") exited before it listened on port ${port}`);
    if (Date.now() > deadline) {
      signalGroup('SIGTERM');
      throw new Error(
        `the app ("${command}") did not listen on PORT=${port} within ${(opts.readyTimeoutMs ?? 30_000) / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    upstream: `http://127.0.0.1:${port}`,
    child,
    exited,
    async stop(signal = 'SIGTERM') {
      if (!gone) signalGroup(signal);
      const timer = setTimeout(() => !gone && signalGroup('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}
