// Who a session (or a key, or an OAuth token) speaks for, as the gate forwards it: the principal, built
// once per store check and shared by every request of that session until the next one.
import type { Role, User } from '../store/types.js';
import { amrOf } from '../mfa/policy.js';
import { isPassphraseUser } from './passphrase.js';

export interface Principal {
  userId: string;
  email: string;
  name: string;
  provider: string;
  role: Role;
  emailVerified: boolean;
  groups: readonly string[];
  /** How the session was made (RFC 8176): pwd, otp, fed … (architecture.md#mfa). Absent: derived from provider. */
  amr?: readonly string[];
  /** OAuth tokens only (architecture.md#oauth): the client's name, sent as X-Forwarded-Client. */
  client?: string;
  /** OAuth tokens only: the client's id, the assertion's `client_id` (RFC 9068). */
  clientId?: string;
  /** A scoped API key's scopes (architecture.md#devices) or an OAuth token's granted scopes, sorted;
   *  matched by `scope:` rules and sent as X-Forwarded-Scopes. Absent for sessions and unscoped keys. */
  scopes?: readonly string[];
}

export interface ResolvedSession {
  sessionId: string;
  principal: Principal;
}

const interned = new Map<string, string>();
function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < 256) interned.set(s, s);
  return s;
}

// A session's amr is one of a handful of lists too (pwd; pwd,otp; hwk; fed …): one shared, frozen copy each.
const internedAmr = new Map<string, readonly string[]>();
function internAmr(amr: readonly string[]): readonly string[] {
  const key = amr.join(',');
  const hit = internedAmr.get(key);
  if (hit !== undefined) return hit;
  const shared = Object.freeze([...amr]);
  if (internedAmr.size < 256) internedAmr.set(key, shared);
  return shared;
}

/** Who a session speaks for, as the gate forwards it. */
export function principalOf(user: User, provider: string, amr?: readonly string[]): Principal {
  // The passphrase user is no one in particular: the app sees the mode, not an internal id.
  if (isPassphraseUser(user.id))
    return {
      userId: 'passphrase',
      email: '',
      name: 'Passphrase',
      provider: 'passphrase',
      role: 'member',
      emailVerified: false,
      groups: [],
      amr: ['pwd'],
    };
  // provider and role come from a handful of values: share one string each across all entries.
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    provider: intern(provider),
    role: intern(user.role),
    emailVerified: user.emailVerified,
    groups: user.groups,
    amr: internAmr(amr ?? amrOf(provider)),
  };
}
