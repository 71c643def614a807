// The one door (architecture.md#admission): who is asking, and may they pass. Every entrance — the
// gate's HTTP path, WebSocket upgrades, `/auth/check` — asks `decide` and only translates its verdict
// into its own answer (forward, 302/401/403, 101 or a refused handshake, a 200 with identity headers).
//
//   identify: the credentials, tried in one order — an OAuth bearer token (it decides, whatever cookie
//             comes with it), the session cookie, an API key — into a caller, nobody, or a credential
//             that does not hold;
//   admit:    the mode, then the token's resource binding, the second-factor policy and the access rules
//             (rules.ts, paths.ts) into a verdict with a stable code and a reason.
//
// The signed-in request whose session is cached is decided synchronously (the hot path); anything that
// needs the store returns a promise. A store that fails while finding who is asking lets only what
// needs no one through (public paths), and answers everything else `unavailable`.
import type { LiveSettings } from '../config/settings.js';
import { readCookie } from '../session/cookies.js';
import { bearerApiKey } from '../session/api-keys.js';
import { bearerOAuthToken, looksLikeOAuthBearer, type ResolvedToken } from '../oauth/tokens.js';
import { resourceFor, tokenOpens } from '../oauth/resources.js';
import { bearerChallenge } from '../oauth/metadata.js';
import { isLoopback } from '../security/client-ip.js';
import { mustEnrol } from '../mfa/policy.js';
import { policyOf, type AccessPolicy } from '../access/policy.js';
import { decide, subjectOf, type Decision, type Subject } from '../access/rules.js';
import { readPath } from '../access/paths.js';
import { overriddenMethods } from './method-overrides.js';
import {
  EVERY_CREDENTIAL,
  type AdmissionRequest,
  type Credential,
  type Door,
  type DoorDeps,
  type Entrance,
  type Identity,
  type Verdict,
} from './types.js';

// The door's vocabulary lives in types.ts; importers keep reading all of it from here.
export * from './types.js';

const NOBODY: Identity = { kind: 'nobody' };
const PASS_ANONYMOUS: Verdict = { code: 'pass', session: null, token: null };

export function createDoor(deps: DoorDeps): Door {
  const originOf = (req: Pick<AdmissionRequest, 'headers'>) => requestOrigin(deps.publicUrl, req.headers.host);
  const ctx: DoorContext = { deps, originOf };
  return {
    originOf,
    identify: (req, accept = EVERY_CREDENTIAL) => identify(ctx, req, accept),
    decide(req, entrance) {
      const s = deps.settings.current();
      // Auth off means off: no identity reaches the app, even from a browser that still holds a session.
      if (s.mode === 'off') return PASS_ANONYMOUS;
      const who = identify(ctx, req, EVERY_CREDENTIAL);
      if (!(who instanceof Promise)) return audited(ctx, req, entrance, admit(ctx, s, req, who));
      return who.then(
        (w) => audited(ctx, req, entrance, admit(ctx, deps.settings.current(), req, w)),
        (err) => storeFailed(ctx, deps.settings.current(), req, err),
      );
    },
    admitSession(session, req) {
      const s = deps.settings.current();
      return s.mode === 'off'
        ? PASS_ANONYMOUS
        : admitCaller(ctx, s, req, { kind: 'caller', session, credential: 'cookie', token: null, bearer: null });
    },
  };
}

interface DoorContext {
  deps: DoorDeps;
  originOf(req: Pick<AdmissionRequest, 'headers'>): string;
}

/** The credentials in their one order; synchronous when the session cache answers. */
function identify(
  { deps }: DoorContext,
  req: AdmissionRequest,
  accept: ReadonlySet<Credential>,
): Identity | Promise<Identity> {
  const authorization = req.headers.authorization;
  if (deps.oauthTokens && accept.has('oauth') && looksLikeOAuthBearer(authorization))
    return tokenIdentity(deps.oauthTokens, bearerOAuthToken(authorization));
  const cookie = accept.has('cookie') ? readCookie(req.headers.cookie, deps.cookies.session) : undefined;
  const orKey = () => (accept.has('api-key') ? keyIdentity(deps, req) : NOBODY);
  if (cookie) {
    const cached = deps.sessions.peek(cookie);
    if (cached) return { kind: 'caller', session: cached, credential: 'cookie', token: null, bearer: null };
    if (cached === undefined)
      return deps.sessions
        .resolve(cookie)
        .then((s) => (s ? { kind: 'caller', session: s, credential: 'cookie', token: null, bearer: null } : orKey()));
  }
  return orKey();
}

