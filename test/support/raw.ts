// Raw HTTP over a socket, for requests no client library would send.
import { connect } from 'node:net';

/** Sends `text` and resolves with everything the server answered before closing or going quiet. */
export function rawRequest(base: string, text: string | Buffer, opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const s = connect(Number(url.port), url.hostname);
    let out = '';
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(quiet);
      clearTimeout(limit);
      s.destroy();
      resolve(out);
    };
    const limit = setTimeout(done, opts.timeoutMs ?? 5000);
    s.on('data', (d) => {
      out += d.toString('latin1');
      clearTimeout(quiet);
      quiet = setTimeout(done, opts.quietMs ?? 150);
    });
    s.on('close', done);
    s.on('error', (err) => (out ? done() : reject(err)));
    s.write(text);
  });
}

export const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
