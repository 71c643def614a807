// `npm run bench` — Gatehouse against the alternatives, side by side in one run, interleaved over
// rounds with the order rotated; medians of per-round ratios are checked against the targets of the
// performance issue. `npm run bench -- --quick` for a short run. Results: bench/results/<time>.json.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import WebSocket from 'ws';
import { TestClient } from '../test/support/client.js';
import { openLoop } from './open-loop.js';
import { micro } from './micro.js';
import { freePort } from '../src/exec-app.js';

const REPO = new URL('..', import.meta.url).pathname;
const QUICK = process.argv.includes('--quick');
const DURATION = QUICK ? 2 : 5; // seconds per wrk cell
const ROUNDS = 3;
const CONNECTIONS = 50;
const children: ChildProcess[] = [];
const temp: string[] = [];

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of temp) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));


function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `gatehouse-bench-${name}-`));
  temp.push(d);
  return d;
}

async function waitFor(url: string, timeoutMs = 15_000): Promise<void> {
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

/** A Node helper script that reports its port over IPC. */
function startScript(file: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench', file), ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
}

async function startGatehouse(upstream: string, opts: { disabled?: boolean; workers?: number } = {}): Promise<{ child: ChildProcess; url: string; home: string; pid: number }> {
  const home = tempDir('home');
  const env = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_RATE_LIMITS: 'sign-in=100000000/1m,sign-up=100000/1m' };
  if (opts.disabled) spawnSync(process.execPath, [join(REPO, 'bin/gatehouse.js'), 'auth', 'disable'], { env });
  const port = await freePort();
  const args = [join(REPO, 'bin/gatehouse.js'), 'serve', '--upstream', upstream, '--port', String(port)];
  if (opts.workers) args.push('--workers', String(opts.workers));
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/auth/health`);
  return { child, url, home, pid: child.pid! };
}

async function startNginx(upstreamPort: number): Promise<string> {
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
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/2b`);
  return url;
}

interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
}

