// Forwarding to the app: undici's Pool.dispatch with keep-alive connections, streaming both ways with
// backpressure and no buffering. WebSocket upgrades go over a fresh connection (see upgrade.ts). The
// process never dies on a socket error: every stream has an error path.
import { Agent, createServer, request, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { downstreamHeaders } from './headers.js';
import { openUpgrade, type TunnelOptions } from './upgrade.js';
import { hasBody } from './request-checks.js';

export type { TunnelOptions } from './upgrade.js';

export interface ForwarderOptions {
  upstream: string; // http://host:port
  connections?: number; // keep-alive connections to the app (default 128)
  headersTimeoutMs?: number; // app must start answering within this (default 60 s) → 504
  ownCookies?: readonly string[]; // Gatehouse's cookie names: the app may not set them
  /** Told once when the app stops answering and once when it answers again (for the log). */
  onReachable?(reachable: boolean): void;
}

export type UpstreamFailure = 'unreachable' | 'timeout';

export interface Forwarder {
  /** Streams req to the app and the answer back. `onFailure` renders 502/504 when nothing was sent yet. */
  forward(req: IncomingMessage, res: ServerResponse, headers: string[], onFailure: (kind: UpstreamFailure) => void): void;
  /**
   * Asks the app to switch protocols. Bytes flow both ways only after the app answered `101` with the
   * protocol that was asked for; any other answer is relayed as an ordinary response and both sides
   * are closed, so nothing the client sent after the handshake ever reaches the app unchecked.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, headers: string[], tunnel: TunnelOptions): void;
  /**
   * Pays, before Gatehouse listens, for what the first visitors would otherwise wait for (see `warm`
   * below). The app sees nothing of it: no request, no connection.
   */
  warm(opts?: WarmOptions): Promise<void>;
  /** New TCP connections made to the app (connection reuse is asserted in tests). */
  readonly connectionsOpened: number;
  close(): Promise<void>;
}

export interface WarmOptions {
  requests?: number;
  /** The request handler to warm in front of the forwarding code (the gate), given a forwarder to the stand-in. */
  through?(standIn: Forwarder): { handle: RequestListener; close(): void };
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const url = new URL(opts.upstream);
  if (url.protocol !== 'http:') throw new Error(`upstream must be an http:// URL, got ${opts.upstream}`);
  const pool = new Pool(url.origin, {
    connections: opts.connections ?? 128,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: opts.headersTimeoutMs ?? 60_000,
    bodyTimeout: 0, // server-sent events may idle for a long time; the client's socket governs
  });
  const ownCookies = opts.ownCookies ?? [];
  let connectionsOpened = 0;
  pool.on('connect', () => connectionsOpened++);
  const upstreamHost = url.hostname;
  const upstreamPort = Number(url.port || 80);
  const reachability = createReachability(opts.onReachable);

  return {
    forward(req, res, headers, onFailure) {
      try {
        pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody(req) ? req : null }, relayTo(res, ownCookies, reachability, onFailure));
      } catch {
        onFailure('unreachable');
      }
    },

    upgrade(req, socket, head, headers, tunnel) {
      connectionsOpened++;
      openUpgrade(upstreamHost, upstreamPort, req, socket, head, headers, ownCookies, tunnel);
    },

    warm: ({ requests = 24, through } = {}) => warmForwarding(ownCookies, requests, through),

    get connectionsOpened() {
      return connectionsOpened;
    },

    async close() {
      // In-flight requests get a grace period to finish; then their connections are cut, so a request
      // the app never answers cannot keep a stopping Gatehouse waiting for ever.
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => (timer = setTimeout(() => resolve(pool.destroy().catch(() => {})), 5_000)));
      await Promise.race([pool.close().catch(() => {}), cut]);
      clearTimeout(timer);
    },
  };
}

/** Whether the app answered last time; `onReachable` hears of each change once (for the log). */
interface Reachability {
  readonly now: boolean;
  mark(reachable: boolean): void;
}

function createReachability(onReachable?: (reachable: boolean) => void): Reachability {
  let reachable = true;
  return {
    get now() {
      return reachable;
    },
    mark(next) {
      if (next === reachable) return;
      reachable = next;
      onReachable?.(next);
    },
  };
}

