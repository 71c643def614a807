// Raw HTTP over a socket, for requests no client library would send.
import { connect } from 'node:net';

/** Sends `text` and resolves with everything the server answered before closing or going quiet. */
export function rawRequest(
  base: string,
  text: string | Buffer,
  opts: { quietMs?: number; timeoutMs?: number } = {},
): Promise<string> {
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

/**
 * Like rawRequest, in several writes on one socket: each write waits `afterMs` after the one before
 * (skipped once the server closed). The answer is collected until the server closes, or — once all
 * is written and something was answered — goes quiet.
 */
export function rawWrites(
  base: string,
  writes: ReadonlyArray<{ data: Buffer; afterMs: number }>,
  opts: { quietMs?: number; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const s = connect(Number(url.port), url.hostname);
    let out = '';
    let quiet: NodeJS.Timeout | undefined;
    let next: NodeJS.Timeout | undefined;
    let allWritten = false;
    const done = () => {
      clearTimeout(quiet);
      clearTimeout(next);
      clearTimeout(limit);
      s.destroy();
      resolve(out);
    };
    const arm = () => {
      clearTimeout(quiet);
      if (allWritten && out) quiet = setTimeout(done, opts.quietMs ?? 150);
    };
    const limit = setTimeout(done, opts.timeoutMs ?? 5000);
    const writeFrom = (i: number) => {
      if (s.destroyed) return;
      s.write(writes[i]!.data);
      if (i + 1 < writes.length) next = setTimeout(() => writeFrom(i + 1), writes[i + 1]!.afterMs);
      else {
        allWritten = true;
        arm();
      }
    };
    s.on('data', (d) => {
      out += d.toString('latin1');
      arm();
    });
    s.on('close', done);
    s.on('error', (err) => (out ? done() : reject(err)));
    if (writes.length === 0) return done();
    next = setTimeout(() => writeFrom(0), writes[0]!.afterMs);
  });
}

export const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
