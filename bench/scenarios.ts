// The benchmark's scenarios, one function each: it measures, and returns the lines to print, the
// checks against the performance issue's targets and the raw data for bench/results/*.json. They share
// processes through the context (started lazily, once), so `--only cold-start` starts no nginx.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { TestClient } from '../test/support/client.js';
import { openLoop, window, type LatencySummary, type OpenLoopResult } from './open-loop.js';
import { micro } from './micro.js';
import {
  cpuMicros,
  fdCount,
  REPO,
  loadPerCore,
  median,
  rssKiB,
  signedInCookie,
  sleep,
  startGatehouse,
  stopChild,
  tempDir,
  upstreamConnections,
  waitFor,
  wrk,
  type BenchGatehouse,
  type WrkResult,
} from './harness.js';

export type Check = [name: string, value: string, met: boolean];

export interface ScenarioResult {
  rows: string[];
  checks: Check[];
  data: Record<string, unknown>;
}

export interface BenchContext {
  quick: boolean;
  /** Seconds per wrk cell, connections per wrk run, rounds of the throughput table. */
  duration: number;
  connections: number;
  rounds: number;
  upstreamPort: number;
  direct: string;
  scratch: string;
  nginx(): Promise<string>;
  httpProxy(): Promise<string>;
  /** Gatehouse with auth switched off: forwarding only. */
  bare(): Promise<BenchGatehouse>;
  /** Gatehouse with one signed-in account; `session` is its cookie header. */
  gatehouse(): Promise<BenchGatehouse & { session: { cookie: string } }>;
  /** Requests per second of the cold-start scenario: 2,000 (the issue's), lower with --cold-rate=N on a busy machine. */
  coldRate: number;
  /** Another built checkout (BENCH_BASELINE=/path/to/checkout) that cold-start also measures, interleaved. */
  baselineBin?: string;
  /** Filled by the throughput scenario for the ones that compare with it. */
  gatehouseRps2b?: number;
}

const fmt = (s: LatencySummary) =>
  `p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)} / max ${s.max.toFixed(1)} ms (${s.n})`;