/** The dispatch handler that streams the app's answer to `res` with backpressure, or reports a failure before any byte. */
function relayTo(res: ServerResponse, ownCookies: readonly string[], reachability: Reachability, onFailure: (kind: UpstreamFailure) => void): Dispatcher.DispatchHandler {
  let started = false;
  let ctrl: Dispatcher.DispatchController | undefined;
  // The client may leave while the request still waits for a free connection (no controller yet): it
  // is aborted as soon as it starts, or it would hold a connection — and the pool's close — for good.
  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    if (ctrl && !ctrl.aborted) ctrl.abort(new Error('client went away'));
  };
  res.once('close', onClose);
  const onDrain = () => ctrl?.resume();
  return {
    onRequestStart(controller) {
      ctrl = controller;
      if (gone) controller.abort(new Error('client went away'));
    },
    onResponseStart(_controller, statusCode, resHeaders, statusMessage) {
      if (statusCode < 200) return; // 1xx: Node answers Expect itself; others are not relayed
      started = true;
      if (!reachability.now) reachability.mark(true);
      res.writeHead(statusCode, statusMessage, downstreamHeaders(resHeaders, ownCookies));
      // Server-sent events: the client needs the head before the first event. Everything else sends
      // the head with the first chunk — one write instead of two on the hot path.
      const type = resHeaders['content-type'];
      if (typeof type === 'string' && type.startsWith('text/event-stream')) res.flushHeaders();
    },
    onResponseData(controller, chunk) {
      if (!res.write(chunk)) {
        controller.pause();
        res.once('drain', onDrain);
      }
    },
    onResponseEnd() {
      res.off('close', onClose);
      res.end();
    },
    onResponseError(_controller, err) {
      res.off('close', onClose);
      if (started || res.headersSent) return void res.destroy();
      if (res.destroyed) return;
      const code = (err as { code?: string }).code;
      if (code !== 'UND_ERR_HEADERS_TIMEOUT') reachability.mark(false);
      onFailure(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'timeout' : 'unreachable');
    },
  };
}

/** `Forwarder.warm`: `requests` requests through this same forwarding code, to a throwaway server of our own. */
async function warmForwarding(ownCookies: readonly string[], requests: number, through: WarmOptions['through']): Promise<void> {
  // Measured with the bench's cold-start scenario (2,000 req/s from the moment of listening): the
  // first request after a start took 80 ms on an idle 2-core machine and 150–200 ms on a busy one,
  // and the queue behind it pushed the first second's p99 past 170 ms. A CPU profile shows what it
  // waits for: undici compiling its HTTP parser (WebAssembly) on its first connection, V8
  // compiling the forwarding code on first call, and the collection of start-up's garbage. So:
  // forward `requests` requests through this same code, but to a throwaway server of our own —
  // the app must not see requests it did not ask for. Not done: opening keep-alive connections to
  // the app ahead of time. On loopback a connection costs well under a millisecond, and handing
  // pre-opened sockets to undici through a custom connector lost five requests in the fuzz test
  // and left the pool unable to close.
  const standIn = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  const standInUrl = await listenLocal(standIn);
  const toStandIn = createForwarder({ upstream: standInUrl, connections: 4, ownCookies });
  // With a handler in front (the gate), its code is compiled too: every request of a first visitor
  // passes it. Without, the forwarding code alone.
  const front = through?.(toStandIn);
  const frontServer = createServer(front?.handle ?? ((req, res) => toStandIn.forward(req, res, ['x-forwarded-for', '127.0.0.1'], () => res.writeHead(502).end())));
  const frontUrl = new URL(await listenLocal(frontServer));
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const one = () =>
    new Promise<void>((resolve) => {
      const r = request({ agent, host: frontUrl.hostname, port: frontUrl.port, path: '/warm' }, (res) => res.resume().once('end', resolve));
      r.once('error', () => resolve());
      r.end();
    });
  try {
    for (let i = 0; i < requests; i += 4) await Promise.all([one(), one(), one(), one()]);
  } finally {
    agent.destroy();
    front?.close();
    await toStandIn.close();
    frontServer.closeAllConnections();
    standIn.closeAllConnections();
    await Promise.all([new Promise((r) => frontServer.close(r)), new Promise((r) => standIn.close(r))]);
  }
}

function listenLocal(server: ReturnType<typeof createServer>): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // `exclusive`: in a cluster worker (`serve --workers N`) a plain listen(0) is shared through the
    // primary by call order, so one worker's throwaway server could receive another worker's traffic.
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}
