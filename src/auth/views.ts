// The data each template in views/ takes, so that `page(c, 'sign-in', …)` is checked by the compiler.
// Values are ready to print: links built, dates formatted (stamp, withReturnTo below); the templates
// only escape and lay out.
import type { Reauth } from './recent-sign-in.js';
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
  /** The passkey button's endpoints (passkeys.ts); absent or null where passkeys cannot work. */
  passkeySignIn?: { optionsUrl: string; verifyUrl: string } | null;
}

export interface PassphraseSignInView {
  csrf: string;
  error: string | null;
  notice: string | null;
  returnTo: string;
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
  /** A session made with a pairing code: the device it was paired from. */
  pairedFrom?: string | null;
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
  emailVerified: boolean;
  /** `blocked`: why the address cannot be changed here (no mail), else null. `reauth`: an account
   *  without a password, signed in too long ago to change it (the password proves it otherwise). */
  emailChange: { blocked: string | null; newEmail: string; reauth: Reauth | null };
  hasPassword: boolean;
  /** Mail is bound: "Forgot password" can set a password for a provider-only account. */
  resetAvailable: boolean;
  /** Account › Security in brief; the pages themselves change it. */
  security: { totp: boolean; recoveryLeft: number; passkeys: number; tokens: number };
  identities: AccountIdentity[];
  /** Providers configured here that this account has not linked yet. */
  linkable: Array<{ name: string; label: string; action: string }>;
  errors: FieldErrors<'current_password' | 'password' | 'new_email' | 'email_password' | 'identities'>;
  notice: string | null;
}

/** A social identity that signs in to this account. */
export interface AccountIdentity {
  provider: string;
  email: string | null;
  since: Stamp;
  issuer: string;
  subject: string;
  /** False when it is the last way in (no password, passkey or other identity). */
  canUnlink: boolean;
}

export interface PasskeyRow {
  id: string;
  name: string;
  createdAt: Stamp;
  lastUsedAt: Stamp | null;
  /** Where it lives, in words: "Device or password manager", "Security key". */
  kind: string;
  removeHref: string;
}

export interface PasskeysView {
  csrf: string;
  user: Principal;
  passkeys: PasskeyRow[];
  /** Why passkeys cannot work at this address (an IP, plain http), or null. */
  unavailable: string | null;
  defaultName: string;
  optionsUrl: string;
  verifyUrl: string;
  notice: string | null;
  error: string | null;
  /** Signed in too long ago to add or remove one: the form that signs out and back in, returning here. */
  reauth: Reauth | null;
}

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
  /** A scoped key's scopes (SPEC §12). */
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

/** Account › Security: the user's second factors (architecture.md#mfa). */
export interface SecurityView {
  csrf: string;
  user: Principal;
  totp: { since: Stamp } | null;
  recoveryLeft: number;
  /** Removing the app asks for the current password too, when the account has one. */
  hasPassword: boolean;
  /** Pages other parts of Gatehouse own: passkeys, personal tokens. */
  passkeysHref: string;
  tokensHref: string;
  errors: FieldErrors<'code'>;
  notice: string | null;
}

/** Enrolling an authenticator app: the secret three ways, and the form that confirms it. */
export interface TotpView {
  csrf: string;
  secret: string;
  /** The secret in groups of four, easier to type. */
  secretGroups: string;
  uri: string;
  /** SVG markup from `qrcode` (paths only, no script or style); printed raw. */
  qr: string;
  returnTo: string;
  error: string | null;
  /** The policy sent the user here: they cannot go on without it. */
  required: boolean;
  /** Signed in too long ago to set one up: "Sign in again" instead of the code (recent-sign-in.ts). */
  reauth: Reauth | null;
}

/** Recovery codes, shown once. */
export interface RecoveryCodesView {
  heading: string;
  codes: string[];
  continueHref: string;
}