function wrk(url: string, opts: { headers?: Record<string, string>; script?: string; seconds?: number; connections?: number } = {}): Promise<WrkResult> {
  const args = ['-t2', `-c${opts.connections ?? CONNECTIONS}`, `-d${opts.seconds ?? DURATION}s`, '--latency'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.script) args.push('-s', opts.script);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      if (!rps) return reject(new Error(`wrk failed: ${out}`));
      const ms = (label: string) => {
        const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
        return m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
      };
      resolve({ rps, p50ms: ms('50'), p99ms: ms('99'), non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
async function upstreamConnections(port: number): Promise<number> {
  const r = await request(`http://127.0.0.1:${port}/__stats`);
  return ((await r.body.json()) as { connections: number }).connections;
}

async function main() {
  const started = Date.now();
  spawnSync('npx', ['tsc', '-p', join(REPO, 'tsconfig.json')], { stdio: 'inherit' });
  const dir = tempDir('scripts');
  const postScript = join(dir, 'post.lua');
  writeFileSync(postScript, `wrk.method = "POST"\nwrk.body = string.rep("a", 65536)\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);

  const { port: upPort } = await startScript('upstream.ts', ['0']);
  const direct = `http://127.0.0.1:${upPort}`;
  const nginx = await startNginx(upPort);
  const { port: hpPort } = await startScript('http-proxy.ts', [direct, '0']);
  const httpProxy = `http://127.0.0.1:${hpPort}`;
  const bare = await startGatehouse(direct, { disabled: true });
  const gh = await startGatehouse(direct);
  const client = new TestClient(gh.url);
  const signUp = await client.signUp('bench@example.com', 'a long enough bench password');
  if (signUp.status !== 303) throw new Error(`sign-up failed: ${signUp.status}`);
  const session = { cookie: client.cookieHeader()! };

  type Variant = { name: string; url: string; headers?: Record<string, string> };
  const variants: Variant[] = [
    { name: 'direct', url: direct },
    { name: 'nginx', url: nginx },
    { name: 'http-proxy', url: httpProxy },
    { name: 'bare', url: bare.url },
    { name: 'gatehouse', url: gh.url, headers: session },
    { name: 'sign-in page', url: gh.url, headers: { accept: 'text/html' } },
  ];
  const profiles = QUICK
    ? [{ name: 'GET 2 B', path: '/2b' }]
    : [{ name: 'GET 2 B', path: '/2b' }, { name: 'GET 16 KiB', path: '/16k' }, { name: 'POST 64 KiB', path: '/upload', script: postScript }];

  const results: Record<string, Record<string, WrkResult[]>> = {};
  const connectionsBefore = await upstreamConnections(upPort);
  let gatehouseRequests = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const p of profiles) {
      for (const v of order) {
        if (v.name === 'sign-in page' && p.script) continue;
        const r = await wrk(v.url + p.path, { headers: v.headers, script: p.script });
        ((results[p.name] ??= {})[v.name] ??= []).push(r);
        if (v.name === 'gatehouse') gatehouseRequests += r.rps * DURATION;
        process.stdout.write(`round ${round + 1} ${p.name.padEnd(12)} ${v.name.padEnd(13)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms${r.non2xx && v.name !== 'sign-in page' ? `  NON-2XX ${r.non2xx}` : ''}\n`);
      }
    }
  }
  const connectionsAfter = await upstreamConnections(upPort);

  // Ratios per round, then the median of ratios.
  const ratio = (profile: string, a: string, b: string) => median(results[profile]![a]!.map((r, i) => r.rps / results[profile]![b]![i]!.rps));
  const spread = (profile: string, v: string) => {
    const xs = results[profile]![v]!.map((r) => r.rps);
    return (Math.max(...xs) - Math.min(...xs)) / median(xs);
  };

  // Open-loop latency at 2,000 req/s: Gatehouse (signed in) against the upstream directly.
  const olSeconds = QUICK ? 3 : 8;
  const olDirect = await openLoop(direct + '/2b', { rate: 2000, seconds: olSeconds });
  const olGate = await openLoop(gh.url + '/2b', { rate: 2000, seconds: olSeconds, headers: session });

  // WebSocket echo round trips over 1,000 open connections.
  const ws = async (base: string, headers: Record<string, string>) => {
    const sockets = await Promise.all(
      Array.from({ length: 1000 }, () => new Promise<WebSocket>((res, rej) => {
        const s = new WebSocket(base.replace('http', 'ws') + '/ws', { headers });
        s.once('open', () => res(s));
        s.once('error', rej);
      })),
    );
    const rtts: number[] = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all(sockets.map((s) => new Promise<void>((res) => {
        const t = performance.now();
        s.once('message', () => {
          rtts.push(performance.now() - t);
          res();
        });
        s.send('ping');
      })));
    }
    for (const s of sockets) s.terminate();
    rtts.sort((a, b) => a - b);
    return { p50: rtts[Math.floor(rtts.length / 2)]!, p99: rtts[Math.floor(rtts.length * 0.99)]! };
  };
  const wsDirect = await ws(direct, {});
  const wsGate = await ws(gh.url, session);

  // Sign-in storm: wrong passwords for ever-new emails (each costs a real argon2id hash) while
  // signed-in traffic is measured; compared with the same traffic when quiet.
  const csrfClient = new TestClient(gh.url);
  const csrf = /name="csrf" value="([^"]+)"/.exec((await csrfClient.get('/auth/sign-in')).text)![1]!;
  const stormScript = join(dir, 'storm.lua');
  writeFileSync(stormScript, `counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/auth/sign-in", { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "${csrfClient.cookieHeader()}", ["Origin"] = "${gh.url}" }, "email=storm" .. counter .. "%40example.com&password=wrong+password+here&csrf=${encodeURIComponent(csrf)}")
end\n`);
  const quiet = await wrk(gh.url + '/2b', { headers: session, connections: 40 });
  const [stormy, storm] = await Promise.all([wrk(gh.url + '/2b', { headers: session, connections: 40 }), wrk(gh.url, { script: stormScript, connections: 10 })]);

  // Memory: RSS while a 1 GiB upload streams through; growth per cached session.
  const loadedRss = rssKiB(gh.pid);
  let peakRss = loadedRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKiB(gh.pid))), 50);
  const uploadBytes = QUICK ? 256 * 1024 ** 2 : 1024 ** 3;
  const chunk = Buffer.alloc(1024 * 1024, 'u');
  async function* body() {
    for (let sent = 0; sent < uploadBytes; sent += chunk.length) yield chunk;
  }
  // undici's types take a Readable, not a bare async generator.
  const up = await request(gh.url + '/upload', { method: 'POST', body: Readable.from(body()), headers: { ...session, 'content-type': 'application/octet-stream' } });
  const echoed = Number(await up.body.text());
  clearInterval(sampler);
  const sessionsRss = await sessionMemory(gh, QUICK ? 5_000 : 20_000);

  // Cold start: spawn → first 200 on /auth/health with a fresh home (state written, migrations run).
  // Idle RSS: the same fresh instance, a second after it answered, having served one signed-out page.
  const cold: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const g = await startGatehouse(direct);
    cold.push(performance.now() - t);
    await (await request(g.url + '/auth/sign-in')).body.dump();
    await new Promise((r) => setTimeout(r, 1000));
    idle.push(rssKiB(g.pid));
    g.child.kill('SIGTERM');
  }
  const idleRss = median(idle);

  // File descriptors at steady state: after one long signed-in run, and again after a second one.
  // Counted once idle keep-alive sockets have timed out (5 s), so only leaks remain.
  const settle = () => new Promise((r) => setTimeout(r, 6000));
  await wrk(gh.url + '/2b', { headers: session, seconds: QUICK ? 2 : 10 });
  await settle();
  const fdBefore = fdCount(gh.pid);
  const long = await wrk(gh.url + '/2b', { headers: session, seconds: QUICK ? 3 : 20 });
  await settle();
  const fdAfter = fdCount(gh.pid);

  // --workers 2 against 1 on this 2-core machine.
  const two = await startGatehouse(direct, { workers: 2 });
  const twoClient = new TestClient(two.url);
  await twoClient.signUp('bench2@example.com', 'a long enough bench password');
  const w2 = await wrk(two.url + '/2b', { headers: { cookie: twoClient.cookieHeader()! } });
  const w1 = median(results['GET 2 B']!.gatehouse!.map((r) => r.rps));

  const m = await micro(QUICK);

  const targets = [
    ['gatehouse ≥ 0.90 × bare (GET 2 B)', ratio('GET 2 B', 'gatehouse', 'bare'), 0.9],
    ['gatehouse ≥ 1.5 × http-proxy (GET 2 B)', ratio('GET 2 B', 'gatehouse', 'http-proxy'), 1.5],
    ['gatehouse ≥ 0.40 × nginx (GET 2 B)', ratio('GET 2 B', 'gatehouse', 'nginx'), 0.4],
  ] as Array<[string, number, number]>;
  const checks: Array<[string, string, boolean]> = [
    ...targets.map(([name, value, min]) => [name, value.toFixed(2), value >= min] as [string, string, boolean]),
    ['open-loop 2k/s added p50 ≤ 0.3 ms', `${(olGate.p50 - olDirect.p50).toFixed(3)} ms`, olGate.p50 - olDirect.p50 <= 0.3],
    ['open-loop 2k/s added p99 ≤ 2 ms', `${(olGate.p99 - olDirect.p99).toFixed(3)} ms`, olGate.p99 - olDirect.p99 <= 2],
    ['sign-in storm: traffic ≥ 0.80 × quiet', `${(stormy.rps / quiet.rps).toFixed(2)} (${storm.rps.toFixed(0)} sign-ins/s)`, stormy.rps / quiet.rps >= 0.8],
    ['idle RSS ≤ 80 MiB', `${(idleRss / 1024).toFixed(1)} MiB`, idleRss <= 80 * 1024],
    ['≤ 1 KiB per cached session', `${sessionsRss.toFixed(2)} KiB`, sessionsRss <= 1],
    [`RSS flat during a ${uploadBytes / 1024 ** 2} MiB upload`, `+${((peakRss - loadedRss) / 1024).toFixed(1)} MiB, ${echoed === uploadBytes ? 'intact' : 'CORRUPT'}`, peakRss - loadedRss < 64 * 1024 && echoed === uploadBytes],
    ['cold start ≤ 1 s', `${median(cold).toFixed(0)} ms`, median(cold) <= 1000],
    ['new upstream connections ≤ 1 % of requests', `${connectionsAfter - connectionsBefore} for ${Math.round(gatehouseRequests)} gatehouse requests (all variants share the upstream)`, connectionsAfter - connectionsBefore <= 0.01 * gatehouseRequests],
    // Keep-alive sockets come and go with the load generator's connections; growth with requests would not.
    ['no fd growth over a long run', `${fdBefore} → ${fdAfter} fds over ${Math.round(long.rps * (QUICK ? 3 : 20))} requests`, fdAfter <= fdBefore + 16],
    ['password hash (argon2id m=19 MiB t=2) 3–200 ms', `${m.hashMs.toFixed(1)} ms`, m.hashMs >= 3 && m.hashMs <= 200],
  ];

  const lines: string[] = [];
  lines.push(`\nGatehouse benchmark (${QUICK ? 'quick' : 'full'}; wrk -t2 -c${CONNECTIONS} ${DURATION}s × ${ROUNDS} rounds, order rotated; 2 cores shared with the load generator)\n`);
  for (const [profile, byVariant] of Object.entries(results)) {
    lines.push(`${profile}`);
    for (const [v, rs] of Object.entries(byVariant)) {
      const s = spread(profile, v);
      lines.push(`  ${v.padEnd(13)} ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} req/s   p50 ${median(rs.map((r) => r.p50ms)).toFixed(2)} ms   p99 ${median(rs.map((r) => r.p99ms)).toFixed(2)} ms${s > 0.25 ? `   ⚠ spread ${(s * 100).toFixed(0)} % (machine busy)` : ''}`);
    }
  }
  lines.push(`\nopen loop 2,000 req/s: direct p50 ${olDirect.p50.toFixed(3)} / p99 ${olDirect.p99.toFixed(3)} ms; gatehouse p50 ${olGate.p50.toFixed(3)} / p99 ${olGate.p99.toFixed(3)} ms (errors ${olGate.errors})`);
  lines.push(`websocket echo, 1,000 connections: direct p50 ${wsDirect.p50.toFixed(2)} / p99 ${wsDirect.p99.toFixed(2)} ms; gatehouse p50 ${wsGate.p50.toFixed(2)} / p99 ${wsGate.p99.toFixed(2)} ms`);
  lines.push(`--workers 2: ${w2.rps.toFixed(0)} req/s vs 1 worker ${w1.toFixed(0)} req/s (×${(w2.rps / w1).toFixed(2)} on 2 cores shared with wrk)`);
  lines.push(`micro: cookie verify + cached session ${m.cachedUs.toFixed(2)} µs; uncached (SQLite) ${m.uncachedUs.toFixed(1)} µs; argon2id hash ${m.hashMs.toFixed(1)} ms`);
  lines.push('\ntarget                                         value                          met');
  for (const [name, value, ok] of checks) lines.push(`  ${name.padEnd(45)} ${value.padEnd(30)} ${ok ? 'met' : 'NOT MET'}`);
  lines.push(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
  process.stdout.write(lines.join('\n') + '\n');

  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  const file = join(REPO, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify({ quick: QUICK, duration: DURATION, rounds: ROUNDS, results, openLoop: { direct: olDirect, gatehouse: olGate }, websocket: { direct: wsDirect, gatehouse: wsGate }, storm: { quiet, stormy, storm }, memory: { idleRssKiB: idleRss, loadedRssKiB: loadedRss, peakUploadRssKiB: peakRss, perSessionKiB: sessionsRss }, coldStartMs: cold, fd: { before: fdBefore, after: fdAfter }, workers: { one: w1, two: w2.rps }, micro: m, checks }, null, 2));
  process.stdout.write(`results: ${file}\n`);
}

