// Security events as one JSON line each (never a password, token or cookie), plus counters for
// /auth/metrics.
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
  // The account page (SPEC §12): an address moved only by a link mailed to it; identities joined and
  // parted by the user; every other session ended at once.
  | 'email.change-requested'
  | 'email.changed'
  | 'identity.linked'
  | 'identity.unlinked'
  | 'session.revoked-others';

export interface AuditLog {
  record(event: AuditEvent, fields: { userId?: string | null; email?: string | null; ip?: string | null; userAgent?: string | null; detail?: string }): void;
  counts(): ReadonlyMap<string, number>;
}

export function createAuditLog(write: (line: string) => void, now: () => number = Date.now): AuditLog {
  const counts = new Map<string, number>();
  return {
    record(event, fields) {
      counts.set(event, (counts.get(event) ?? 0) + 1);
      write(
        JSON.stringify({
          time: new Date(now()).toISOString(),
          event,
          userId: fields.userId ?? null,
          email: fields.email ?? null,
          ip: fields.ip ?? null,
          userAgent: fields.userAgent ? fields.userAgent.slice(0, 256) : null,
          ...(fields.detail ? { detail: fields.detail } : {}),
        }),
      );
    },
    counts: () => counts,
  };
}
