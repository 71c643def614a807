// The views of Gatehouse as an OAuth authorization server: consent, and the console's client list.
import type { Stamp } from './common.js';
import type { Principal } from '../../session/sessions.js';

/** The OAuth consent page (docs/architecture.md#oauth): who asks, where the answer goes, for what. */
export interface OAuthConsentView {
  csrf: string;
  user: Principal;
  clientName: string;
  /** The client named itself (DCR): the page says so. */
  unverified: boolean;
  /** Where a client's metadata document is published (CIMD): the name is vouched for by that host. */
  clientHost: string | null;
  redirectHost: string;
  resourceName: string;
  resourceUrl: string;
  scopes: string[];
  /** The authorization request, carried through the form unchanged. */
  params: Array<{ name: string; value: string }>;
}

/** The admin's view of OAuth clients (docs/architecture.md#oauth). */
export interface AdminOAuthView {
  csrf: string;
  notice: string | null;
  clients: Array<{
    id: string;
    name: string;
    kind: string;
    lastUsedAt: Stamp | null;
    grants: Array<{ email: string; resource: string; scopes: string[] }>;
  }>;
}
