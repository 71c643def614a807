// What answers a request: the app behind Gatehouse (an upstream, the built-in demo, or none for
// forward-auth), the /auth routes, and the gate that sends each request to one of them.
import { getRequestListener } from '@hono/node-server';
import { createAuthApp } from './auth/routes.js';
import { envSetting } from './config/schema.js';
import type { Timeouts } from './http-server.js';
import type { LiveConfig } from './live-config.js';
import { createForwarder, type Forwarder } from './proxy/forward.js';
import { createGate, type Gate, type GateDeps } from './proxy/gate.js';
import type { ServeOptions } from './serve-options.js';
import type { Services } from './services.js';
import { ALL_OWN_COOKIES } from './session/cookies.js';
import { VIEWS_DIR } from './views-dir.js';
import type { IdentitySigner } from './access/identity-signer.js';
import { createDoor, type Door } from './admission/door.js';
import type { SettingsSource } from './config/settings.js';

export interface Upstream {
  forwarder: Forwarder | null;
  close(): Promise<void>;
}

/** The forwarder to --upstream, or to the demo app started here for --demo; none for forward-auth. */
export async function startUpstream(
  opts: ServeOptions,
  timeouts: Timeouts,
  gatehouseUrl: () => string = () => '',
): Promise<Upstream> {
  let demoApp: { url: string; close(): Promise<void> } | null = null;
  let upstream = opts.upstream;
  if (opts.demo && !upstream) {
    const { startDemoApp } = await import('./demo/whoami.js');
    // The demo verifies the signed identity as an app would: the keys Gatehouse publishes, the issuer it
    // signs as.
    const gatehouse = () => {
      const url = gatehouseUrl();
      return url ? { jwks: `${url}${opts.prefix}/.well-known/jwks.json`, origin: opts.publicUrl?.origin ?? url } : null;
    };
    demoApp = await startDemoApp({ host: '127.0.0.1', port: 0, prefix: opts.prefix, gatehouse });
    upstream = demoApp.url;
  }
  // Both spellings of every Gatehouse cookie: the app may set none of them.
  const forwarder = upstream
    ? createForwarder({
        upstream,
        headersTimeoutMs: timeouts.upstreamHeaders,
        ownCookies: ALL_OWN_COOKIES,
        onReachable: (up) =>
          opts.log(
            up ? `app: ${upstream} answers again` : `app: ${upstream} is not reachable; answering 502 until it is`,
          ),
      })
    : null;
  return {
    forwarder,
    async close() {
      await forwarder?.close();
      await demoApp?.close();
    },
  };
}

export interface FrontDoorParts {
  opts: ServeOptions;
  services: Services;
  live: LiveConfig;
  forwarder: Forwarder | null;
  timeouts: Timeouts;
  /** Origin for links in emails once the server listens (the public URL wins). */
  listeningOrigin: () => string;
  signer: IdentitySigner | null;
  now: () => number;
}

export function buildGate(parts: FrontDoorParts): Gate {
  const { opts, services, live, forwarder, timeouts, signer, now } = parts;
  const settings: SettingsSource = { current: live.settings, latest: () => (live.reload(), live.settings()) };
  const onStoreError = throttled(10_000, now, (err: unknown) =>
    opts.log(`store: unavailable (${(err as Error).message}); answering 503 until it returns`),
  );
  // One door for every entrance: the gate, WebSocket upgrades and /auth/check (admission/door.ts).
  const door = createDoor({ ...services, settings, publicUrl: opts.publicUrl, onStoreError });
  const authApp = buildAuthApp(parts, settings, door);
  return createGate({
    ...services,
    ...gatePages(opts, services.renderer),
    prefix: opts.prefix,
    authApp: getRequestListener(authApp.fetch, { overrideGlobalObjects: false }),
    forwarder,
    door,
    settings,
    signer,
    publicUrl: opts.publicUrl,
    allowedHosts: opts.allowedHosts,
    allowedOrigins: opts.allowedOrigins,
    tunnels: { handshakeMs: timeouts.upstreamHeaders, idleMs: timeouts.idle, ...opts.tunnels },
    onMisdirected: throttled(60_000, now, (host: string) =>
      opts.log(
        `host: a request for "${host.slice(0, 100)}" was sent to ${opts.publicUrl?.origin} instead ` +
          "(not the public URL's host; list it in GATEHOUSE_ALLOWED_HOSTS if it is yours)",
      ),
    ),
    onStoreError,
    onSigningError: throttled(10_000, now, (err: unknown) =>
      opts.log(`assertion: could not sign (${(err as Error).message}); answering 503`),
    ),
  });
}

/** The /auth app, asking the same door as the gate. */
function buildAuthApp(
  { opts, services, live, listeningOrigin, signer, now }: FrontDoorParts,
  settings: SettingsSource,
  door: Door,
) {
  return createAuthApp({
    ...services,
    settings,
    door,
    appName: opts.appName,
    prefix: opts.prefix,
    publicOrigin: opts.publicUrl?.origin ?? null,
    viewsDir: VIEWS_DIR,
    demo: opts.demo,
    mailer: live.mailer,
    providers: live.providers,
    linkOrigin: () => opts.publicUrl?.origin ?? listeningOrigin(),
    signer,
    now,
    oauthDcr: envSetting('oauthDcr', opts.env),
    // "Unless the deployment itself is on loopback": the public URL's host, else the address we listen on.
    oauthCimd: {
      allowLoopback: isLoopbackName(opts.publicUrl?.hostname ?? opts.host),
      ...(opts.cimdCa ? { ca: opts.cimdCa } : {}),
    },
  });
}

/** The pages the gate answers with itself: 403 for a rule's refusal, and its 5xx/404 error pages. */
function gatePages(opts: ServeOptions, renderer: Services['renderer']): Pick<GateDeps, 'forbiddenPage' | 'errorPage'> {
  const { appName, prefix } = opts;
  return {
    forbiddenPage: (p, path) =>
      renderer.render('forbidden', { appName, prefix, title: 'Not open to you', name: p.name, email: p.email, path }),
    errorPage: (status, heading, message) =>
      renderer.render('error', { appName, prefix, title: heading, status, heading, message, retryAfter: null }),
  };
}

function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `fn` at most once per `ms`: a crawler hammering a wrong name, or a store that is down, must not flood the
 *  log. */
function throttled<A>(ms: number, now: () => number, fn: (arg: A) => void): (arg: A) => void {
  let last = -Infinity;
  return (arg) => {
    if (now() - last < ms) return;
    last = now();
    fn(arg);
  };
}