function tokenIdentity(
  tokens: NonNullable<DoorDeps['oauthTokens']>,
  bearer: string | null,
): Identity | Promise<Identity> {
  if (!bearer) return { kind: 'bad-token' };
  const known = (t: ResolvedToken | null): Identity =>
    t ? { kind: 'caller', session: t.session, credential: 'oauth', token: t, bearer } : { kind: 'bad-token' };
  const cached = tokens.peek(bearer);
  return cached ? known(cached) : tokens.resolve(bearer).then(known);
}

function keyIdentity(deps: DoorDeps, req: AdmissionRequest): Identity | Promise<Identity> {
  const key = bearerApiKey(req.headers.authorization);
  if (!key) return NOBODY;
  const meta = { ip: clientIp(deps, req), userAgent: one(req.headers['user-agent']) ?? null };
  return deps.apiKeys
    .resolve(key, meta)
    .then((s): Identity =>
      s ? { kind: 'caller', session: s, credential: 'api-key', token: null, bearer: null } : { kind: 'bad-key' },
    );
}

function admit(ctx: DoorContext, s: LiveSettings, req: AdmissionRequest, who: Identity): Verdict | Promise<Verdict> {
  switch (who.kind) {
    case 'caller':
      return admitCaller(ctx, s, req, who);
    case 'nobody':
      return admitNobody(ctx, s, req);
    case 'bad-token':
      return invalidToken(ctx, s, req, 'the OAuth access token is not valid');
    case 'bad-key':
      return refusedKey(ctx, s, req);
  }
}

/** A signed-in caller: token binding, the second-factor policy, then the rules. */
function admitCaller(
  ctx: DoorContext,
  s: LiveSettings,
  req: AdmissionRequest,
  who: Extract<Identity, { kind: 'caller' }>,
): Verdict {
  const { session, token } = who;
  if (token) {
    // A token opens only its own resource's path (RFC 8707), read in both ways (paths.ts).
    const path = readPath(req.url);
    if (path === null) return { code: 'ambiguous-path', reason: 'the path is ambiguous' };
    if (!tokenOpens(token.resource, ctx.originOf(req), resourceFor(s.mcp, path), path))
      return invalidToken(ctx, s, req, 'the token is for another resource');
  }
  if (s.mfa !== 'optional' && mustEnrol(s.mfa, session.principal))
    return { code: 'enrol', reason: `GATEHOUSE_MFA=${s.mfa} asks this user for a second factor`, session };
  const policy = policyOf(s);
  if (!policy.restricts) return { code: 'pass', session, token: who.bearer };
  const d = decideAs(policy, req, subjectOf(session.principal));
  if (d.outcome === 'allow' || d.outcome === 'public') return { code: 'pass', session, token: who.bearer };
  if (d.outcome === 'malformed') return { code: 'ambiguous-path', reason: d.reason };
  if (d.outcome === 'mfa') return { code: 'step-up', reason: d.reason, session };
  return { code: 'forbidden', reason: d.reason, session }; // 'deny'; 'sign-in' cannot happen with a subject
}

/**
 * The rules' decision for every method the app could take this request for. Frameworks honour method
 * overrides (`X-HTTP-Method-Override` and its spellings, `?_method=`; Rails and Laravel read `_method`
 * from a form body, which the gate does not read): where a rule limits methods, a GET that an app would
 * run as a DELETE is decided as both, and the stricter answer stands.
 */
function decideAs(policy: AccessPolicy, req: AdmissionRequest, subject: Subject | null): Decision {
  const d = decide(policy.rules, req.method, req.url, subject, policy.fallback);
  if (!policy.limitsMethods || (d.outcome !== 'allow' && d.outcome !== 'public')) return d;
  for (const m of overriddenMethods(req)) {
    const other = decide(policy.rules, m, req.url, subject, policy.fallback);
    if (other.outcome !== 'allow' && other.outcome !== 'public') return other;
  }
  return d;
}

