// What every benchmark scenario shares: the processes it starts (killed and their temp dirs removed on
// exit, whatever happens), the load generators (wrk, the open-loop client) and small statistics.
// Scenarios live in scenarios.ts; run.ts only composes them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { TestClient } from '../test/support/client.js';
import { freePort } from '../src/exec-app.js';

export const REPO = new URL('..', import.meta.url).pathname;
export const GATEHOUSE_BIN = join(REPO, 'bin/gatehouse.js');
/** Sign-ups and sign-ins are benchmarked, not rate limited. */
export const BENCH_LIMITS = 'sign-in=100000000/1m,sign-up=100000/1m';
export const BENCH_PASSWORD = 'a long enough bench password';

const children: Array<{ child: ChildProcess; signal: NodeJS.Signals }> = [];
const temp: string[] = [];

function cleanup() {
  for (const { child, signal } of children)
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  for (const d of temp) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

export function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `gatehouse-bench-${name}-`));
  temp.push(d);
  return d;
}

/**
 * Starts a process that is killed when the benchmark exits, however it exits. `signal`: nginx's master
 * takes SIGTERM and stops its workers; killed outright, it would leave them listening.
 */
export function track(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): ChildProcess {
  children.push({ child, signal });
  return child;
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function waitFor(url: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const r = await request(url);
      await r.body.dump();
      if (r.statusCode < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/** Whether a command is on PATH: wrk and nginx are needed by some scenarios, not all. */
export function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** A Node helper script in bench/ that reports its port over IPC. */
export function startScript(file: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench', file), ...args], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
}

export interface BenchGatehouse {
  child: ChildProcess;
  url: string;
  home: string;
  pid: number;
  /** performance.now() at spawn, and milliseconds from spawn to the "listening on" line. */
  startedAt: number;
  listeningMs: number;
}

export function gatehouseEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_RATE_LIMITS: BENCH_LIMITS };
}

/**
 * `gatehouse serve` as a subprocess, resolved the moment it prints that it listens — not after a first
 * request, so a cold-start measurement sees the process exactly as the first visitor would. `bin`: the
 * bin/gatehouse.js of another (built) checkout, for a before/after comparison under the same load.
 */
export async function startGatehouse(
  upstream: string,
  opts: {
    disabled?: boolean;
    workers?: number;
    home?: string;
    bin?: string;
    env?: Record<string, string>;
    /** Node's own flags for the process (`--cpu-prof`: NODE_OPTIONS refuses it). */
    nodeArgs?: string[];
  } = {},
): Promise<BenchGatehouse> {
  const home = opts.home ?? tempDir('home');
  const env = { ...gatehouseEnv(home), ...opts.env };
  const bin = opts.bin ?? GATEHOUSE_BIN;
  if (opts.disabled) spawnSync(process.execPath, [bin, 'auth', 'disable'], { env });
  const port = await freePort();
  const args = [...(opts.nodeArgs ?? []), bin, 'serve', '--upstream', upstream, '--port', String(port)];
  if (opts.workers) args.push('--workers', String(opts.workers));
  const started = performance.now();
  const child = track(spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  const listeningMs = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start:\n${out}`)), 20_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited ${code}:\n${out}`));
    };
    child.once('exit', onExit);
    // Keep draining stderr after the line: a full pipe would stall the process being measured.
    child.stderr!.on('data', (d: Buffer) => {
      if (out.length > 64 * 1024) return;
      out += d;
      if (/listening on /.test(out)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(performance.now() - started);
        out = 'x'.repeat(64 * 1024 + 1); // stop collecting
      }
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, home, pid: child.pid!, startedAt: started, listeningMs };
}

/** Signs up a fresh account and returns its session cookie header. */
export async function signedInCookie(url: string, email: string): Promise<{ cookie: string }> {
  const client = new TestClient(url);
  const r = await client.signUp(email, BENCH_PASSWORD);
  if (r.status !== 303) throw new Error(`sign-up failed: ${r.status}`);
  return { cookie: client.cookieHeader()! };
}

export async function startNginx(upstreamPort: number): Promise<string> {
  const dir = tempDir('nginx');
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 2; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  client_max_body_size 2g; proxy_request_buffering off; proxy_buffering off;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}`,
  );
  track(
    spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] }),
    'SIGTERM',
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/2b`);
  return url;
}

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
}

export interface WrkOptions {
  headers?: Record<string, string>;
  script?: string;
  seconds: number;
  connections: number;
}

export function wrk(url: string, opts: WrkOptions): Promise<WrkResult> {
  const args = ['-t2', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.script) args.push('-s', opts.script);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      if (!rps) return reject(new Error(`wrk failed: ${out}`));
      const ms = (label: string) => {
        const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
        return m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
      };
      resolve({
        rps,
        p50ms: ms('50'),
        p99ms: ms('99'),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
      });
    });
  });
}

/** The machine's 1-minute load average per core: numbers taken above ~1 mostly measure the neighbours. */
export const loadPerCore = (): number => loadavg()[0]! / cpus().length;

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** CPU time (user + system) a process has used, in µs: far less sensitive to other load than throughput. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100; // clock ticks of 1/100 s (USER_HZ)
}
export const rssKiB = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
export const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function upstreamConnections(port: number): Promise<number> {
  const r = await request(`http://127.0.0.1:${port}/__stats`);
  return ((await r.body.json()) as { connections: number }).connections;
}

/** Memoises an async start-up, so scenarios that need nginx start it once and others never do. */
export function once<T>(start: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= start());
}
