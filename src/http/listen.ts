// A throwaway listener on loopback, shared by the warm-up (warm-up.ts) and the forwarder's stand-in app.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on a free loopback port of this process's own (the warm-up's servers); the URL. */
export function listenOnLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // `exclusive`: in a cluster worker (`serve --workers N`) a plain listen(0) is shared through the
    // primary by call order, so one worker's throwaway server could receive another worker's traffic.
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}
