// The access scenarios (SPEC §9, architecture.md#access), each an A/B pair measured in the same run:
// 50 access rules against none on the signed-in path, the signed assertion on against off, and nginx
// with `auth_request` → `/auth/check` (the documented config) against the same nginx without it.
// Rounds interleave A and B with the order swapped each round; a ratio is the median of per-round ratios.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateState } from '../src/config/state.js';
import { freePort } from '../src/exec-app.js';
import { documentedConfig } from '../test/support/proxies.js';
import { median, signedInCookie, sleep, startGatehouse, tempDir, track, waitFor, wrk, type WrkResult } from './harness.js';
import type { BenchContext, ScenarioResult } from './scenarios.js';

interface Side {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

/** A against B on one path, interleaved; the rows to print and B/A… as `ratio` (b over a). */
async function pair(ctx: BenchContext, label: string, a: Side, b: Side, path = '/2b'): Promise<{ rows: string[]; ratio: number; data: Record<string, WrkResult[]> }> {
  const runs: Record<string, WrkResult[]> = { [a.name]: [], [b.name]: [] };
  // A fresh process first resolves the session from the store and warms its JIT: not what is compared.
  for (const side of [a, b]) await wrk(side.url + path, { headers: side.headers, seconds: 1, connections: ctx.connections });
  for (let round = 0; round < ctx.rounds; round++) {
    for (const side of round % 2 ? [b, a] : [a, b]) {
      const r = await wrk(side.url + path, { headers: side.headers, seconds: ctx.duration, connections: ctx.connections });
      runs[side.name]!.push(r);
      process.stdout.write(`round ${round + 1} ${label.padEnd(14)} ${side.name.padEnd(24)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms${r.non2xx ? `  NON-2XX ${r.non2xx}` : ''}\n`);
    }
  }
  const ratio = median(runs[b.name]!.map((r, i) => r.rps / runs[a.name]![i]!.rps));
  const line = (s: Side) => {
    const rs = runs[s.name]!;
    const bad = rs.reduce((n, r) => n + r.non2xx, 0);
    return `  ${s.name.padEnd(24)} ${median(rs.map((r) => r.rps)).toFixed(0).padStart(7)} req/s   p50 ${median(rs.map((r) => r.p50ms)).toFixed(2)} ms   p99 ${median(rs.map((r) => r.p99ms)).toFixed(2)} ms${bad ? `   ⚠ ${bad} non-2xx (not measuring the allowed path)` : ''}`;
  };
  return { rows: [`${label} (wrk -c${ctx.connections} ${ctx.duration}s × ${ctx.rounds} rounds, interleaved)`, line(a), line(b), `  ratio ${b.name} / ${a.name}: ${ratio.toFixed(2)}`], ratio, data: runs };
}

/** 49 rules that never match /2b (but are evaluated, in order, on every request), then the one that does. */
export function fiftyRules(): Array<{ pattern: string; allow: string[] }> {
  const rules = Array.from({ length: 49 }, (_, i) => ({ pattern: `/area-${i}/*`, allow: [`group:team-${i}`, `role:lead-${i}`] }));
  rules.push({ pattern: '/2b', allow: ['domain:example.com'] });
  return rules;
}

/** The signed-in path with 50 access rules in force against none (issue: ≥ 0.95 ×). */
export async function scenarioAccessRules(ctx: BenchContext): Promise<ScenarioResult> {
  const none = await ctx.gatehouse();
  const ruled = await startGatehouse(ctx.direct);
  updateState({ home: ruled.home, server: 'local', profile: 'main' }, (s) => ({ ...s!, access: fiftyRules() }));
  await sleep(1500); // the running server reads the state file within a second
  const session = await signedInCookie(ruled.url, 'bench-rules@example.com');
  const { rows, ratio, data } = await pair(ctx, 'access rules', { name: 'no rules', url: none.url, headers: none.session }, { name: '50 rules', url: ruled.url, headers: session });
  return { rows, checks: [['50 access rules ≥ 0.95 × none (GET 2 B)', ratio.toFixed(2), ratio >= 0.95]], data };
}

/** The signed assertion on (the default) against GATEHOUSE_ASSERTION=off, signed in. */
export async function scenarioAssertion(ctx: BenchContext): Promise<ScenarioResult> {
  const on = await ctx.gatehouse();
  const off = await startGatehouse(ctx.direct, { env: { GATEHOUSE_ASSERTION: 'off' } });
  const session = await signedInCookie(off.url, 'bench-assertion@example.com');
  const { rows, ratio, data } = await pair(ctx, 'assertion', { name: 'assertion off', url: off.url, headers: session }, { name: 'assertion on', url: on.url, headers: on.session });
  return { rows, checks: [], data: { ...data, ratio } };
}

/**
 * nginx with the documented `auth_request` config (docs/forward-auth.md, the block the forward-auth
 * test runs) against the same nginx config with the `auth_request` line taken out, signed in. Both
 * nginx get two workers, as many as the machine has cores.
 */
export async function scenarioForwardAuth(ctx: BenchContext): Promise<ScenarioResult> {
  const gh = await startGatehouse(ctx.direct, { env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1/32' } });
  const session = await signedInCookie(gh.url, 'bench-forward@example.com');
  const ports = { gatehouse: Number(new URL(gh.url).port), app: Number(new URL(ctx.direct).port) };
  const withCheck = await documentedNginx(documentedConfig('nginx', ports));
  const alone = await documentedNginx(documentedConfig('nginx', ports).replace(/^\s*auth_request \/_gatehouse_check;\n/m, ''));
  const { rows, ratio, data } = await pair(ctx, 'forward-auth', { name: 'nginx alone', url: alone, headers: session }, { name: 'nginx + auth_request', url: withCheck, headers: session });
  return { rows, checks: [], data: { ...data, ratio } };
}

async function documentedNginx(server: string): Promise<string> {
  const dir = tempDir('nginx-fa');
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    // As test/support/proxies.ts: the temp dir is root's alone, so root's workers may write to it.
    `${process.getuid?.() === 0 ? 'user root; ' : ''}worker_processes 2; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
${server.replace('listen 80;', `listen 127.0.0.1:${port};`)}
}`,
  );
  track(spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/auth/health`);
  return url;
}
