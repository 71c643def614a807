// Security headers for Gatehouse's own responses (architecture.md#abuse). The app's responses are never
// touched.
// script-src 'self': the one external script (views/assets/gatehouse.js) only enhances forms; no
// inline script or style is ever allowed. connect-src 'self': the passkey script (views/assets/passkeys.js)
// fetches its WebAuthn options and sends the result to Gatehouse's own JSON endpoints, nowhere else.
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', PAGE_CSP],
  ['x-content-type-options', 'nosniff'],
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own form posts,
  // which the CSRF origin check must refuse. Other origins still get no referrer (reset tokens stay put).
  ['referrer-policy', 'same-origin'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
  ['cache-control', 'no-store'],
];

export const HSTS = ['strict-transport-security', 'max-age=31536000; includeSubDomains'] as const;

/** Headers for the short answers the gate writes itself (redirects, 401/4xx/5xx without a page). */
export function gateAnswerHeaders(secure: boolean): ReadonlyArray<readonly [string, string]> {
  const base: Array<readonly [string, string]> = [
    ['x-content-type-options', 'nosniff'],
    ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
    ['referrer-policy', 'same-origin'],
    ['cache-control', 'no-store'],
  ];
  if (secure) base.push(HSTS);
  return base;
}
