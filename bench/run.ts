// `npm run bench` — Gatehouse against the alternatives, side by side in one run, and the targets of the
// performance issue checked. `npm run bench -- --quick` for a short run; `-- --only cold-start,micro`
// for some scenarios (those that need no wrk or nginx run without them); `--cold-rate=N` lowers the
// cold-start scenario's 2,000 req/s on a machine too busy to send that; BENCH_BASELINE=<another built
// checkout> adds it to the cold-start scenario, interleaved, for before/after. Results:
// bench/results/<time>.json. The scenarios are in scenarios.ts, one function each.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import {
  have,
  loadPerCore,
  once,
  REPO,
  signedInCookie,
  startGatehouse,
  startNginx,
  startScript,
  tempDir,
} from './harness.js';
import {
  scenarioColdStart,
  scenarioFileDescriptors,
  scenarioMemory,
  scenarioMicro,
  scenarioOpenLoop,
  scenarioStartup,
  scenarioStorm,
  scenarioThroughput,
  scenarioWebSocket,
  scenarioWorkers,
  type BenchContext,
  type Check,
  type ScenarioResult,
} from './scenarios.js';
import { scenarioAccessRules, scenarioAssertion, scenarioForwardAuth, scenarioOAuthToken } from './access.js';

/** In run order: the throughput table first, as before; workers last, since it reuses the table. */
const SCENARIOS: Array<{ name: string; needs: string[]; run(ctx: BenchContext): Promise<ScenarioResult> }> = [
  { name: 'throughput', needs: ['wrk', 'nginx'], run: scenarioThroughput },
  { name: 'open-loop', needs: [], run: scenarioOpenLoop },
  { name: 'websocket', needs: [], run: scenarioWebSocket },
  { name: 'storm', needs: ['wrk'], run: scenarioStorm },
  { name: 'memory', needs: [], run: scenarioMemory },
  { name: 'startup', needs: [], run: scenarioStartup },
  { name: 'cold-start', needs: [], run: scenarioColdStart },
  { name: 'fds', needs: ['wrk'], run: scenarioFileDescriptors },
  { name: 'workers', needs: ['wrk'], run: scenarioWorkers },
  { name: 'micro', needs: [], run: scenarioMicro },
  { name: 'access-rules', needs: ['wrk'], run: scenarioAccessRules },
  { name: 'assertion', needs: ['wrk'], run: scenarioAssertion },
  { name: 'forward-auth', needs: ['wrk', 'nginx'], run: scenarioForwardAuth },
  { name: 'oauth-token', needs: ['wrk'], run: scenarioOAuthToken },
];

async function main() {
  const started = Date.now();
  const quick = process.argv.includes('--quick');
  const onlyArg = process.argv.find((a, i) => process.argv[i - 1] === '--only' || a.startsWith('--only='));
  const only = onlyArg ? onlyArg.replace(/^--only=/, '').split(',') : null;
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length)
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name));

  // The subprocesses run the compiled CLI: compile first, so the bench never measures stale code.
  const build = spawnSync('npx', ['tsc', '-p', join(REPO, 'tsconfig.json')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('tsc failed');

  const { port: upstreamPort } = await startScript('upstream.ts', ['0']);
  const direct = `http://127.0.0.1:${upstreamPort}`;
  const ctx: BenchContext = {
    quick,
    duration: quick ? 2 : 5,
    connections: 50,
    rounds: 3,
    upstreamPort,
    direct,
    scratch: tempDir('scripts'),
    coldRate: Number(process.argv.find((a) => a.startsWith('--cold-rate='))?.slice('--cold-rate='.length) ?? 2000),
    baselineBin: process.env.BENCH_BASELINE ? join(process.env.BENCH_BASELINE, 'bin/gatehouse.js') : undefined,
    nginx: once(() => startNginx(upstreamPort)),
    httpProxy: once(async () => `http://127.0.0.1:${(await startScript('http-proxy.ts', [direct, '0'])).port}`),
    bare: once(() => startGatehouse(direct, { disabled: true })),
    gatehouse: once(async () => {
      const gh = await startGatehouse(direct);
      return { ...gh, session: await signedInCookie(gh.url, 'bench@example.com') };
    }),
  };

  const rows: string[] = [
    `\nGatehouse benchmark (${quick ? 'quick' : 'full'}; ${cpus().length} cores shared with the load generator; load ${loadPerCore().toFixed(1)} per core at the start)\n`,
  ];
  const checks: Check[] = [];
  const data: Record<string, unknown> = { quick };
  for (const s of chosen) {
    const missing = s.needs.filter((c) => !have(c));
    if (missing.length) {
      rows.push(`${s.name}: skipped (${missing.join(', ')} not installed)`);
      continue;
    }
    process.stdout.write(`— ${s.name}\n`);
    const r = await s.run(ctx);
    rows.push(...r.rows);
    checks.push(...r.checks);
    data[s.name] = r.data;
  }

  rows.push('\ntarget                                         value                          met');
  for (const [name, value, ok] of checks)
    rows.push(`  ${name.padEnd(45)} ${value.padEnd(30)} ${ok ? 'met' : 'NOT MET'}`);
  rows.push(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  process.stdout.write(rows.join('\n') + '\n');

  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  const file = join(
    REPO,
    'bench/results',
    `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`,
  );
  writeFileSync(file, JSON.stringify({ ...data, checks }, null, 2));
  process.stdout.write(`results: ${file}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
