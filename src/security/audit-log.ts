// Security events as one JSON line each (never a password, token or cookie), plus counters for
// /auth/metrics.
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/types.js';

export type AuditEvent =
  | 'sign-in.success'
  | 'sign-in.failure'
  | 'sign-in.unverified'
  | 'sign-up'
  | 'sign-out'
  | 'session.revoked'
  | 'password.changed'
  | 'password.change-failed'
  | 'setup.admin-created'
  | 'password.reset-requested'
  | 'password.reset'
  | 'email.verified'
  | 'provider.login'
  | 'provider.link-refused'
  | 'provider.token-refused'
  | 'admin.action'
  | 'lockout'
  | 'rate-limited'
  | 'csrf.refused'
  | 'access.denied'
  | 'api-key.used'
  | 'api-key.refused'
  | 'passkey.added'
  | 'passkey.renamed'
  | 'passkey.removed'
  | 'passkey.used'
  | 'passkey.refused'
  // Second factor (architecture.md#mfa): every change to a user's factors, and every wrong code.
  | 'mfa.enrolled'
  | 'mfa.removed'
  | 'mfa.recovery-regenerated'
  | 'mfa.recovery-used'
  | 'mfa.reset'
  | 'mfa.failure'
  | 'mfa.step-up'
  | 'token.created'
  | 'token.regenerated'
  | 'token.disabled'
  | 'pairing.created'
  | 'pairing.used'
  | 'pairing.refused'
  | 'handoff.used'
  | 'handoff.refused'
  | 'oauth.client-registered'
  | 'oauth.consent'
  | 'oauth.denied'
  | 'oauth.token-issued'
  | 'oauth.refresh-reused'
  | 'oauth.code-reused'
  | 'oauth.revoked'
  | 'device.requested'
  | 'device.approved'
  | 'device.denied'
  | 'device.refused'
  // The account page (architecture.md#devices): an address moved only by a link mailed to it; identities joined and
  // parted by the user; every other session ended at once.
  | 'email.change-requested'
  | 'email.changed'
  | 'identity.linked'
  | 'identity.unlinked'
  | 'session.revoked-others'
  | 'invite.created'
  | 'invite.revoked';

export interface AuditLog {
  record(
    event: AuditEvent,
    fields: {
      userId?: string | null;
      email?: string | null;
      ip?: string | null;
      userAgent?: string | null;
      detail?: string;
    },
  ): void;
  counts(): ReadonlyMap<string, number>;
}

/** How long the store keeps security events, and at most how many (pruned by the session sweep). */
export const EVENTS_KEPT = { maxAgeMs: 30 * 24 * 60 * 60_000, max: 10_000 };

/**
 * Every audit line goes to `write`; with a `store`, the same fields (no user agent) also go to the
 * store's recent events, which every replica's console reads. A store write is not awaited: a slow or
 * failing store never holds up the request, and its failure is logged at most once a minute.
 */
export function createAuditLog(
  write: (line: string) => void,
  now: () => number = Date.now,
  store?: Pick<Store, 'recordEvent'>,
): AuditLog {
  const counts = new Map<string, number>();
  let lastFailure = -Infinity;
  const keep = (line: {
    time: string;
    event: string;
    userId: string | null;
    email: string | null;
    ip: string | null;
    detail?: string;
  }) =>
    store
      ?.recordEvent({
        id: randomUUID(),
        at: new Date(line.time),
        event: line.event,
        userId: line.userId,
        email: line.email,
        ip: line.ip,
        detail: line.detail ?? null,
      })
      .catch((err: Error) => {
        if (now() - lastFailure < 60_000) return;
        lastFailure = now();
        write(
          JSON.stringify({ time: new Date(now()).toISOString(), event: 'audit.store-failed', detail: err.message }),
        );
      });
  return {
    record(event, fields) {
      counts.set(event, (counts.get(event) ?? 0) + 1);
      const line = {
        time: new Date(now()).toISOString(),
        event,
        userId: fields.userId ?? null,
        email: fields.email ?? null,
        ip: fields.ip ?? null,
        userAgent: fields.userAgent ? fields.userAgent.slice(0, 256) : null,
        ...(fields.detail ? { detail: fields.detail } : {}),
      };
      write(JSON.stringify(line));
      void keep(line);
    },
    counts: () => counts,
  };
}
