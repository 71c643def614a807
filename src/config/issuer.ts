// Which OIDC issuers a provider may name: a setting checked at start-up with the rest.

/** http:// issuers are allowed only on loopback, so a provider can be tried locally (architecture.md#accounts). */
export function isAllowedIssuer(issuer: string): boolean {
  let u: URL;
  try {
    u = new URL(issuer);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]');
}
