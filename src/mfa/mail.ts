// The email a user gets when their second factors change (architecture.md#mfa): if it was not them,
// they hear of it at once. Used by the account pages, the admin console and `gatehouse users reset-mfa`.
import type { Mail } from '../mail/mailer.js';

export type FactorChange = 'enrolled' | 'removed' | 'recovery-regenerated' | 'recovery-used' | 'reset';

const WHAT: Record<FactorChange, string> = {
  enrolled: 'An authenticator app was added to your account. Signing in now asks for a code from it.',
  removed: 'The authenticator app was removed from your account, with its recovery codes.',
  'recovery-regenerated': 'New recovery codes were made for your account; the old ones no longer work.',
  'recovery-used': 'One of your recovery codes was just used to sign in. It will not work again.',
  reset:
    'An administrator removed the second factor from your account and signed you out ' +
    'everywhere. You can set up an authenticator app again after signing in.',
};

export function factorChangedMail(
  appName: string,
  user: { email: string; name: string },
  change: FactorChange,
  signInUrl: string,
): Mail {
  return {
    to: user.email,
    subject: `Two-step sign-in changed on your ${appName} account`,
    text:
      `Hello ${user.name},\n\n${WHAT[change]}\n\nIf this was you, there is nothing to ` +
      `do. If it was not, sign in at ${signInUrl}, change your password and tell the ` +
      'administrator.\n',
  };
}
