// Forwarding to the app: undici's Pool.dispatch with keep-alive connections, streaming both ways with
// backpressure and no buffering. WebSocket upgrades go over a fresh connection (see upgrade.ts). The
// process never dies on a socket error: every stream has an error path.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { downstreamHeaders } from './headers.js';
import { openUpgrade, type TunnelOptions } from './upgrade.js';
import { hasBody } from './request-checks.js';
import { listenOnLoopback } from '../http/listen.js';

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
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    headers: string[],
    onFailure: (kind: UpstreamFailure) => void,
  ): void;
  /**
   * Asks the app to switch protocols. Bytes flow both ways only after the app answered `101` with the
   * protocol that was asked for; any other answer is relayed as an ordinary response and both sides
   * are closed, so nothing the client sent after the handshake ever reaches the app unchecked.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, headers: string[], tunnel: TunnelOptions): void;
  /**
   * Runs `drive` while this forwarder sends every request to a stand-in of the app instead (it answers
   * 200 "ok"), so warm-up.ts can pay for cold code before Gatehouse listens. The app sees nothing of
   * it: no request, no connection.
   */
  throughStandIn<T>(drive: () => Promise<T>): Promise<T>;
  /** New TCP connections made to the app (connection reuse is asserted in tests). */
  readonly connectionsOpened: number;
  close(): Promise<void>;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const url = new URL(opts.upstream);
  if (url.protocol !== 'http:') throw new Error(`upstream must be an http:// URL, got ${opts.upstream}`);
  const poolTo = poolMaker(opts);
  const appPool = poolTo(url.origin);
  // The app's pool, except while warming up (throughStandIn): the same code then runs against a
  // stand-in's pool of the same class and options, so what V8 learns there holds for the app.
  let pool = appPool;
  const ownCookies = opts.ownCookies ?? [];
  let connectionsOpened = 0;
  appPool.on('connect', () => connectionsOpened++);
  const upstreamHost = url.hostname;
  const upstreamPort = Number(url.port || 80);
  const reachability = createReachability(opts.onReachable);

  return {
    forward(req, res, headers, onFailure) {
      try {
        pool.dispatch(
          { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody(req) ? req : null },
          relayTo(res, ownCookies, reachability, onFailure),
        );
      } catch {
        onFailure('unreachable');
      }
    },

    upgrade(req, socket, head, headers, tunnel) {
      connectionsOpened++;
      openUpgrade(upstreamHost, upstreamPort, req, socket, head, headers, ownCookies, tunnel);
    },

    throughStandIn: (drive) =>
      withStandIn(poolTo, async (standInPool) => {
        pool = standInPool;
        try {
          return await drive();
        } finally {
          pool = appPool;
        }
      }),

    get connectionsOpened() {
      return connectionsOpened;
    },

    close: () => closeWithGrace(appPool),
  };
}

/** Pools to the app (or its stand-in), all of one class and options. */
function poolMaker(opts: ForwarderOptions): (origin: string) => Pool {
  return (origin) =>
    new Pool(origin, {
      connections: opts.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.headersTimeoutMs ?? 60_000,
      bodyTimeout: 0, // server-sent events may idle for a long time; the client's socket governs
    });
}

/**
 * In-flight requests get a grace period to finish; then their connections are cut, so a request the app
 * never answers cannot keep a stopping Gatehouse waiting for ever.
 */
async function closeWithGrace(pool: Pool): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>(
    (resolve) => (timer = setTimeout(() => resolve(pool.destroy().catch(() => {})), 5_000)),
  );
  await Promise.race([pool.close().catch(() => {}), cut]);
  clearTimeout(timer);
}

/** A stand-in of the app on a loopback port (it answers 200 "ok"), and a pool to it, for as long as `use`
 *  runs. */
async function withStandIn<T>(poolTo: (origin: string) => Pool, use: (pool: Pool) => Promise<T>): Promise<T> {
  const standIn = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  const standInPool = poolTo(await listenOnLoopback(standIn));
  try {
    return await use(standInPool);
  } finally {
    await standInPool.close().catch(() => {});
    standIn.closeAllConnections();
    await new Promise((r) => standIn.close(r));
  }
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

/** The dispatch handler that streams the app's answer to `res` with backpressure, or reports a failure
 *  before any byte. */
function relayTo(
  res: ServerResponse,
  ownCookies: readonly string[],
  reachability: Reachability,
  onFailure: (kind: UpstreamFailure) => void,
): Dispatcher.DispatchHandler {
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
