// A recording upstream: the "app" behind Gatehouse in end-to-end tests. It records exactly what
// arrived (method, URL, raw headers, body bytes) so tests can assert what the app saw — and, just as
// important, what it never saw. Routes: /echo (default), /big?bytes=N, /sse, /redirect, /set-cookie,
// /slow?ms=N, WebSocket echo on any path — except paths `plainUpgrades` picks, where an upgrade gets
// the answer of an app with no upgrade handler at all (a normal response, connection kept alive).
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  bodyBytes: number;
  bodySha256: string;
  upgrade: boolean;
}

export interface RecordingUpstream {
  url: string;
  port: number;
  requests: Recorded[];
  connections: number;
  wsMessages: string[];
  clear(): void;
  close(): Promise<void>;
}

export interface RecordingUpstreamOptions {
  /**
   * Upgrade requests for these URLs are answered as a plain node:http app without an 'upgrade'
   * listener answers them: as ordinary requests (recorded, routed, 200) on a connection that stays
   * open for more requests. That is the app a tunnel opened before the app's 101 would smuggle into.
   */
  plainUpgrades?: (url: string) => boolean;
}

export async function startRecordingUpstream(opts: RecordingUpstreamOptions = {}): Promise<RecordingUpstream> {
  const requests: Recorded[] = [];
  const wsMessages: string[] = [];
  let connections = 0;
  const onRequest: RequestListener = (req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyBytes: bytes,
        bodySha256: hash.digest('hex'),
        upgrade: false,
      };
      requests.push(rec);
      const u = new URL(req.url ?? '/', 'http://x');
      switch (u.pathname) {
        case '/big': {
          const n = Number(u.searchParams.get('bytes') ?? 1024);
          const chunk = Buffer.alloc(64 * 1024, 'abcdefgh');
          res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked
          let left = n;
          const pump = () => {
            while (left > 0) {
              const part = chunk.subarray(0, Math.min(left, chunk.length));
              left -= part.length;
              if (!res.write(part)) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
          return;
        }
        case '/sse': {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          let i = 0;
          const timer = setInterval(() => {
            res.write(`id: ${i}\ndata: event ${i}\n\n`);
            if (++i === 3) {
              clearInterval(timer);
              res.end();
            }
          }, 30);
          res.on('close', () => clearInterval(timer));
          return;
        }
        case '/redirect':
          res.writeHead(302, { location: '/elsewhere' });
          res.end();
          return;
        case '/set-cookie':
          res.writeHead(200, {
            'set-cookie': ['app_a=1; Path=/', 'app_b=2; Path=/; HttpOnly'],
            'content-type': 'text/plain',
          });
          res.end('cookies');
          return;
        case '/set-own-cookie': // an app (or an attacker controlling it) trying to fixate Gatehouse's session
          res.writeHead(200, {
            'set-cookie': [
              'gatehouse_session=fixated; Path=/',
              '__Host-gatehouse_session=x; Path=/; Secure',
              'app_ok=1; Path=/',
            ],
          });
          res.end('ok');
          return;
        case '/slow':
          setTimeout(() => res.end('slow'), Number(u.searchParams.get('ms') ?? 1000));
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json', 'x-app': 'recording' });
          res.end(JSON.stringify({ bodyBytes: bytes, bodySha256: rec.bodySha256 }));
      }
    });
  };
  const server: Server = createServer(onRequest);
  server.on('connection', () => connections++);
  // The same routes with no 'upgrade' listener: node:http then parses an upgrade like any request.
  const plain: Server = createServer(onRequest);
  const handedOver = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (opts.plainUpgrades?.(req.url ?? '/')) {
      // Put the request back in front of the bytes that followed it and let the plain server parse it all.
      socket.unshift(Buffer.concat([Buffer.from(requestHead(req), 'latin1'), head]));
      handedOver.add(socket);
      socket.once('close', () => handedOver.delete(socket));
      plain.emit('connection', socket);
      return;
    }
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: 0,
      bodySha256: '',
      upgrade: true,
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate()); // bytes that are no WebSocket frames: close, as a real app would
      ws.on('message', (data) => {
        wsMessages.push(String(data));
        ws.send(`echo:${String(data)}`);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    wsMessages,
    get connections() {
      return connections;
    },
    clear() {
      requests.length = 0;
      wsMessages.length = 0;
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      for (const s of handedOver) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The request head as the parser read it (raw header names and values, in order). */
function requestHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  return head + '\r\n';
}