/** The second step (sign-in, or step-up for a rule that wants a second factor): one field, `code`. */
export interface SecondStepView {
  csrf: string;
  heading: string;
  lede: string;
  action: string;
  returnTo: string;
  error: string | null;
  /** Recovery-code mode: a text keyboard on phones instead of digits. */
  recovery: boolean;
  switchHref: string;
  cancel: Link;
  /** The pending user has passkeys and this address can use them: "Use a passkey" instead of a code. */
  passkeySignIn?: { optionsUrl: string; verifyUrl: string } | null;
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

/** A personal token on Account › Personal tokens (one of the user's own live API keys). */
export interface TokenRow {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  createdAt: Stamp;
  /** "expires 2026-06-01" or "no expiry". */
  expiry: string;
  lastUsedAt: Stamp | null;
  /** The confirm pages for regenerating and disabling it. */
  regenerateHref: string;
  disableHref: string;
}

export interface AccountTokensView {
  csrf: string;
  user: Principal;
  tokens: TokenRow[];
  lifetimes: Array<{ value: string; label: string }>;
  /** A token just made: its secret, shown on this answer only. */
  created: { name: string; token: string } | null;
  error: string | null;
  notice: string | null;
  /** The name field as typed, after an error. */
  name: string;
  /** Signed in too long ago to make or regenerate one: "Sign in again" instead (recent-sign-in.ts). */
  reauth: Reauth | null;
}

/** The code a signed-in device shows to pair another one (SPEC §12). */
export interface PairCodeView {
  code: string;
  link: string;
  /** SVG markup made by `qrcode` from `link` (our origin and a code of our alphabet): inserted as is. */
  qrSvg: string;
  expiresAt: Stamp;
  minutes: number;
}

/** Where the new device enters the code. */
export interface PairView {
  csrf: string;
  code: string;
  error: string | null;
}

/** Where a `gatehouse open` link lands: who it signs in, and the button that does it. */
export interface HandoffView {
  csrf: string;
  token: string;
  email: string;
  name: string;
  admin: boolean;
}

/** The OAuth consent page (SPEC §11): who asks, where the answer goes, for what. */
/** /auth/device (RFC 8628): where a signed-in person types the code a device shows. */
export interface DeviceView {
  csrf: string;
  email: string;
  code: string;
  error: string | null;
}

/** The device grant's approval page: which client asks for what, and the code to compare. */
export interface DeviceConfirmView {
  csrf: string;
  email: string;
  clientName: string;
  unverified: boolean;
  userCode: string; // XXXX-XXXX
  resourceName: string | null; // null: the whole app
  resourceUrl: string;
  scopes: string[];
  /** The built-in CLI asking an admin: the page says it can use the admin API too. */
  adminApi: boolean;
}

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
  'sign-in-passphrase': PassphraseSignInView;
  'sign-up': SignUpView;
  'sign-out': SignOutView;
  error: ErrorView;
  /** A signed-in user an access rule refuses (the gate's 403, and /auth/forbidden behind a proxy). */
  forbidden: { name: string; email: string; path: string };
  message: MessageView;
  forgot: ForgotView;
  'confirm-email': ConfirmEmailView;
  reset: ResetView;
  account: AccountView;
  passkeys: PasskeysView;
  'admin-confirm': AdminConfirmView;
  admin: AdminView;
  security: SecurityView;
  totp: TotpView;
  'recovery-codes': RecoveryCodesView;
  'second-step': SecondStepView;
  'admin-groups': AdminGroupsView;
  'admin-access': AdminAccessView;
  'account-tokens': AccountTokensView;
  'pair-code': PairCodeView;
  pair: PairView;
  handoff: HandoffView;
  'oauth-consent': OAuthConsentView;
  device: DeviceView;
  'device-confirm': DeviceConfirmView;
  'admin-oauth': AdminOAuthView;
  'admin-invites': AdminInvitesView;
  'admin-events': AdminEventsView;
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
