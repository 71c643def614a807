// The views that carry a session to another device or grant one: pairing codes, handoff links, the
// device authorization grant.
import type { Stamp } from './common.js';

/** The code a signed-in device shows to pair another one (docs/architecture.md#devices). */
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
