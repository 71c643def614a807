// What many views share: the layout's data, links, field errors, moments as shown, and the
// "sign in again" offer a change that needs a recent sign-in shows (docs/architecture.md#passkeys).

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

/** What the views show instead of the change: why, and the form that signs out and comes back. */
export interface Reauth {
  reason: string;
  action: string;
  returnTo: string;
  minutes: number;
}
