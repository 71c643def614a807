// What `gatehouse serve` (or a test) hands the composition root: plain, already validated values.
import type { Scope } from './config/state.js';
import type { DEFAULT_TIMEOUTS } from './http-server.js';
import type { TunnelLimits } from './proxy/gate.js';
import type { LimitRules } from './security/rate-limit.js';
import type { LockoutPolicy } from './security/lockout.js';

export interface ServeOptions {
  scope: Scope;
  host: string;
  port: number;
  upstream: string | null;
  demo: boolean;
  publicUrl: URL | null;
  trustedProxies: string[];
  appName: string;
  prefix: string;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Audit lines (JSON); default: the log. */
  auditLine?: (line: string) => void;
  /** Slow-client and upstream timeouts (ms); defaults in DEFAULT_TIMEOUTS. */
  timeouts?: Partial<typeof DEFAULT_TIMEOUTS>;
  /** Hosts besides the public URL's that are served (GATEHOUSE_ALLOWED_HOSTS). */
  allowedHosts?: string[];
  /** Origins besides the public URL's that may open WebSockets (GATEHOUSE_WS_ORIGINS). */
  allowedOrigins?: string[];
  /** WebSocket tunnel limits (tests shorten them). */
  tunnels?: Partial<TunnelLimits>;
  /** Rate limits and lockout policy (defaults: security/rate-limit.ts). */
  limits?: LimitRules;
  lockout?: LockoutPolicy;
  /** Print a one-time setup link while there are no users (false in --workers processes: the primary prints it). */
  announceSetup?: boolean;

  /** Extra CA certificates trusted when fetching Client ID Metadata Documents (tests' self-signed servers). */
  cimdCa?: string;

  now?: () => number;
}
