// Forwarding to the app: undici's Pool.dispatch with keep-alive connections, streaming both ways with
// backpressure and no buffering. WebSocket upgrades go over a fresh connection (see upgrade.ts). The
// process never dies on a socket error: every stream has an error path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { downstreamHeaders } from './headers.js';
import { openUpgrade, type TunnelOptions } from './upgrade.js';

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
  /** New TCP connections made to the app (connection reuse is asserted in tests). */
  readonly connectionsOpened: number;
  close(): Promise<void>;
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
  let reachable = true;
  const markReachable = (now: boolean) => {
    if (now === reachable) return;
    reachable = now;
    opts.onReachable?.(now);
  };

  return {
    forward(req, res, headers, onFailure) {
      const method = req.method ?? 'GET';
      // A request has a body when it says so; GET/HEAD without framing headers carry none.
      const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
      let started = false;
      let ctrl: Dispatcher.DispatchController | undefined;
      const onClose = () => {
        if (!res.writableFinished && ctrl && !ctrl.aborted) ctrl.abort(new Error('client went away'));
      };
      res.once('close', onClose);
      const onDrain = () => ctrl?.resume();

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(controller) {
          ctrl = controller;
        },
        onResponseStart(controller, statusCode, resHeaders, statusMessage) {
          if (statusCode < 200) return; // 1xx: Node answers Expect itself; others are not relayed
          started = true;
          if (!reachable) markReachable(true);
          res.writeHead(statusCode, statusMessage, downstreamHeaders(resHeaders, ownCookies));
          // Server-sent events: the client needs the head before the first event. Everything else sends
          // the head with the first chunk — one write instead of two on the hot path.
          const type = resHeaders['content-type'];
          if (typeof type === 'string' && type.startsWith('text/event-stream')) res.flushHeaders();
          void controller;
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
          if (started || res.headersSent) {
            res.destroy();
            return;
          }
          if (res.destroyed) return;
          const code = (err as { code?: string }).code;
          if (code !== 'UND_ERR_HEADERS_TIMEOUT') markReachable(false);
          onFailure(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'timeout' : 'unreachable');
        },
      };

      try {
        pool.dispatch(
          {
            path: req.url ?? '/',
            method,
            headers,
            body: hasBody ? req : null,
          },
          handler,
        );
      } catch {
        onFailure('unreachable');
      }
    },

    upgrade(req, socket, head, headers, tunnel) {
      connectionsOpened++;
      openUpgrade(upstreamHost, upstreamPort, req, socket, head, headers, ownCookies, tunnel);
    },

    get connectionsOpened() {
      return connectionsOpened;
    },

    async close() {
      await pool.close();
    },
  };
}