/** A rule's refusal is an audit line, wherever it was asked; the verdict is passed on as it is. */
function audited(
  ctx: DoorContext,
  req: AdmissionRequest,
  entrance: Entrance,
  v: Verdict | Promise<Verdict>,
): Verdict | Promise<Verdict> {
  if (v instanceof Promise) return v.then((x) => audited(ctx, req, entrance, x));
  if (v.code !== 'forbidden' && v.code !== 'step-up') return v;
  const p = v.session.principal;
  const via = entrance === 'gate' ? '' : ` (${entrance})`;
  const detail = `${req.method} ${req.url.slice(0, 200)}${via}: ${v.reason}`;
  ctx.deps.audit.record('access.denied', {
    userId: p.userId,
    email: p.email,
    ip: clientIp(ctx.deps, req),
    userAgent: one(req.headers['user-agent']) ?? null,
    detail,
  });
  return v;
}

/** Nobody is asking: hybrid loopback, a public path — or sign in first. */
function admitNobody(ctx: DoorContext, s: LiveSettings, req: AdmissionRequest): Verdict {
  // Hybrid mode trusts the TCP peer, never a header.
  if (s.mode === 'hybrid' && req.peerIsClient !== false && isLoopback(req.peer)) return PASS_ANONYMOUS;
  const policy = policyOf(s);
  if (policy.rules.length) {
    const d = decideAs(policy, req, null);
    if (d.outcome === 'public') return PASS_ANONYMOUS;
    // With rules in force, an ambiguous path is refused outright rather than guessed at.
    if (d.outcome === 'malformed') return { code: 'ambiguous-path', reason: d.reason };
  }
  return { code: 'sign-in', reason: 'not signed in', challenge: oauthChallenge(ctx, s, req) };
}

/** A presented API key that is not valid: counted per client address; past the limit, 429. */
async function refusedKey(ctx: DoorContext, s: LiveSettings, req: AdmissionRequest): Promise<Verdict> {
  const ip = clientIp(ctx.deps, req);
  ctx.deps.audit.record('api-key.refused', { ip, userAgent: one(req.headers['user-agent']) ?? null });
  try {
    const limit = await ctx.deps.limits.check('api-key', ip);
    if (!limit.ok)
      return { code: 'rate-limited', reason: 'too many keys that were not valid', retryAfterSec: limit.retryAfterSec };
  } catch (err) {
    ctx.deps.onStoreError(err);
    return { code: 'unavailable', reason: 'the store could not count the refused key' };
  }
  return admitNobody(ctx, s, req);
}

function invalidToken(ctx: DoorContext, s: LiveSettings, req: AdmissionRequest, reason: string): Verdict {
  const path = readPath(req.url);
  const r = path && s.mcp.length ? resourceFor(s.mcp, path) : undefined;
  return {
    code: 'invalid-token',
    reason,
    challenge: r ? bearerChallenge(ctx.originOf(req), r, 'invalid_token') : 'Bearer error="invalid_token"',
  };
}

/** Under an MCP resource the 401's challenge is OAuth's: a client discovers everything from it. */
function oauthChallenge(ctx: DoorContext, s: LiveSettings, req: AdmissionRequest): string | undefined {
  if (!s.mcp.length) return undefined;
  const path = readPath(req.url);
  const r = path ? resourceFor(s.mcp, path) : undefined;
  return r ? bearerChallenge(ctx.originOf(req), r) : undefined;
}

/** The store failed while finding who is asking: what needs no one still passes, anything else is 503. */
function storeFailed(ctx: DoorContext, s: LiveSettings, req: AdmissionRequest, err: unknown): Verdict {
  const anonymous = admitNobody(ctx, s, req);
  if (anonymous.code === 'pass') return anonymous;
  ctx.deps.onStoreError(err);
  return { code: 'unavailable', reason: 'the store could not be asked who this is' };
}

/** The public origin resource indicators are made of. */
function requestOrigin(publicUrl: URL | null, host: string | undefined): string {
  if (publicUrl) return publicUrl.origin;
  // Without a public URL (local development) the Host names it; one that is no host name never reaches a
  // header we write.
  return `http://${host && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? host : 'localhost'}`;
}

function clientIp(deps: DoorDeps, req: AdmissionRequest): string {
  return deps.trusted.clientIp(req.peer, req.headers['x-forwarded-for']);
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
