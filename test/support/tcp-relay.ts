// A TCP relay the test controls, placed between Gatehouse and a database server: cut() severs every
// connection and refuses new ones (an outage without stopping the shared server), restore() heals it.
//
// To cut *during* an operation without racing it, the relay can also be armed to cut at a protocol
// moment: cutOnNextRequest() swallows the next bytes a client sends and then cuts, so the server never
// sees that request; cutOnNextReply() swallows the next bytes the server sends, so the server did the
// work but the client never hears of it. Both stay down until restore().
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  cut(): void;
  cutOnNextRequest(): void;
  cutOnNextReply(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let down = false;
  let armed: 'request' | 'reply' | null = null;

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
      if (armed === direction) return cut();
      if (!to.write(chunk)) from.pause();
    });

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
    client.on('error', drop).on('close', drop).on('drain', () => upstream.resume());
    upstream.on('error', drop).on('close', drop).on('drain', () => client.resume());
    forward(client, upstream, 'request');
    forward(upstream, client, 'reply');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    cutOnNextRequest() {
      armed = 'request';
    },
    cutOnNextReply() {
      armed = 'reply';
    },
    restore() {
      down = false;
      armed = null;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
