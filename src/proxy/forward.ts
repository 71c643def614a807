// Forwarding to the app: undici's Pool.dispatch with keep-alive connections, streaming both ways with
// backpressure and no buffering. WebSocket upgrades are piped over a fresh TCP connection after the
// handshake headers are rewritten. The process never dies on a socket error: every stream has an
// error path.
import { connect, type Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { downstreamHeaders } from './headers.js';

export interface ForwarderOptions {
  upstream: string; // http://host:port
  connections?: number; // keep-alive connections to the app (default 128)
  headersTimeoutMs?: number; // app must start answering within this (default 60 s) → 504
  ownCookies?: readonly string[]; // Gatehouse's cookie names: the app may not set them
}

export type UpstreamFailure = 'unreachable' | 'timeout';

export interface Forwarder {
  /** Streams req to the app and the answer back. `onFailure` renders 502/504 when nothing was sent yet. */
  forward(req: IncomingMessage, res: ServerResponse, headers: string[], onFailure: (kind: UpstreamFailure) => void): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, headers: string[]): void;
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

    upgrade(req, socket, head, headers) {
      const upstream: Socket = connect({ host: upstreamHost, port: upstreamPort });
      connectionsOpened++;
      const fail = () => {
        socket.destroy();
        upstream.destroy();
      };
      upstream.once('error', () => {
        if (socket.writable && !upstream.bytesRead) {
          socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\napp unreachable\n');
        }
        fail();
      });
      socket.on('error', fail);
      upstream.once('connect', () => {
        let head1 = `${req.method} ${req.url} HTTP/1.1\r\n`;
        for (let i = 0; i < headers.length; i += 2) head1 += `${headers[i]}: ${headers[i + 1]}\r\n`;
        upstream.write(head1 + '\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      socket.once('close', () => upstream.destroy());
      upstream.once('close', () => socket.destroy());
    },

    get connectionsOpened() {
      return connectionsOpened;
    },

    async close() {
      await pool.close();
    },
  };
}
