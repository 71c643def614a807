// The data each template in views/ takes, so that `page(c, 'sign-in', …)` is checked by the compiler.
// Values are ready to print: links built, dates formatted (stamp, withReturnTo in views/common.ts); the
// templates only escape and lay out. The types live by audience in views/ and are re-exported here,
// so importers name one module.
import type { ErrorView, MessageView } from './views/common.js';
import type {
  ConfirmEmailView,
  ForgotView,
  PassphraseSignInView,
  ResetView,
  SecondStepView,
  SignInView,
  SignOutView,
  SignUpView,
} from './views/sign-in.js';
import type {
  AccountTokensView,
  AccountView,
  PasskeysView,
  RecoveryCodesView,
  SecurityView,
  TotpView,
} from './views/account.js';
import type {
  AdminAccessView,
  AdminConfirmView,
  AdminEventsView,
  AdminGroupsView,
  AdminInvitesView,
  AdminView,
} from './views/admin.js';
import type { PairCodeView, PairView, HandoffView, DeviceView, DeviceConfirmView } from './views/devices.js';
import type { OAuthConsentView, AdminOAuthView } from './views/oauth.js';

export * from './views/common.js';
export * from './views/sign-in.js';
export * from './views/account.js';
export * from './views/admin.js';
export * from './views/devices.js';
export * from './views/oauth.js';

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
