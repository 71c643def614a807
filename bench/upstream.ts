// The tiny app every variant serves: GET /2b, GET /16k, POST /upload (drains the body), WebSocket echo.
// Counts TCP connections so the benchmark can check upstream keep-alive. Started as its own process.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const big = Buffer.alloc(16 * 1024, 'x');
let connections = 0;
const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ connections }));
  }
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(String(n).length) });
      res.end(String(n));
    });
    return;
  }
  if (req.url === '/16k') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) });
    return void res.end(big);
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.on('connection', () => connections++);
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) =>
  wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(m))),
);
server.listen(port, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
