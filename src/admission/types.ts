// What the door (door.ts, architecture.md#admission) reads, answers and is made of: the request as every
// entrance hands it over, the verdicts with their stable codes, the identities the credentials resolve to.
import type { IncomingHttpHeaders } from 'node:http';
import type { SettingsSource } from '../config/settings.js';
import type { ResolvedSession, SessionService } from '../session/sessions.js';
import type { CookieNames } from '../session/cookies.js';
import type { ApiKeyService } from '../session/api-keys.js';
import type { OAuthTokenService, ResolvedToken } from '../oauth/tokens.js';
import type { RateLimiter } from '../security/rate-limit.js';
import type { TrustedProxies } from '../security/client-ip.js';
import type { AuditLog } from '../security/audit-log.js';

/** What the door reads of a request: for `/auth/check`, the original method and URI a proxy named. */
export interface AdmissionRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The TCP peer (never a header): hybrid mode lets loopback through; limits count by it. */
  peer: string | undefined;
  /** false when the peer asks for someone else it does not name (forward-auth without a trusted proxy, which
   *  is always loopback behind a local nginx): hybrid mode does not let it through then. */
  peerIsClient?: boolean;
}

export type Entrance = 'gate' | 'websocket' | 'forward-auth';

export type Verdict =
  /** Through: with the caller's session, or as nobody (a public path, auth off, hybrid loopback). */
  | { code: 'pass'; session: ResolvedSession | null; token: string | null }
  /** 400: the path cannot be read one way only (paths.ts). */
  | { code: 'ambiguous-path'; reason: string }
  /** 401, or a redirect to sign-in for a browser navigation; `challenge` is OAuth's under an MCP resource. */
  | { code: 'sign-in'; reason: string; challenge: string | undefined }
  /** 401: an OAuth token that is not valid, or not for this path. */
  | { code: 'invalid-token'; reason: string; challenge: string }
  /** 429: too many API keys that were not valid, from this address. */
  | { code: 'rate-limited'; reason: string; retryAfterSec: number }
  /** 403: an access rule refuses this caller. */
  | { code: 'forbidden'; reason: string; session: ResolvedSession }
  /** 403, or the step-up page for a navigation: an `--mfa` rule wants a second factor in this session. */
  | { code: 'step-up'; reason: string; session: ResolvedSession }
  /** 403, or enrolment for a navigation: GATEHOUSE_MFA wants this person to have a second factor first. */
  | { code: 'enrol'; reason: string; session: ResolvedSession }
  /** 503: the store could not be asked. */
  | { code: 'unavailable'; reason: string };

export type VerdictCode = Verdict['code'];

export interface DoorDeps {
  settings: SettingsSource;
  sessions: Pick<SessionService, 'peek' | 'resolve'>;
  apiKeys: Pick<ApiKeyService, 'resolve'>;
  oauthTokens: Pick<OAuthTokenService, 'peek' | 'resolve'> | null;
  limits: Pick<RateLimiter, 'check'>;
  audit: Pick<AuditLog, 'record'>;
  cookies: CookieNames;
  trusted: TrustedProxies;
  publicUrl: URL | null;
  onStoreError(err: unknown): void;
}

export interface Door {
  decide(req: AdmissionRequest, entrance: Entrance): Verdict | Promise<Verdict>;
  /** Who is asking, trying only the credentials an entrance accepts, in the one order (the auth app's
   *  pages take the cookie; `/auth/me` and the admin API take keys and tokens too). */
  identify(req: AdmissionRequest, accept?: ReadonlySet<Credential>): Identity | Promise<Identity>;
  /** The verdict for a session already in hand, without audit (the warm-up asks where it may go). */
  admitSession(session: ResolvedSession, req: AdmissionRequest): Verdict;
  /** The resource indicator origin for this request (the public URL's, else the Host's). */
  originOf(req: Pick<AdmissionRequest, 'headers'>): string;
}

export type Credential = 'oauth' | 'cookie' | 'api-key';
export const EVERY_CREDENTIAL: ReadonlySet<Credential> = new Set(['oauth', 'cookie', 'api-key']);

export type Identity =
  | {
      kind: 'caller';
      session: ResolvedSession;
      credential: Credential;
      token: ResolvedToken | null;
      bearer: string | null;
    }
  | { kind: 'nobody' }
  | { kind: 'bad-token' }
  | { kind: 'bad-key' };

/** Verdicts that a navigation answers with a page or redirect; the rest are JSON for everyone. */
export const STATUS_OF: Record<Exclude<VerdictCode, 'pass'>, number> = {
  'ambiguous-path': 400,
  'sign-in': 401,
  'invalid-token': 401,
  'rate-limited': 429,
  forbidden: 403,
  'step-up': 403,
  enrol: 403,
  unavailable: 503,
};
