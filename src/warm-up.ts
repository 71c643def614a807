// Before Gatehouse listens, it serves a few hundred requests to itself, so its first visitors do not pay
// for cold code. Measured with the bench's cold-start scenario: a warm-up through a copy of the gate
// and a plain server still left the first 2,000 real requests at twice the CPU of later ones, because
// V8 threw away what it had learnt ("wrong map": the real server's sockets, the real gate and pool
// are other objects with other shapes). So the warm-up runs through the very server, gate and
// forwarder that will serve: the server listens on a loopback port of its own first, the forwarder
// sends to a stand-in of the app (forward.ts), and the requests are signed in with a session that
// exists only in the session cache (sessions.ts) when the gate would forward them. The app, the
// store and the audit log see nothing.
import type { Server } from 'node:http';
import { Pool } from 'undici';
import { listenOnLoopback } from './http/listen.js';
import type { Forwarder } from './proxy/forward.js';
import type { Gate } from './proxy/gate.js';
import { principalOf, type SessionService } from './session/sessions.js';
import type { User } from './store/types.js';

export interface WarmUpParts {
  /** The server that will listen for visitors, its gate, and the gate's forwarder. */
  server: Server;
  gate: Gate;
  forwarder: Forwarder;
  sessions: SessionService;
  /** The session cookie's name. */
  cookieName: string;
  /** The Host the gate serves (the public URL's); null: any host, the warm-up's own address. */
  host: string | null;
}

/** Requests in all, a balance measured on a 2-core machine: more leaves less for V8 to compile after
 *  listening (5,000 left a quarter of it), but every hundred adds ~60 ms to start-up, and a single
 *  instance that restarts is down for its start-up. */
export const WARM_UP_REQUESTS = 400;
/** Concurrent keep-alive connections. 16 rather than 8: the same 400 requests took ~200 ms less of
 *  start-up on a 2-core machine (work batches per event-loop turn), with no more left to compile. */
const CONNECTIONS = 16;
/** One request in this many comes on a new connection, so accepting one is warm too. Not more: on a
 *  small machine each costs over a millisecond of start-up (bench: startup). */
const FRESH_EVERY = 16;

const WARM_UP_USER: User = {
  id: 'warm-up',
  email: 'warm-up@gatehouse.invalid',
  name: 'Warm-up',
  role: 'member',
  passwordHash: null,
  emailVerified: true,
  disabled: false,
  groups: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

/** What the warm-up did: how many of its requests the stand-in answered, and whether they were signed in. */
export interface WarmUpReport {
  sent: number;
  forwarded: number;
  signedIn: boolean;
}

/** Serves `requests` requests to itself on a loopback port, then closes that listener. Never throws. */
export async function warmUp(parts: WarmUpParts, requests = WARM_UP_REQUESTS): Promise<WarmUpReport> {
  const { server, forwarder, sessions } = parts;
  // Signed in when the gate would forward it; signed out otherwise (or with auth off), so that no
  // refusal is ever audited for the warm-up.
  const principal = principalOf(WARM_UP_USER, 'password');
  const session = parts.gate.wouldForward(principal, '/') ? sessions.standIn(principal) : null;
  const report: WarmUpReport = { sent: 0, forwarded: 0, signedIn: session !== null };
  let client: Pool | null = null;
  try {
    const url = new URL(await listenOnLoopback(server));
    const headers: Record<string, string> = { host: parts.host ?? url.host, 'user-agent': 'gatehouse-warm-up' };
    if (session) headers.cookie = `${parts.cookieName}=${session.cookieValue}`;
    // undici as the client too: the same code as the forwarder's, so the client's work warms it as well.
    const to = (client = new Pool(url.origin, { connections: CONNECTIONS, pipelining: 1 }));
    const one = (fresh: boolean) => {
      report.sent++;
      return to.request({ path: '/', method: 'GET', headers, reset: fresh }).then(
        (r) => {
          if (r.statusCode === 200) report.forwarded++; // only the stand-in answers 200 to GET /
          return r.body.dump();
        },
        () => {},
      );
    };
    await forwarder.throughStandIn(async () => {
      for (let i = 0; i < requests; i += CONNECTIONS) {
        await Promise.all(Array.from({ length: CONNECTIONS }, (_, j) => one(j === 0 && i % FRESH_EVERY === 0)));
      }
    });
  } catch {
    // A failed warm-up costs only speed: the start goes on.
  } finally {
    await client?.destroy().catch(() => {});
    session?.end();
    // Not closeServer(): its later cut of every connection would fall on the visitors' ones.
    server.closeAllConnections();
    if (server.listening) await new Promise((r) => server.close(r));
  }
  return report;
}
