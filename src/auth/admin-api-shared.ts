// What the admin API's routes share (docs/admin-api.md): errors as {"error": CODE, "message": SENTENCE},
// the caller the guard in admin-api.ts names, the rows users and keys are shown as, the JSON body, and
// the audit of a change made through the API.
import type { AuthContext } from './context.js';
import { audit } from './audit.js';
import { jsonBody } from './json.js';
import { normalizeEmail } from '../accounts/email.js';
import type { Store } from '../store/types.js';
import type { ResolvedSession } from '../session/sessions.js';

export type ApiErrorCode =
  'unauthenticated' | 'forbidden' | 'csrf' | 'not_found' | 'bad_request' | 'rate_limited' | 'unavailable' | 'internal';

const STATUS: Record<ApiErrorCode, 400 | 401 | 403 | 404 | 429 | 500 | 503> = {
  unauthenticated: 401,
  forbidden: 403,
  csrf: 403,
  not_found: 404,
  bad_request: 400,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export function apiError(c: AuthContext, error: ApiErrorCode, message: string): Response {
  if (error === 'unauthenticated') c.header('www-authenticate', 'Bearer realm="gatehouse"');
  return c.json({ error, message }, STATUS[error]);
}

/** Who is calling, set by the adminOnly guard for the request (kept beside the context's typed variables). */
export interface Caller {
  admin: ResolvedSession;
  viaToken: boolean;
  /** Ends the token this request came with (POST /token/revoke: `gatehouse logout --remote`). */
  revoke?: () => Promise<unknown>;
}
const callers = new WeakMap<Request, Caller>();

/** The admin API's guard names the caller once per request; the routes read it with caller(c). */
export function rememberCaller(c: AuthContext, who: Caller): void {
  callers.set(c.req.raw, who);
}

export const caller = (c: AuthContext): Caller => {
  const who = callers.get(c.req.raw);
  if (!who) throw new Error(`${c.req.path}: admin API route without its guard`);
  return who;
};

// One shape for a user in the API and in `gatehouse users list --json`.
export { userRow } from '../accounts/user-row.js';
// One shape for a key in the API and in `gatehouse keys list --json`, kept with the keys themselves.
export { keyRow } from '../session/api-keys.js';

/** The body as an object; an empty body counts as {} (a POST that needs no fields). Null: not a JSON object. */
export async function apiBody(c: AuthContext): Promise<Record<string, unknown> | null> {
  if (/^application\/json\b/i.test(c.req.header('content-type') ?? '')) return jsonBody(c);
  return (c.req.header('content-length') ?? '0') === '0' ? {} : null;
}

export const BAD_BODY = 'The body must be a JSON object (Content-Type: application/json).';

/** A user by email (any case) or id. */
export const findUser = async (store: Store, ref: string) =>
  ref.includes('@') ? store.findUserByEmail(normalizeEmail(ref)) : store.findUserById(ref);
export const noUser = (c: AuthContext, ref: string) =>
  apiError(c, 'not_found', `There is no user ${ref.slice(0, 320)}.`);
/** Audits a change made through the API, as the calling admin. */
export const done = (c: AuthContext, action: string, target: string) =>
  audit(c, 'admin.action', { userId: caller(c).admin.principal.userId, detail: `api ${action} ${target}` });
