// Allowed sign-up domains (GATEHOUSE_ALLOWED_DOMAINS, auth.allowedDomains): what a list entry may be,
// and whether an address matches one. Both sides in one file so the check and the match never drift.
import { domainToASCII } from 'node:url';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** A DNS name with a top-level domain, as an allow-list entry must be. */
export function isDomainName(value: string): boolean {
  return DOMAIN.test(value);
}

/** Whether the address's domain is on the allow-list, whichever way the list spells the domain. */
export function isDomainAllowed(email: string, allowedDomains: readonly string[]): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  return allowedDomains.some((allowed) => domainToASCII(allowed.trim()) === domain);
}
