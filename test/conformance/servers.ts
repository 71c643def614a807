// Where the real database servers are, and whether they answer. A missing server means a skip with a
// reason, never a silent pass.
import { connect } from 'node:net';
import type { Store } from '../../src/store/types.js';
import type { TcpRelay } from '../support/tcp-relay.js';
import type { RelayOptions } from './store-suite.js';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    s.setTimeout(1500);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

/** The same URL, pointed at 127.0.0.1:<port> (a relay). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** The suite's relay options for a TCP relay, with every way it can cut. */
export function relayOptions(relay: TcpRelay, open: (prefix: string) => Promise<Store>): RelayOptions {
  return {
    open,
    cut: relay.cut,
    restore: relay.restore,
    cutOnNextRequest: relay.cutOnNextRequest,
    cutOnNextReply: relay.cutOnNextReply,
    cutOnRequest: relay.cutOnRequest,
  };
}

/** The URL with `query` (e.g. "pool=3") added to whatever query it has; as given when `query` is empty. */
export function withQuery(url: string, query: string): string {
  if (!query) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}
