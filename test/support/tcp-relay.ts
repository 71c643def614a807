// A TCP relay the test controls, placed between Gatehouse and a database server: cut() severs every
// connection and refuses new ones (an outage without stopping the shared server), restore() heals it.
//
// To cut *during* an operation without racing it, the relay can also be armed to cut at a protocol
// moment: cutOnNextRequest() swallows the next bytes a client sends and then cuts, so the server never
// sees that request; cutOnNextReply() swallows the next bytes the server sends, so the server did the
// work but the client never hears of it. Both stay down until restore().
//
// freeze() is the other kind of outage: a server that hangs. Every connection stays open and new ones are
// accepted, but no byte moves either way (what a client sees of a stuck or overloaded database, or a
// network that silently drops packets). thaw() lets the held bytes through again, as a stalled server
// that resumes would.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  cut(): void;
  cutOnNextRequest(): void;
  cutOnNextReply(): void;
  /** Lets n - 1 more client writes through, then swallows the n-th and cuts (inside a multi-statement call). */
  cutOnRequest(n: number): void;
  restore(): void;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let down = false;
  let armed: 'request' | 'reply' | null = null;
  let frozen = false;
  let requestsLeft = 0; // with armed === 'request': chunks still to pass before the cut

  const cut = () => {
    down = true;
    armed = null;
    // A reset, not a polite close: what a crashed server or a dropped NAT entry looks like to a client,
    // and the harder case for a driver (an idle pooled connection gets an error, not just an end).
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };

  /** Forwards from → to, unless the relay is armed for this direction: then the chunk is dropped. */
  const forward = (from: Socket, to: Socket, direction: 'request' | 'reply') =>
    from.on('data', (chunk: Buffer) => {
      if (armed === direction && (direction === 'reply' || --requestsLeft <= 0)) return cut();
      if (!to.write(chunk)) from.pause();
    });
  // A paused socket reads nothing, so its bytes wait in the kernel; drain must not undo a freeze.
  const resume = (s: Socket) => () => void (frozen || s.resume());

  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop).on('drain', resume(upstream));
    upstream.on('error', drop).on('close', drop).on('drain', resume(client));
    forward(client, upstream, 'request');
    forward(upstream, client, 'reply');
    if (frozen) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    cutOnNextRequest() {
      armed = 'request';
      requestsLeft = 1;
    },
    cutOnRequest(n) {
      armed = 'request';
      requestsLeft = n;
    },
    cutOnNextReply() {
      armed = 'reply';
    },
    restore() {
      down = false;
      armed = null;
    },
    freeze() {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw() {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
