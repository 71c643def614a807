// The HTTP server in front of the gate: slow-client timeouts, plain refusals for CONNECT and malformed
// requests, and listen errors as one sentence an operator can act on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export const DEFAULT_TIMEOUTS = {
  headers: 20_000, // the whole request head must arrive within this (slowloris)
  idle: 300_000, // a connection with no traffic either way is closed (long polls and SSE keep talking)
  keepAlive: 5_000, // idle keep-alive between requests
  upstreamHeaders: 60_000, // the app must start answering within this → 504
  checkInterval: 1_000, // how often Node checks the request timeouts
};

export type Timeouts = typeof DEFAULT_TIMEOUTS;

export interface HttpHandlers {
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Everything after the status line of the empty answer to a request Node's parser refused. */
const CLIENT_ERROR_HEAD =
  'content-type: text/plain\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\n' +
  'connection: close\r\ncontent-length: 0\r\n\r\n';

export function createHttpServer(handlers: HttpHandlers, timeouts: Timeouts): Server {
  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      headersTimeout: timeouts.headers,
      requestTimeout: 0, // a 1 GiB upload may take long; idle sockets are cut by `timeout` below instead
      keepAliveTimeout: timeouts.keepAlive,
      connectionsCheckingInterval: timeouts.checkInterval,
    },
    handlers.handle,
  );
  server.timeout = timeouts.idle;
  server.on('upgrade', handlers.upgrade);
  // Gatehouse is no forward proxy: CONNECT gets a plain refusal instead of a silent close.
  server.on('connect', (_req, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    endAndDestroy(socket, 'HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    endAndDestroy(socket, `HTTP/1.1 ${status}\r\n${CLIENT_ERROR_HEAD}`);
  });
  return server;
}

/** Listens, or rejects with one sentence (listenError) instead of Node's errno text. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => reject(listenError(err, host, port));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/** One sentence an operator can act on, instead of Node's "listen EADDRINUSE: address already in use …". */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const sentence =
    err.code === 'EADDRINUSE'
      ? `port ${port} is already in use (EADDRINUSE)`
      : err.code === 'EACCES'
        ? `port ${port} needs more privileges than this process has (EACCES)`
        : err.code === 'EADDRNOTAVAIL'
          ? `address ${host} is not available on this machine (EADDRNOTAVAIL)`
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? `host "${host}" could not be resolved (${err.code})`
            : `could not listen on ${host}:${port}: ${err.message}`;
  return Object.assign(new Error(sentence), { code: err.code });
}

/** The URL the server answers on, e.g. http://127.0.0.1:4180 or http://[::1]:4180. */
export function listeningUrl(server: Server, host: string, fallbackPort: number): string {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : fallbackPort;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops accepting, lets idle keep-alive sockets go at once and cuts the rest after five seconds. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
  });
}

/**
 * Answers and lets go. Ending is not enough: bytes a client sends after the answer are never read, its
 * close is never seen, and the socket would stay half-open — and keep server.close() waiting — for good.
 */
export function endAndDestroy(socket: Duplex, answer: string): void {
  socket.end(answer);
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 5_000).unref();
}
