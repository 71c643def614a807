// Open-loop latency: requests are scheduled at a fixed rate and each latency is measured from its
// scheduled send time, so a slow server cannot hide queueing delay (no coordinated omission).
import { Agent, request } from 'node:http';

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface OpenLoopResult extends LatencySummary {
  sent: number;
  errors: number;
  /** Every answered request: [scheduled send time in ms from the first one, latency in ms]. */
  points: Array<[number, number]>;
}

export function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { n: sorted.length, p50: q(0.5), p99: q(0.99), max: sorted.at(-1) ?? NaN };
}

/** Latencies of the requests scheduled in [fromMs, toMs) — e.g. the first second after a start. */
export function window(result: OpenLoopResult, fromMs: number, toMs = Infinity): LatencySummary {
  return summarize(result.points.filter(([at]) => at >= fromMs && at < toMs).map(([, ms]) => ms));
}

export async function openLoop(url: string, opts: { rate: number; seconds: number; headers?: Record<string, string>; startInMs?: number }): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const total = Math.round(opts.rate * opts.seconds);
  const points: Array<[number, number]> = [];
  let errors = 0;
  const start = performance.now() + (opts.startInMs ?? 50);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / opts.rate;
    // Never send early: sleep most of the gap, then yield until the scheduled moment.
    for (let wait = scheduled - performance.now(); wait > 0; wait = scheduled - performance.now()) {
      await new Promise((r) => (wait > 2 ? setTimeout(r, wait - 1) : setImmediate(r)));
    }
    pending.push(
      new Promise<void>((resolve) => {
        const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname + target.search, headers: opts.headers }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            points.push([scheduled - start, performance.now() - scheduled]);
            resolve();
          });
        });
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end();
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { ...summarize(points.map(([, ms]) => ms)), sent: total, errors, points };
}
