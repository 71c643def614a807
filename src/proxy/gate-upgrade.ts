// WebSocket upgrades through the gate (architecture.md#the-path-of-a-request): the door decides as for any
// request, then proxy/forward.ts joins the tunnel and proxy/tunnels.ts closes it when its credential ends.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Verdict } from '../admission/door.js';
import { upstreamHeaders } from './headers.js';
import type { TunnelWatch } from './tunnels.js';
import { FORBIDDEN, MFA_REQUIRED } from './answers.js';
import { foreignOrigin, forwardContext, hasBody, malformed } from './request-checks.js';
import { asked, type GateCore, type TunnelLimits } from './gate-core.js';

/**
 * An `Upgrade:` request (WebSocket): the door decides as for any request, then a tunnel that lives only
 * as long as the credential it was opened with — checked again on the session's cadence (tunnels.ts).
 */
export function upgrade(
  core: GateCore,
  watch: TunnelWatch,
  limits: TunnelLimits,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const { deps, answers } = core;
  socket.on('error', () => socket.destroy());
  const refusal = malformed(req);
  if (refusal) return answers.refuseUpgrade(socket, refusal[0], 'Refused', '');
  const elsewhere = core.hosts.misdirected(req, null);
  if (elsewhere) return answers.refuseUpgrade(socket, 421, 'Misdirected Request', elsewhere.body);
  const fwd = deps.forwarder;
  if (core.isAuthRoute(req.url ?? '/') || !fwd) return answers.refuseUpgrade(socket, 404, 'Not Found', '');
  // A handshake has no body; one with a body would hold it until a 101 that cannot come.
  if (hasBody(req))
    return answers.refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'upgrade_with_body' }));
  const off = deps.settings.current().mode === 'off';
  if (!off && foreignOrigin(req, deps.publicUrl, deps.allowedOrigins ?? []))
    return answers.refuseUpgrade(socket, 403, 'Forbidden');
  const open = (v: Extract<Verdict, { code: 'pass' }>) => {
    const s = v.session;
    const headers = upstreamHeaders(
      req,
      forwardContext(req, true, deps.trusted, deps.publicUrl),
      s ? core.identityOf(s) : null,
    );
    const stillValid = s ? stillValidCheck(core, req) : null;
    const opened = (close: () => void) => watch.add(close, stillValid);
    const go = () =>
      fwd.upgrade(req, socket, head, headers, {
        handshakeTimeoutMs: limits.handshakeMs,
        idleMs: limits.idleMs,
        halfCloseMs: limits.halfCloseMs,
        opened,
      });
    core.withAssertion(s, headers, go, (err) => {
      deps.onSigningError?.(err);
      answers.refuseUpgrade(socket, 503, 'Service Unavailable');
    });
  };
  const decided = (v: Verdict) => (v.code === 'pass' ? open(v) : refuseUpgrade(core, socket, v));
  const v = deps.door.decide(asked(req), 'websocket');
  if (!(v instanceof Promise)) return decided(v);
  v.then(decided, () => answers.refuseUpgrade(socket, 503, 'Service Unavailable'));
}

/** An open tunnel is asked through the door again: a credential that ended, or a rule that now refuses,
 *  closes it (the session and token caches revalidate against the store every 2 s). */
function stillValidCheck(core: GateCore, req: IncomingMessage): () => Promise<boolean> {
  return async () => {
    const again = await core.deps.door.decide(asked(req), 'websocket');
    return again.code === 'pass' && again.session !== null;
  };
}

/** A refused handshake: the status line and JSON body the verdict calls for. */
function refuseUpgrade(core: GateCore, socket: Duplex, v: Exclude<Verdict, { code: 'pass' }>): void {
  const { answers } = core;
  switch (v.code) {
    case 'ambiguous-path':
      return answers.refuseUpgrade(socket, 400, 'Bad Request', JSON.stringify({ error: 'ambiguous_path' }));
    case 'sign-in':
      return answers.refuseUpgrade(socket, 401, 'Unauthorized');
    case 'invalid-token':
      return answers.refuseUpgrade(socket, 401, 'Unauthorized', JSON.stringify({ error: 'invalid_token' }));
    case 'rate-limited':
      return answers.refuseUpgrade(socket, 429, 'Too Many Requests', JSON.stringify({ error: 'rate_limited' }));
    case 'forbidden':
      return answers.refuseUpgrade(socket, 403, 'Forbidden', FORBIDDEN);
    case 'step-up':
    case 'enrol':
      return answers.refuseUpgrade(socket, 403, 'Forbidden', MFA_REQUIRED);
    case 'unavailable':
      return answers.refuseUpgrade(socket, 503, 'Service Unavailable');
  }
}