/** RSS growth per session held in Gatehouse's cache: N sessions created in the store, each used once. */
async function sessionMemory(gh: { url: string; home: string; pid: number }, n: number): Promise<number> {
  const { openStore } = await import('../src/store/open.js');
  const { createSessionService } = await import('../src/session/sessions.js');
  const { readState } = await import('../src/config/state.js');
  const { loadMasterKey, unseal } = await import('../src/config/secrets.js');
  const scope = { home: gh.home, server: 'local', profile: 'main' };
  const state = readState(scope)!;
  const secret = Buffer.from(unseal(state.auth.secret!, loadMasterKey(gh.home, {})), 'base64url');
  const store = await openStore(`sqlite:${join(gh.home, 'local.main.sqlite')}`);
  await store.migrate();
  // One user per session, as in real life (no sharing of identities between cache entries).
  const svc = createSessionService(store, secret, { idleMs: 86_400_000, absoluteMs: 86_400_000 });
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const user = await store.createUser({ email: `mem${i}@example.com`, name: `Member ${i}`, role: 'member', passwordHash: null, emailVerified: true }, new Date());
    cookies.push((await svc.create(user, 'password', { ip: null, userAgent: null })).cookieValue);
  }
  await store.close();
  const use = async (from: number, to: number) => {
    for (let i = from; i < to; i += 50) {
      await Promise.all(cookies.slice(i, Math.min(to, i + 50)).map(async (c) => (await request(gh.url + '/2b', { headers: { cookie: `gatehouse_session=${c}` } })).body.dump()));
    }
  };
  await use(0, 500); // warm up allocator and code paths first
  const before = rssKiB(gh.pid);
  await use(500, n);
  return (rssKiB(gh.pid) - before) / (n - 500);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
