// Open-loop latency: requests are scheduled at a fixed rate and each latency is measured from its
// scheduled send time, so a slow server cannot hide queueing delay (no coordinated omission).
import { Agent, request } from 'node:http';

export async function openLoop(url: string, opts: { rate: number; seconds: number; headers?: Record<string, string> }): Promise<{ p50: number; p99: number; sent: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const total = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now() + 50;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / opts.rate;
    // Never send early: sleep most of the gap, then yield until the scheduled moment.
    for (let wait = scheduled - performance.now(); wait > 0; wait = scheduled - performance.now()) {
      await new Promise((r) => (wait > 2 ? setTimeout(r, wait - 1) : setImmediate(r)));
    }
    pending.push(
      new Promise<void>((resolve) => {
        const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, headers: opts.headers }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - scheduled);
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
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), sent: total, errors };
}
