// Emails are identities: one mailbox must be one account (architecture.md#accounts). Every spelling of an address is
// folded to one stored form: NFKC (fullwidth and compatibility forms), lower case, the domain in
// ASCII (IDNA, so "bücher.de" and "xn--bcher-kva.de" meet) without a trailing dot.
// normalizeEmail() gives that form for look-ups and never refuses; parseEmail() is for a NEW address
// and refuses what cannot be folded safely: invisible or control characters, a trailing dot, a label
// that mixes alphabets (a Cyrillic "а" among Latin letters), a domain IDNA rejects.
import { domainToASCII, domainToUnicode } from 'node:url';

export type EmailProblem = 'invalid' | 'invisible' | 'trailing-dot' | 'mixed-script' | 'too-long';
export type ParsedEmail = { ok: true; email: string } | { ok: false; reason: EmailProblem };

export const EMAIL_MESSAGES: Record<EmailProblem, string> = {
  invalid: 'Enter a valid email address.',
  invisible: 'Enter a valid email address: it contains invisible or control characters. Type it instead of pasting it.',
  'trailing-dot': 'Enter a valid email address, without a dot at the end.',
  'mixed-script':
    'Enter a valid email address: it mixes letters from different alphabets (such as Latin and Cyrillic).',
  'too-long': 'Enter a valid email address (at most 254 characters).',
};

const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit, less the angle brackets
const MAX_LOCAL_BYTES = 64;

// Spaces, tabs and line ends around a pasted address; String.trim() would also drop U+FEFF, and
// White_Space would drop NEL and U+2028, which must be refused instead.
const EDGE_WHITESPACE = /^[\t\n\v\f\r\p{Zs}]+|[\t\n\v\f\r\p{Zs}]+$/gu;
// Zero-width and bidi characters (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF are Cf),
// controls, and anything else that renders as nothing or is not a character yet.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
// Full stops that IDNA treats as label separators (NFKC already maps the fullwidth and halfwidth ones).
const IDEOGRAPHIC_FULL_STOP = /\u3002/g;
const LOCAL_SHAPE = /^[^\s@<>()[\]\\,;:"]+$/u;
const UNICODE_DOMAIN_CHARS = /^[\p{L}\p{M}\p{N}.-]+$/u;
const ASCII_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The address folded to its one stored form, for look-ups. Never throws; garbage folds to garbage that
 *  matches no account. */
export function normalizeEmail(value: unknown): string {
  if (typeof value !== 'string') return '';
  const parts = foldedParts(value);
  if (!parts) return fold(trimWhitespace(value));
  const ascii = domainToASCII(parts.domain).replace(/\.$/, '');
  return `${parts.local}@${ascii || parts.domain.replace(/\.$/, '')}`;
}

/** A new address (sign-up, invitation, CLI): its stored form, or why it cannot be accepted. */
export function parseEmail(value: unknown): ParsedEmail {
  if (typeof value !== 'string') return refuse('invalid');
  const trimmed = trimWhitespace(value);
  if (INVISIBLE.test(trimmed)) return refuse('invisible');
  const parts = foldedParts(trimmed);
  if (!parts || INVISIBLE.test(parts.local + parts.domain)) return refuse(parts ? 'invisible' : 'invalid');
  const { local, domain } = parts;
  if (domain.endsWith('.')) return refuse('trailing-dot');
  if (!isValidLocal(local) || !UNICODE_DOMAIN_CHARS.test(domain)) return refuse('invalid');
  const ascii = domainToASCII(domain);
  if (!isValidAsciiDomain(ascii)) return refuse('invalid');
  // Checked on the Unicode form, so a look-alike typed directly as punycode is caught too.
  if (mixesScripts(local) || domainToUnicode(ascii).split('.').some(mixesScripts)) return refuse('mixed-script');
  const email = `${local}@${ascii}`;
  if (email.length > MAX_EMAIL_LENGTH || Buffer.byteLength(local) > MAX_LOCAL_BYTES) return refuse('too-long');
  return { ok: true, email };
}

// The allow-list match lives beside the allow-list's own check (config/domains.ts).
export { isDomainAllowed } from '../config/domains.js';

const refuse = (reason: EmailProblem): ParsedEmail => ({ ok: false, reason });

function trimWhitespace(value: string): string {
  return value.replace(EDGE_WHITESPACE, '');
}

/** NFKC, then lower case, then NFKC again: lower-casing can undo the composed form. */
function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** Local part and domain, folded; split at the last "@" as RFC 5321 quoted local parts may hold one. */
function foldedParts(value: string): { local: string; domain: string } | null {
  const folded = fold(trimWhitespace(value));
  const at = folded.lastIndexOf('@');
  if (at < 1 || at === folded.length - 1) return null;
  return { local: folded.slice(0, at), domain: folded.slice(at + 1).replace(IDEOGRAPHIC_FULL_STOP, '.') };
}

/** An unquoted dot-atom: no stray "@", brackets or spaces, no empty dot-separated piece. */
function isValidLocal(local: string): boolean {
  return LOCAL_SHAPE.test(local) && !local.split('.').includes('');
}

/** Letters, digits and hyphens in two or more labels; a numeric top level would be an IP address. */
function isValidAsciiDomain(ascii: string): boolean {
  const labels = ascii.split('.');
  if (ascii.length > 253 || labels.length < 2 || /^\d+$/.test(labels.at(-1)!)) return false;
  return labels.every((l) => ASCII_LABEL.test(l) && isDecodable(l));
}

/**
 * An `xn--` label must be punycode of a Unicode label and back (RFC 5891 §5.3). Node 20's domainToASCII
 * refuses one that is not; Node 24's passes it through unchanged (`xn--zz`), so check the round trip here.
 */
function isDecodable(label: string): boolean {
  if (!label.startsWith('xn--')) return true;
  const unicode = domainToUnicode(label);
  return unicode !== label && domainToASCII(unicode) === label;
}

// UTS #39 "highly restrictive": one script per label, except Latin with the scripts that are
// written together with it in Chinese, Japanese and Korean.
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Georgian',
  'Cherokee',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Khmer',
  'Mongolian',
  'Ethiopic',
  'Han',
  'Hiragana',
  'Katakana',
  'Hangul',
  'Bopomofo',
].map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }));
const SHARED = /[\p{Script=Common}\p{Script=Inherited}]/u; // digits, punctuation, combining marks
const ALLOWED_MIXES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function mixesScripts(text: string): boolean {
  const scripts = new Set<string>();
  for (const char of text) {
    if (SHARED.test(char)) continue;
    scripts.add(SCRIPTS.find((s) => s.pattern.test(char))?.name ?? 'Other');
  }
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.has(s)));
}
