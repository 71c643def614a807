// One way to write an audit line from a request: the client's address and user agent come along.
import type { AuditEvent } from '../security/audit-log.js';
import type { LimitKind } from '../security/rate-limit.js';
import type { AuthContext } from './context.js';
import { errorPage } from './pages.js';

export interface AuditFields {
  userId?: string | null;
  email?: string | null;
  detail?: string;
}

export function audit(c: AuthContext, event: AuditEvent, fields: AuditFields = {}): void {
  c.var.deps.audit.record(event, { ...fields, ip: c.get('ip'), userAgent: c.get('userAgent') });
}

/** Counts an attempt; a 429 page (with Retry-After) when over the limit, else null. */
export async function limited(c: AuthContext, kind: LimitKind, account?: string): Promise<Response | null> {
  const verdict = await c.var.deps.limits.check(kind, c.get('ip'), account);
  if (verdict.ok) return null;
  audit(c, 'rate-limited', { email: account ?? null, detail: kind });
  return errorPage(c, 429, 'Too many attempts', 'Please wait a little before trying again.', verdict.retryAfterSec);
}
