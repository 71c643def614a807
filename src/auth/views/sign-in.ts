// The views of the way in: sign-in, sign-up, the second step, sign-out, and the mailed links.
import type { ProviderButton, Link, FieldErrors } from './common.js';

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
