// Upgrade handshakes (WebSockets). The client's socket is joined to the app's only after the app said
// yes: `101 Switching Protocols` naming the protocol the client asked for. Until then not one byte the
// client sent after its request head reaches the app — an app without an upgrade handler answers an
// ordinary 200 and keeps the connection alive, and a pipe opened before that answer would let every
// later request on the socket reach the app with no session check and no header stripping. Any answer
// other than 101 is relayed as an ordinary response, and both sides are closed.
//
// An open tunnel ends when either side finishes and the other does not follow within `halfCloseMs`,
// when nothing moves for `idleMs`, or when the gate closes it (its session ended).
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { downstreamHeaders, setsOwnCookie } from './headers.js';

export interface TunnelOptions {
  /** The app must answer the handshake within this. */
  handshakeTimeoutMs: number;
  /** A tunnel with no traffic either way for this long is closed. */
  idleMs: number;
  /** Once one side has finished sending, the other side has this long to finish too. */
  halfCloseMs: number;
  /** Called when the tunnel opens with a function that closes it; returns what to call when it ends. */
  opened(close: () => void): () => void;
}

/** The head of the short text answer a tunnel that never opened ends with (status line and length aside). */
const REFUSAL_HEAD =
  'content-type: text/plain; charset=utf-8\r\ncache-control: no-store\r\n' +
  'x-content-type-options: nosniff\r\nconnection: close\r\n';

export function openUpgrade(
  host: string,
  port: number,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  headers: string[],
  ownCookies: readonly string[],
  opts: TunnelOptions,
): void {
  const outgoing = request({ host, port, method: req.method, path: req.url, headers, agent: false, setHost: false });
  let answered = false;
  const closeClient = (status: string, body: string) => {
    if (!answered && client.writable) {
      answered = true;
      client.end(`HTTP/1.1 ${status}\r\n${REFUSAL_HEAD}content-length: ${body.length}\r\n\r\n${body}`);
    }
    setImmediate(() => client.destroy());
  };
  client.on('error', () => {
    client.destroy();
    outgoing.destroy();
  });
  client.once('close', () => outgoing.destroy());
  outgoing.setTimeout(opts.handshakeTimeoutMs, () => {
    outgoing.destroy();
    closeClient('504 Gateway Timeout', 'the app did not answer the upgrade\n');
  });
  outgoing.on('error', () => closeClient('502 Bad Gateway', 'app unreachable\n'));

  // The app refused (or ignored) the upgrade: relay its answer as a plain response, then close.
  outgoing.on('response', (res) => {
    answered = true;
    relayRefusal(client, res, ownCookies);
  });

  outgoing.on('upgrade', (res, upstream: Socket, upstreamHead: Buffer) => {
    outgoing.setTimeout(0);
    if (!sameProtocol(req.headers.upgrade, res.headers.upgrade)) {
      upstream.destroy();
      closeClient('502 Bad Gateway', 'the app switched to another protocol than the one asked for\n');
      return;
    }
    answered = true;
    client.write(statusLine(res) + serialize(withoutOwnCookies(res.rawHeaders, ownCookies)));
    if (upstreamHead.length) client.write(upstreamHead);
    if (head.length) upstream.write(head); // bytes the client sent after its head, held until now
    join(client as Socket, upstream, opts);
  });
  outgoing.end();
}

/** An answer other than 101, relayed as an ordinary response; then the client is closed. */
function relayRefusal(client: Duplex, res: IncomingMessage, ownCookies: readonly string[]) {
  client.write(statusLine(res) + serialize([...downstreamHeaders(res.headers, ownCookies), 'connection', 'close']));
  res.on('data', (chunk: Buffer) => client.write(chunk));
  res.on('end', () => closeAfterFlush(client));
  res.on('error', () => client.destroy());
}

/** The 101's raw headers as the app sent them, except any cookie of Gatehouse's it tried to set. */
function withoutOwnCookies(raw: string[], ownCookies: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.toLowerCase() === 'set-cookie' && setsOwnCookie(value, ownCookies)) continue;
    kept.push(name, value);
  }
  return kept;
}

/** Both directions, with half-close passed on (pipe ends the other side on 'end') and time limits. */
function join(client: Socket, upstream: Socket, opts: TunnelOptions) {
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  const release = opts.opened(closeBoth);
  let finished = 0;
  let halfTimer: NodeJS.Timeout | undefined;
  const onEnd = () => {
    if (++finished === 1) halfTimer = setTimeout(closeBoth, opts.halfCloseMs).unref();
  };
  client.on('end', onEnd);
  upstream.on('end', onEnd);
  upstream.on('error', closeBoth);
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => {
    client.destroy();
    clearTimeout(halfTimer);
    release();
  });
  // Every byte of the tunnel passes the client's socket, so its idle timer sees both directions.
  client.setTimeout(opts.idleMs, closeBoth);
  upstream.pipe(client);
  client.pipe(upstream);
}

function sameProtocol(asked: string | undefined, given: string | undefined): boolean {
  if (!asked || !given) return false;
  const first = (v: string) => v.split(',')[0]!.trim().toLowerCase();
  return first(asked) === first(given);
}

function statusLine(res: IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode} ${(res.statusMessage ?? '').replace(/[\r\n]/g, '')}\r\n`;
}

function serialize(flat: string[]): string {
  let out = '';
  for (let i = 0; i < flat.length; i += 2) out += `${flat[i]}: ${flat[i + 1]}\r\n`;
  return out + '\r\n';
}

function closeAfterFlush(socket: Duplex) {
  socket.end();
  socket.once('finish', () => setImmediate(() => socket.destroy()));
}
