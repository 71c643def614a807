// The data each template in views/ takes, so that `page(c, 'sign-in', …)` is checked by the compiler.
// Values are ready to print: links built, dates formatted (stamp, withReturnTo below); the templates
// only escape and lay out.
import type { Principal } from '../session/sessions.js';

/** What layout.eta reads on every page; page() adds it. */
export interface LayoutData {
  appName: string;
  prefix: string;
  title: string;
}

export interface ProviderButton {
  name: string;
  label: string;
  startUrl: string;
}

export interface Link {
  href: string;
  label: string;
}

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

/** A moment as the pages show it: the same for every reader, with its zone ("2026-03-14 09:26 UTC"). */
export interface Stamp {
  iso: string;
  text: string;
}

export function stamp(at: Date): Stamp {
  const iso = at.toISOString();
  return { iso, text: `${iso.slice(0, 16).replace('T', ' ')} UTC` };
}

/** A link to `path` that brings the visitor back to `returnTo` afterwards (none for the start page). */
export function withReturnTo(path: string, returnTo: string): string {
  return returnTo && returnTo !== '/' ? `${path}?return_to=${encodeURIComponent(returnTo)}` : path;
}

export interface SignInView {
  csrf: string;
  email: string;
  error: string | null;
  notice: string | null;
  returnTo: string;
  providers: ProviderButton[];
  signUpOpen: boolean;
  signUpHref: string;
  resetAvailable: boolean;
}

export interface SignUpView {
  csrf: string;
  name: string;
  email: string;
  errors: FieldErrors<'name' | 'email' | 'password' | 'form'>;
  returnTo: string;
  providers: ProviderButton[];
  setup: string | null;
  invite: string | null;
  isSetup: boolean;
  /** The field that takes focus: the first one with an error, or the first of a fresh form. */
  focus: 'name' | 'email' | 'password' | null;
  signInHref: string;
}

export interface SignOutView {
  csrf: string;
  user: { email: string; name: string };
}

export interface ErrorView {
  status: number;
  heading: string;
  message: string;
  retryAfter: number | null;
}

export interface MessageView {
  heading: string;
  message: string;
  link: Link | null;
}

export interface ForgotView {
  csrf: string;
  email: string;
  error: string | null;
  unavailable?: boolean;
}

export interface ConfirmEmailView {
  csrf: string;
  email: string;
  notice: string | null;
}

export interface ResetView {
  csrf: string;
  token: string;
  errors: FieldErrors<'password' | 'form'>;
}

export interface AccountSession {
  id: string;
  current: boolean;
  createdAt: Stamp;
  lastSeenAt: Stamp;
  ip: string | null;
  userAgent: string | null;
}

/** An OAuth client the user allowed (SPEC §11), on the account page. */
export interface AccountConnectedApp {
  clientId: string;
  clientName: string;
  resource: string;
  scopes: string[];
  lastUsedAt: Stamp | null;
}

export interface AccountView {
  csrf: string;
  user: Principal;
  isAdmin: boolean;
  sessions: AccountSession[];
  /** Absent while no MCP resource is configured. */
  connected?: AccountConnectedApp[];
  errors: FieldErrors<'current_password' | 'password'>;
  notice: string | null;
}

export interface AdminConfirmView {
  csrf: string;
  heading: string;
  button: string;
  danger: boolean;
  effect: string;
  cancel: string;
  action: string;
  subject: { title: string; badge: string; detail: string };
}

export interface AdminUserRow {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  emailVerified: boolean;
  createdAt: string;
  self: boolean;
  /** The buttons in the user's row: a POST form (`post`) for what acts at once, a link to the confirm page otherwise. */
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
  page: number;
  pages: number;
  keys: AdminKeyRow[];
  settings: { signUp: string; mode: string };
  notice: string | null;
}

/** The OAuth consent page (SPEC §11): who asks, where the answer goes, for what. */
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

/** The admin's view of OAuth clients (SPEC §11). */
export interface AdminOAuthView {
  csrf: string;
  notice: string | null;
  clients: Array<{ id: string; name: string; kind: string; lastUsedAt: Stamp | null; grants: Array<{ email: string; resource: string; scopes: string[] }> }>;
}

/** Every page template and its data. */
export interface Views {
  'sign-in': SignInView;
  'sign-up': SignUpView;
  'sign-out': SignOutView;
  error: ErrorView;
  message: MessageView;
  forgot: ForgotView;
  'confirm-email': ConfirmEmailView;
  reset: ResetView;
  account: AccountView;
  'admin-confirm': AdminConfirmView;
  admin: AdminView;
  'oauth-consent': OAuthConsentView;
  'admin-oauth': AdminOAuthView;
}
