// A one-off look at where the assertion's cost is: two Gatehouse processes (assertion on, off) under the
// same wrk load, each with its CPU time per request, and optionally a CPU profile of each
// (`--cpu-prof DIR`: node writes one .cpuprofile per process on exit). Not part of `npm run bench`.
import { cpuMicros, signedInCookie, startGatehouse, startScript, wrk } from './harness.js';

const dirArg = process.argv.indexOf('--cpu-prof');
const profDir = dirArg > 0 ? process.argv[dirArg + 1] : null;
const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 5);
const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];

const { port } = await startScript('upstream.ts', ['0']);
const direct = `http://127.0.0.1:${port}`;
const on = await startGatehouse(direct, { nodeArgs, env: { BENCH_SIDE: 'on' } });
const off = await startGatehouse(direct, { nodeArgs, env: { GATEHOUSE_ASSERTION: 'off', BENCH_SIDE: 'off' } });
process.stdout.write(`pids: on ${on.pid}, off ${off.pid}\n`);
const sides = [
  { name: 'on', gh: on, headers: await signedInCookie(on.url, 'p-on@example.com') },
  { name: 'off', gh: off, headers: await signedInCookie(off.url, 'p-off@example.com') },
];
for (const s of sides) await wrk(`${s.gh.url}/2b`, { headers: s.headers, seconds: 1, connections: 50 });
for (let round = 0; round < 3; round++) {
  for (const s of round % 2 ? [...sides].reverse() : sides) {
    const before = cpuMicros(s.gh.pid);
    const r = await wrk(`${s.gh.url}/2b`, { headers: s.headers, seconds, connections: 50 });
    const cpu = (cpuMicros(s.gh.pid) - before) / (r.rps * seconds);
    const rps = r.rps.toFixed(0).padStart(6);
    process.stdout.write(`${s.name.padEnd(4)} ${rps} req/s  ${cpu.toFixed(1)} µs CPU/request\n`);
  }
}
for (const s of sides) s.gh.child.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 1500));
process.exit(0);
