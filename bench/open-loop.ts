// Open-loop latency: requests are scheduled at a fixed rate and each latency is measured from its
// scheduled send time, so a slow server cannot hide queueing delay (no coordinated omission).
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

// The pacer thread: told when to start, it posts each request's index at its moment.
const PACER = `
const { parentPort, workerData: { total, rate } } = require('node:worker_threads');
const tick = new Int32Array(new SharedArrayBuffer(4));
parentPort.once('message', (startAt) => {
  for (let i = 0; i < total; i++) {
    const wait = startAt + (i * 1000) / rate - (performance.timeOrigin + performance.now());
    if (wait > 0) Atomics.wait(tick, 0, 0, wait);
    parentPort.postMessage(i);
  }
});
`;

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

/**
 * `rate` GETs a second for `seconds` to `url`, over at most 256 keep-alive connections opened as needed.
 * The client speaks HTTP/1.1 over raw sockets: node:http cost about 300 µs of CPU per request here,
 * which at 2,000 req/s took most of a core from the 2 the server under test shares with it. It reads
 * what an HTTP server sends to a GET: a status line, headers, a body framed by Content-Length
 * (anything else counts as an error and closes the connection).
 */
export async function openLoop(
  url: string,
  opts: { rate: number; seconds: number; headers?: Record<string, string>; startInMs?: number },
): Promise<OpenLoopResult> {
  const target = new URL(url);
  const head = Buffer.from(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n` +
      Object.entries(opts.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
    'latin1',
  );
  const total = Math.round(opts.rate * opts.seconds);
  const points: Array<[number, number]> = [];
  let errors = 0;
  let answered = 0;
  // Started before the clock starts, so the first request is not late by a thread's start-up.
  const pacer = new Worker(PACER, { eval: true, workerData: { total, rate: opts.rate } });
  await once(pacer, 'online');
  const start = performance.now() + (opts.startInMs ?? 50);
  let allAnswered = () => {};
  const done = new Promise<void>((r) => (allAnswered = r));
  const settle = (scheduled: number, ok: boolean) => {
    if (ok) points.push([scheduled - start, performance.now() - scheduled]);
    else errors++;
    if (++answered === total) allAnswered();
  };
  const idle: RawConnection[] = [];
  const waiting: number[] = [];
  let open = 0;
  const connections: RawConnection[] = [];
  const next = (c: RawConnection) => {
    const scheduled = waiting.shift();
    if (scheduled === undefined) idle.push(c);
    else c.send(scheduled);
  };
  const send = (scheduled: number) => {
    let c = idle.pop();
    while (c?.closed) c = idle.pop(); // the server may close a keep-alive connection while it is idle
    if (c) return c.send(scheduled);
    if (open >= 256) return void waiting.push(scheduled);
    open++;
    const fresh = new RawConnection(target, head, settle, next, () => {
      open--;
      // A connection that closed with requests waiting: open another for them.
      const at = waiting.shift();
      if (at !== undefined) send(at);
    });
    connections.push(fresh);
    fresh.send(scheduled);
  };
  // A pacer thread sleeps until each request's moment (Atomics.wait: to the microsecond, without using
  // the CPU) and tells this thread to send it. Spinning on setImmediate here instead kept a whole core
  // busy at 2,000 req/s; a 1 ms timer sent requests in bursts. A request this thread sends late still
  // counts from its scheduled time: lateness shows, it never hides.
  pacer.on('message', (i: number) => send(start + (i * 1000) / opts.rate));
  pacer.postMessage(performance.timeOrigin + start);
  await done;
  await pacer.terminate();
  for (const c of connections) c.close();
  return { ...summarize(points.map(([, ms]) => ms)), sent: total, errors, points };
}

/** One keep-alive connection of the open-loop client: one request at a time, answers parsed by hand. */
class RawConnection {
  private readonly socket: Socket;
  closed = false;
  private pending: Buffer | null = null;
  private scheduled = -1;
  private bodyLeft = -1; // -1: still reading the head
  private ok = false;

  constructor(
    target: URL,
    private readonly head: Buffer,
    private readonly settle: (scheduled: number, ok: boolean) => void,
    private readonly ready: (c: RawConnection) => void,
    onClosed: () => void,
  ) {
    this.socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      if (this.scheduled >= 0) this.settle(this.scheduled, false);
      this.scheduled = -1;
      onClosed();
    });
  }

  send(scheduled: number): void {
    this.scheduled = scheduled;
    this.bodyLeft = -1;
    this.socket.write(this.head);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    if (this.bodyLeft < 0) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return void (this.pending = data);
      const head = data.toString('latin1', 0, end);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!length || this.scheduled < 0) return this.fail();
      this.ok = head.startsWith('HTTP/1.1 200');
      this.bodyLeft = Number(length[1]);
      data = data.subarray(end + 4);
    }
    if (data.length < this.bodyLeft) {
      this.bodyLeft -= data.length;
      return;
    }
    const scheduled = this.scheduled;
    this.scheduled = -1;
    this.settle(scheduled, this.ok);
    this.ready(this);
  }

  private fail(): void {
    if (this.scheduled >= 0) this.settle(this.scheduled, false);
    this.scheduled = -1;
    this.socket.destroy();
  }
}
