// The views of the admin console: users, keys, groups, access, invitations, security events.
import type { Stamp } from './common.js';
import type { Principal } from '../../session/sessions.js';

export interface AdminConfirmView {
  csrf: string;
  heading: string;
  button: string;
  danger: boolean;
  effect: string;
  cancel: string;
  action: string;
  /** Fields the confirmed POST carries besides the CSRF token (the OAuth client to revoke). */
  hidden?: Array<{ name: string; value: string }>;
  subject: { title: string; badge: string; detail: string };
}

export interface AdminUserRow {
  id: string;
  groups: string[];
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  emailVerified: boolean;
  createdAt: string;
  self: boolean;
  /** The buttons in the user's row: a POST form (`post`) for what acts at once, a link to the confirm page
   *  otherwise. */
  actions: AdminAction[];
}

export interface AdminAction {
  label: string;
  ariaLabel: string;
  style: 'button-danger' | 'button-secondary';
  post?: string;
  href?: string;
}

export interface AdminKeyRow {
  id: string;
  name: string;
  owner: string;
  role: string;
  /** A scoped key's scopes (docs/architecture.md#devices). */
  scopes?: string[];
  /** "revoked", "expires 2026-06-01" or "no expiry". */
  expiry: string;
  lastUsedAt: Stamp | null;
  /** The confirm page for revoking it; null once revoked. */
  revokeHref: string | null;
}

export interface AdminView {
  csrf: string;
  me: Principal;
  users: AdminUserRow[];
  total: number;
  /** The search (email or name contains it; '' for none) and how many accounts match it. */
  query: string;
  matches: number;
  page: number;
  pages: number;
  prevHref: string | null;
  nextHref: string | null;
  keys: AdminKeyRow[];
  settings: { signUp: string; mode: string };
  notice: string | null;
}

export interface AdminGroupsView {
  csrf: string;
  user: { email: string; name: string; role: string };
  /** Each with the link to its confirm page (removing asks first). */
  groups: Array<{ name: string; removeHref: string }>;
  /** The form actions' base: `…/admin/users/ID/groups` (+ /add, /remove). */
  action: string;
  back: string;
  value: string;
  error: string | null;
  notice: string | null;
}

export interface AdminAccessView {
  csrf: string;
  mode: string;
  rules: Array<{ n: number; pattern: string; who: string; source: string }>;
  test: { as: string; method: string; path: string; error: string | null };
  /** The explanation of the tested request (access/explain.ts), as `access test` prints it. */
  result: { headline: string; reason: string; reading: string | null } | null;
  /** Where no rule applies: allow (any signed-in user) or deny. */
  fallback: 'allow' | 'deny';
}

/** Console › Invitations: pending ones, the form, and a new link shown once. */
export interface AdminInvitesView {
  csrf: string;
  invites: Array<{ id: string; email: string; role: string; expires: Stamp; revokeHref: string }>;
  created: { email: string; role: string; link: string; expires: Stamp; mailed: boolean } | null;
  form: { email: string; role: string; expires: string };
  error: string | null;
  notice: string | null;
  signUp: string;
}

/** Console › Security events: newest first, filtered by user and event. */
export interface AdminEventsView {
  filter: { user: string; event: string };
  known: string[];
  events: Array<{ at: Stamp; event: string; user: string; ip: string; detail: string }>;
  prevHref: string | null;
  nextHref: string | null;
  empty: string | null;
}
