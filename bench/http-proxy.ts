// The "what most Node projects would write" baseline: http-proxy with a keep-alive agent, no auth.
import { createServer, Agent } from 'node:http';
import httpProxy from 'http-proxy-3';

const [target, port] = [process.argv[2]!, Number(process.argv[3] ?? 0)];
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  const r = res as import('node:http').ServerResponse;
  if (!r.headersSent) r.writeHead(502);
  r.end();
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
