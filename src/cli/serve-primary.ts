// `gatehouse serve --workers N`: the primary process. It prepares the state once (so every worker
// shares one signing secret), prints the setup link once, then forks N workers that share the
// listening socket; it restarts a worker that dies and, on SIGTERM, lets every worker drain first.
import cluster from 'node:cluster';
import { setupLinkLine } from '../auth/setup-link.js';
import { AUTH_PREFIX } from '../config/prefix.js';
import { loadMasterKey } from '../config/secrets.js';
import type { Scope } from '../config/state.js';
import { prepareState } from '../main.js';
import { openStoreFor } from '../store/open.js';
import type { Io } from './common.js';

export async function runPrimary(workers: number, scope: Scope, io: Io, origin: string): Promise<number> {
  await announceSetup(scope, io, origin);
  // The kernel spreads connections across workers; round-robin through the primary costs an IPC hop.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let announced = false;
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: { listening?: string; target?: string }) => {
      if (m.listening && !announced) {
        announced = true;
        const where = `server "${scope.server}", profile "${scope.profile}"`;
        io.err(`gatehouse: listening on ${m.listening} → ${m.target} with ${workers} workers (${where})`);
      }
    });
  };
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (w, code) => {
    if (stopping) return;
    io.err(`gatehouse: worker ${w.id} exited (${code}); starting another`);
    fork();
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      io.err(`gatehouse: ${signal}: draining ${workers} workers, then exiting`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
      const check = () => (Object.keys(cluster.workers ?? {}).length === 0 ? resolve() : setTimeout(check, 50));
      check();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** Workers do not print the setup link (N copies would each be valid): the primary does, once. */
async function announceSetup(scope: Scope, io: Io, origin: string): Promise<void> {
  const masterKey = loadMasterKey(scope.home, io.env);
  const state = prepareState(scope, masterKey, (line) => io.err(`gatehouse: ${line}`), io.env);
  if (!state.auth.enabled) return;
  const store = await openStoreFor(scope, state, masterKey, io.env);
  try {
    await store.migrate();
    const line = await setupLinkLine(store, origin, AUTH_PREFIX, Date.now());
    if (line) io.err(`gatehouse: ${line}`);
  } finally {
    await store.close();
  }
}