/** Gatehouse against the alternatives, interleaved over rounds with the order rotated; ratios are medians of per-round ratios. */
export async function scenarioThroughput(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await ctx.gatehouse();
  const postScript = join(ctx.scratch, 'post.lua');
  writeFileSync(
    postScript,
    `wrk.method = "POST"\nwrk.body = string.rep("a", 65536)\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
  );
  type Variant = { name: string; url: string; headers?: Record<string, string>; pid?: number };
  const variants: Variant[] = [
    { name: 'direct', url: ctx.direct },
    { name: 'nginx', url: await ctx.nginx() },
    { name: 'http-proxy', url: await ctx.httpProxy() },
    { name: 'bare', url: (await ctx.bare()).url, pid: (await ctx.bare()).pid },
    { name: 'gatehouse', url: gh.url, headers: gh.session, pid: gh.pid },
    // Its own instance: 30k redirects a second through the signed-in instance would measure their garbage
    // against the signed-in path, which "bare" (a fresh instance) never pays.
    { name: 'sign-in page', url: (await startGatehouse(ctx.direct)).url, headers: { accept: 'text/html' } },
  ];
  const profiles = ctx.quick
    ? [{ name: 'GET 2 B', path: '/2b' }]
    : [
        { name: 'GET 2 B', path: '/2b' },
        { name: 'GET 16 KiB', path: '/16k' },
        { name: 'POST 64 KiB', path: '/upload', script: postScript },
      ];

  const results: Record<string, Record<string, WrkResult[]>> = {};
  // CPU time per request of the Gatehouse variants: the hot path's own cost, which other load on the
  // machine moves far less than it moves throughput.
  const cpuPerRequest: Record<string, Record<string, number[]>> = {};
  const connectionsBefore = await upstreamConnections(ctx.upstreamPort);
  let gatehouseRequests = 0;
  for (let round = 0; round < ctx.rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const p of profiles) {
      for (const v of order) {
        if (v.name === 'sign-in page' && p.script) continue;
        const cpuBefore = v.pid ? cpuMicros(v.pid) : 0;
        const r = await wrk(v.url + p.path, {
          headers: v.headers,
          script: p.script,
          seconds: ctx.duration,
          connections: ctx.connections,
        });
        ((results[p.name] ??= {})[v.name] ??= []).push(r);
        if (v.pid)
          ((cpuPerRequest[p.name] ??= {})[v.name] ??= []).push((cpuMicros(v.pid) - cpuBefore) / (r.rps * ctx.duration));
        if (v.name === 'gatehouse') gatehouseRequests += r.rps * ctx.duration;
        process.stdout.write(
          `round ${round + 1} ${p.name.padEnd(12)} ${v.name.padEnd(13)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms${r.non2xx && v.name !== 'sign-in page' ? `  NON-2XX ${r.non2xx}` : ''}\n`,
        );
      }
    }
  }
  const newConnections = (await upstreamConnections(ctx.upstreamPort)) - connectionsBefore;
  ctx.gatehouseRps2b = median(results['GET 2 B']!.gatehouse!.map((r) => r.rps));

  const ratio = (profile: string, a: string, b: string) =>
    median(results[profile]![a]!.map((r, i) => r.rps / results[profile]![b]![i]!.rps));
  const spread = (profile: string, v: string) => {
    const xs = results[profile]![v]!.map((r) => r.rps);
    return (Math.max(...xs) - Math.min(...xs)) / median(xs);
  };
  const rows = [
    `wrk -t2 -c${ctx.connections} ${ctx.duration}s × ${ctx.rounds} rounds, order rotated; 2 cores shared with the load generator`,
  ];
  for (const [profile, byVariant] of Object.entries(results)) {
    rows.push(profile);
    for (const [v, rs] of Object.entries(byVariant)) {
      const s = spread(profile, v);
      const cpu = cpuPerRequest[profile]?.[v];
      rows.push(
        `  ${v.padEnd(13)} ${median(rs.map((r) => r.rps))
          .toFixed(0)
          .padStart(
            7,
          )} req/s   p50 ${median(rs.map((r) => r.p50ms)).toFixed(2)} ms   p99 ${median(rs.map((r) => r.p99ms)).toFixed(2)} ms${cpu ? `   ${median(cpu).toFixed(0)} µs CPU/request` : ''}${s > 0.25 ? `   ⚠ spread ${(s * 100).toFixed(0)} % (machine busy)` : ''}`,
      );
    }
  }
  const cpu2b = cpuPerRequest['GET 2 B']!;
  rows.push(
    `CPU per request, bare / gatehouse (GET 2 B): ${(median(cpu2b.bare!) / median(cpu2b.gatehouse!)).toFixed(2)} (1.00: signing in costs nothing per request)`,
  );
  const targets: Array<[string, number, number]> = [
    ['gatehouse ≥ 0.90 × bare (GET 2 B)', ratio('GET 2 B', 'gatehouse', 'bare'), 0.9],
    ['gatehouse ≥ 1.5 × http-proxy (GET 2 B)', ratio('GET 2 B', 'gatehouse', 'http-proxy'), 1.5],
    ['gatehouse ≥ 0.40 × nginx (GET 2 B)', ratio('GET 2 B', 'gatehouse', 'nginx'), 0.4],
  ];
  return {
    rows,
    checks: [
      ...targets.map(([name, value, min]): Check => [name, value.toFixed(2), value >= min]),
      [
        'new upstream connections ≤ 1 % of requests',
        `${newConnections} for ${Math.round(gatehouseRequests)} gatehouse requests (all variants share the upstream)`,
        newConnections <= 0.01 * gatehouseRequests,
      ],
    ],
    data: { results, cpuPerRequest, newUpstreamConnections: newConnections },
  };
}

/** Open-loop latency at 2,000 req/s (no coordinated omission): signed-in Gatehouse against the upstream directly. */
export async function scenarioOpenLoop(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await ctx.gatehouse();
  const seconds = ctx.quick ? 3 : 8;
  const direct = await openLoop(ctx.direct + '/2b', { rate: 2000, seconds });
  const gate = await openLoop(gh.url + '/2b', { rate: 2000, seconds, headers: gh.session });
  const strip = ({ points: _points, ...rest }: OpenLoopResult) => rest;
  return {
    rows: [
      `open loop 2,000 req/s: direct p50 ${direct.p50.toFixed(3)} / p99 ${direct.p99.toFixed(3)} ms; gatehouse p50 ${gate.p50.toFixed(3)} / p99 ${gate.p99.toFixed(3)} ms (errors ${gate.errors})`,
    ],
    checks: [
      ['open-loop 2k/s added p50 ≤ 0.3 ms', `${(gate.p50 - direct.p50).toFixed(3)} ms`, gate.p50 - direct.p50 <= 0.3],
      ['open-loop 2k/s added p99 ≤ 2 ms', `${(gate.p99 - direct.p99).toFixed(3)} ms`, gate.p99 - direct.p99 <= 2],
    ],
    data: { direct: strip(direct), gatehouse: strip(gate) },
  };
}

/** WebSocket echo round trips over 1,000 open connections. */
export async function scenarioWebSocket(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await ctx.gatehouse();
  const ws = async (base: string, headers: Record<string, string>) => {
    const sockets = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<WebSocket>((res, rej) => {
            const s = new WebSocket(base.replace('http', 'ws') + '/ws', { headers });
            s.once('open', () => res(s));
            s.once('error', rej);
          }),
      ),
    );
    const rtts: number[] = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise<void>((res) => {
              const t = performance.now();
              s.once('message', () => {
                rtts.push(performance.now() - t);
                res();
              });
              s.send('ping');
            }),
        ),
      );
    }
    for (const s of sockets) s.terminate();
    rtts.sort((a, b) => a - b);
    return { p50: rtts[Math.floor(rtts.length / 2)]!, p99: rtts[Math.floor(rtts.length * 0.99)]! };
  };
  const direct = await ws(ctx.direct, {});
  const gate = await ws(gh.url, gh.session);
  return {
    rows: [
      `websocket echo, 1,000 connections: direct p50 ${direct.p50.toFixed(2)} / p99 ${direct.p99.toFixed(2)} ms; gatehouse p50 ${gate.p50.toFixed(2)} / p99 ${gate.p99.toFixed(2)} ms`,
    ],
    checks: [],
    data: { direct, gatehouse: gate },
  };
}

/**
 * Sign-in storm: wrong passwords for ever-new emails (each costs a real argon2id hash) while signed-in
 * traffic is measured; compared with the same traffic when quiet.
 */
export async function scenarioStorm(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await ctx.gatehouse();
  const csrfClient = new TestClient(gh.url);
  const csrf = /name="csrf" value="([^"]+)"/.exec((await csrfClient.get('/auth/sign-in')).text)![1]!;
  const stormScript = join(ctx.scratch, 'storm.lua');
  writeFileSync(
    stormScript,
    `counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/auth/sign-in", { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "${csrfClient.cookieHeader()}", ["Origin"] = "${gh.url}" }, "email=storm" .. counter .. "%40example.com&password=wrong+password+here&csrf=${encodeURIComponent(csrf)}")
end\n`,
  );
  const cell = { seconds: ctx.duration, connections: 40 };
  const quiet = await wrk(gh.url + '/2b', { ...cell, headers: gh.session });
  const [stormy, storm] = await Promise.all([
    wrk(gh.url + '/2b', { ...cell, headers: gh.session }),
    wrk(gh.url, { seconds: ctx.duration, connections: 10, script: stormScript }),
  ]);
  return {
    rows: [
      `sign-in storm: ${stormy.rps.toFixed(0)} req/s signed-in traffic during ${storm.rps.toFixed(0)} sign-ins/s; ${quiet.rps.toFixed(0)} req/s when quiet`,
    ],
    checks: [
      [
        'sign-in storm: traffic ≥ 0.80 × quiet',
        `${(stormy.rps / quiet.rps).toFixed(2)} (${storm.rps.toFixed(0)} sign-ins/s)`,
        stormy.rps / quiet.rps >= 0.8,
      ],
    ],
    data: { quiet, stormy, storm },
  };
}

/**
 * Memory: RSS while a large upload streams through; what each cached session keeps. The check is the
 * retained heap of an idle cached session (session-heap.ts, after full collections); RSS growth while
 * sessions sign in is printed beside it — it also counts garbage not yet collected and the assertions
 * of sessions active in the last half-minute.
 */
export async function scenarioMemory(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await ctx.gatehouse();
  const loadedRss = rssKiB(gh.pid);
  let peakRss = loadedRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKiB(gh.pid))), 50);
  const uploadBytes = ctx.quick ? 256 * 1024 ** 2 : 1024 ** 3;
  const chunk = Buffer.alloc(1024 * 1024, 'u');
  async function* body() {
    for (let sent = 0; sent < uploadBytes; sent += chunk.length) yield chunk;
  }
  // undici's types take a Readable, not a bare async generator.
  const up = await request(gh.url + '/upload', {
    method: 'POST',
    body: Readable.from(body()),
    headers: { ...gh.session, 'content-type': 'application/octet-stream' },
  });
  const echoed = Number(await up.body.text());
  clearInterval(sampler);
  const perSession = await sessionMemory(gh, ctx.quick ? 5_000 : 20_000);
  const retained = retainedPerSession(ctx.quick ? 4_000 : 10_000);
  const idleKiB = retained.idleBytes / 1024;
  return {
    rows: [
      `memory: +${((peakRss - loadedRss) / 1024).toFixed(1)} MiB during a ${uploadBytes / 1024 ** 2} MiB upload; RSS +${perSession.toFixed(2)} KiB per session signing in`,
      `  retained heap per cached session: ${idleKiB.toFixed(2)} KiB idle, ${(retained.activeBytes / 1024).toFixed(2)} KiB while active (its assertion held for 30 s)`,
    ],
    checks: [
      ['≤ 1 KiB per cached session (retained heap, idle)', `${idleKiB.toFixed(2)} KiB`, idleKiB <= 1],
      [
        `RSS flat during a ${uploadBytes / 1024 ** 2} MiB upload`,
        `+${((peakRss - loadedRss) / 1024).toFixed(1)} MiB, ${echoed === uploadBytes ? 'intact' : 'CORRUPT'}`,
        peakRss - loadedRss < 64 * 1024 && echoed === uploadBytes,
      ],
    ],
    data: {
      loadedRssKiB: loadedRss,
      peakUploadRssKiB: peakRss,
      perSessionKiB: perSession,
      retainedPerSession: retained,
    },
  };
}

/**
 * Start-up: spawn → first 200 on /auth/health with a fresh home (state written, migrations run); idle
 * RSS of the same fresh instance a second after it served one signed-out page.
 */
export async function scenarioStartup(ctx: BenchContext): Promise<ScenarioResult> {
  const listening: number[] = [];
  const healthy: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < 3; i++) {
    const g = await startGatehouse(ctx.direct);
    listening.push(g.listeningMs);
    await waitFor(g.url + '/auth/health');
    healthy.push(performance.now() - g.startedAt);
    await (await request(g.url + '/auth/sign-in')).body.dump();
    await sleep(1000);
    idle.push(rssKiB(g.pid));
    await stopChild(g.child);
  }
  const idleRss = median(idle);
  return {
    rows: [
      `start-up: listening after ${listening.map((ms) => ms.toFixed(0)).join(' / ')} ms, healthy after ${healthy.map((ms) => ms.toFixed(0)).join(' / ')} ms; idle RSS ${(idleRss / 1024).toFixed(1)} MiB`,
    ],
    checks: [
      ['cold start (spawn → healthy) ≤ 1 s', `${median(healthy).toFixed(0)} ms`, median(healthy) <= 1000],
      ['idle RSS ≤ 80 MiB', `${(idleRss / 1024).toFixed(1)} MiB`, idleRss <= 80 * 1024],
    ],
    data: { listeningMs: listening, coldStartMs: healthy, idleRssKiB: idle },
  };
}

/**
 * Cold start under load: `gatehouse serve` restarted on a home where a user is already signed in (a
 * deploy), and 2,000 req/s open loop from the moment it says it listens, for 3 s. What the first second's
 * requests pay (connections to the app, code not yet optimised, the first session lookups) against the
 * same load sent straight to the app by an equally fresh client. Also the bare forwarding path, and
 * with BENCH_BASELINE another checkout's build ("before"), run interleaved with this one.
 */
export async function scenarioColdStart(ctx: BenchContext): Promise<ScenarioResult> {
  const runs = ctx.quick ? 1 : 3;
  const seconds = 3;
  const rate = ctx.coldRate;
  // The account exists before the measured start, as after a restart: sign up on a first process.
  const home = tempDir('cold');
  const first = await startGatehouse(ctx.direct, { home });
  const session = await signedInCookie(first.url, 'cold@example.com');
  await stopChild(first.child);
  const bareHome = tempDir('cold-bare');
  await stopChild((await startGatehouse(ctx.direct, { home: bareHome, disabled: true })).child);

  // The load generator's own first requests are slow too (its code is cold as well): warm it once on
  // the app so neither variant pays for the client.
  await openLoop(ctx.direct + '/2b', { rate, seconds: 0.5 });

  type Run = { first: LatencySummary; after: LatencySummary; errors: number; listeningMs: number };
  const measure = (r: OpenLoopResult, listeningMs: number): Run => ({
    first: window(r, 0, 1000),
    after: window(r, 1000),
    errors: r.errors,
    listeningMs,
  });
  const byVariant: Record<string, Run[]> = {
    direct: [],
    gatehouse: [],
    bare: [],
    ...(ctx.baselineBin ? { baseline: [] } : {}),
  };
  const cold = async (opts: { home: string; bin?: string }, headers?: Record<string, string>) => {
    const g = await startGatehouse(ctx.direct, opts);
    const r = measure(await openLoop(g.url + '/2b', { rate, seconds, headers, startInMs: 0 }), g.listeningMs);
    await stopChild(g.child);
    return r;
  };
  const load: number[] = [];
  for (let i = 0; i < runs; i++) {
    load.push(loadPerCore());
    byVariant.direct!.push(measure(await openLoop(ctx.direct + '/2b', { rate, seconds, startInMs: 0 }), 0));
    byVariant.gatehouse!.push(await cold({ home }, session));
    if (ctx.baselineBin) byVariant.baseline!.push(await cold({ home, bin: ctx.baselineBin }, session));
    byVariant.bare!.push(await cold({ home: bareHome }));
  }
  // The median run's numbers per variant (by first-second p99), so one noisy run does not decide.
  const pick = (xs: Run[]) => [...xs].sort((a, b) => a.first.p99 - b.first.p99)[Math.floor(xs.length / 2)]!;
  const direct = pick(byVariant.direct!);
  const gate = pick(byVariant.gatehouse!);
  const bare = pick(byVariant.bare!);
  const added = gate.first.p99 - direct.first.p99;
  const rows = [
    `cold start, ${rate.toLocaleString('en')} req/s open loop from "listening" for ${seconds} s (median of ${runs} run${runs > 1 ? 's' : ''}; load ${load.map((l) => l.toFixed(1)).join('/')} per core):`,
  ];
  const shown: Array<[string, Run]> = [
    ['direct', direct],
    ['gatehouse', gate],
    ['bare', bare],
  ];
  if (byVariant.baseline) shown.push(['baseline', pick(byVariant.baseline)]);
  for (const [name, r] of shown) {
    rows.push(
      `  ${name.padEnd(10)} first second ${fmt(r.first)}; after ${fmt(r.after)}${r.errors ? `; ${r.errors} errors` : ''}`,
    );
  }
  return {
    rows,
    checks: [
      [
        'cold start: first-second p99 adds ≤ 20 ms',
        `${added.toFixed(1)} ms (max ${gate.first.max.toFixed(0)} ms)`,
        added <= 20 && gate.errors === 0,
      ],
      [
        'cold start, bare: first-second p99 adds ≤ 20 ms',
        `${(bare.first.p99 - direct.first.p99).toFixed(1)} ms`,
        bare.first.p99 - direct.first.p99 <= 20 && bare.errors === 0,
      ],
    ],
    data: { ...byVariant, loadPerCore: load },
  };
}

/**
 * File descriptors at steady state: after one long signed-in run, and again after a second one.
 * Counted once idle keep-alive sockets have timed out (5 s), so only leaks remain.
 */
export async function scenarioFileDescriptors(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await ctx.gatehouse();
  const settle = () => sleep(6000);
  await wrk(gh.url + '/2b', { headers: gh.session, seconds: ctx.quick ? 2 : 10, connections: ctx.connections });
  await settle();
  const before = fdCount(gh.pid);
  const seconds = ctx.quick ? 3 : 20;
  const long = await wrk(gh.url + '/2b', { headers: gh.session, seconds, connections: ctx.connections });
  await settle();
  const after = fdCount(gh.pid);
  // Keep-alive sockets come and go with the load generator's connections; growth with requests would not.
  return {
    rows: [],
    checks: [
      [
        'no fd growth over a long run',
        `${before} → ${after} fds over ${Math.round(long.rps * seconds)} requests`,
        after <= before + 16,
      ],
    ],
    data: { before, after },
  };
}

/** --workers 2 against 1 on this 2-core machine. */
export async function scenarioWorkers(ctx: BenchContext): Promise<ScenarioResult> {
  const cell = { seconds: ctx.duration, connections: ctx.connections };
  const two = await startGatehouse(ctx.direct, { workers: 2 });
  await waitFor(two.url + '/auth/health');
  const w2 = await wrk(two.url + '/2b', { ...cell, headers: await signedInCookie(two.url, 'bench2@example.com') });
  await stopChild(two.child);
  let w1 = ctx.gatehouseRps2b;
  if (w1 === undefined) {
    const gh = await ctx.gatehouse();
    w1 = (await wrk(gh.url + '/2b', { ...cell, headers: gh.session })).rps;
  }
  return {
    rows: [
      `--workers 2: ${w2.rps.toFixed(0)} req/s vs 1 worker ${w1.toFixed(0)} req/s (×${(w2.rps / w1).toFixed(2)} on 2 cores shared with wrk)`,
    ],
    checks: [],
    data: { one: w1, two: w2.rps },
  };
}

/** Micro-benchmarks of the per-request check and of password hashing, in this process. */
export async function scenarioMicro(ctx: BenchContext): Promise<ScenarioResult> {
  const m = await micro(ctx.quick);
  return {
    rows: [
      `micro: cookie verify + cached session ${m.cachedUs.toFixed(2)} µs; uncached (SQLite) ${m.uncachedUs.toFixed(1)} µs; argon2id hash ${m.hashMs.toFixed(1)} ms`,
    ],
    checks: [
      ['password hash (argon2id m=19 MiB t=2) 3–200 ms', `${m.hashMs.toFixed(1)} ms`, m.hashMs >= 3 && m.hashMs <= 200],
    ],
    data: m,
  };
}

/** RSS growth per session held in Gatehouse's cache: N sessions created in the store, each used once. */
/** session-heap.ts in a process of its own, where it can collect garbage at will. */
function retainedPerSession(sessions: number): { activeBytes: number; idleBytes: number } {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--no-flush-bytecode', '--import', 'tsx', join(REPO, 'bench/session-heap.ts'), String(sessions)],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`session-heap.ts failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { activeBytes: number; idleBytes: number };
}

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
    const user = await store.createUser(
      { email: `mem${i}@example.com`, name: `Member ${i}`, role: 'member', passwordHash: null, emailVerified: true },
      new Date(),
    );
    cookies.push((await svc.create(user, 'password', { ip: null, userAgent: null })).cookieValue);
  }
  await store.close();
  // Connections of their own: making the sessions above never yields to the event loop (SQLite answers
  // synchronously), so on a slow machine an idle keep-alive connection of the shared pool is closed by
  // Gatehouse meanwhile without the pool noticing, and the next request on it fails.
  const dispatcher = new Agent();
  const use = async (from: number, to: number) => {
    for (let i = from; i < to; i += 50) {
      await Promise.all(
        cookies
          .slice(i, Math.min(to, i + 50))
          .map(async (c) =>
            (await request(gh.url + '/2b', { dispatcher, headers: { cookie: `gatehouse_session=${c}` } })).body.dump(),
          ),
      );
    }
  };
  await use(0, 500); // warm up allocator and code paths first
  const before = rssKiB(gh.pid);
  await use(500, n);
  await dispatcher.close();
  return (rssKiB(gh.pid) - before) / (n - 500);
}
