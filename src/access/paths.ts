// How a request's path is read for access decisions (architecture.md#paths). Two readings of one path:
//
// - `key`, the path as the most lenient app behind Gatehouse could read it: percent-encodings decoded
//   (RFC 3986 §6.2.2.2 for unreserved characters; Flask, Django, Spring and Go decode the rest too),
//   Unicode compatibility forms folded (NFKC: `ａｄｍｉｎ` is `admin` to an app that normalises), case
//   ignored (Express's default router, IIS), and trailing dots, spaces and a trailing `/` dropped
//   (`/billing.`, `/billing/`). A rule that refuses or limits a path matches on this reading, so no
//   spelling the app would take for a refused path gets past its rule.
// - `raw`, the path exactly as the client sent it. A rule that opens a path (public) matches only on
//   this reading too: `/Static/x` is not `/static/*` to a case-sensitive app, so it is not let in
//   anonymously on the strength of a rule written for `/static/*`.
//
// A spelling whose reading is ambiguous — apps disagree on what it names — is refused (null, answered
// 400): encoded `/`, `\`, `%`, `.`, `;`, `?`, `#` or control characters, dot segments, `;` parameters,
// `//`, `\`, bytes outside printable ASCII, malformed or invalid UTF-8 percent-encoding, and characters
// whose case folds into ASCII (`ſ`, dotless `ı`). The app still receives the path as sent.

export interface RequestPath {
  /** The path as sent (no query). */
  raw: string;
  /** The most lenient reading: decoded, NFKC, lower-case, without trailing dots, spaces or `/`. */
  key: string;
}

// Only unreserved characters and "/": nothing to decode and nothing Unicode; the common case.
const PLAIN = /^[A-Za-z0-9/._~-]*$/;
// Printable ASCII but space; the rest ("\", ";", "#") is refused below.
const PRINTABLE = /^[\x21-\x7e]*$/;
const REFUSED_RAW = /[\\;#]/;
// Encodings that change what separates or ends a segment, or that hide a control character.
const REFUSED_ENCODING = /%(?:2f|5c|25|2e|3b|23|3f|7f|[01][0-9a-f])/i;
const BAD_PERCENT = /%(?![0-9a-f]{2})/i;

/** The two readings of a request target's path, or null when it is ambiguous. */
export function readPath(rawUrl: string): RequestPath | null {
  const q = rawUrl.indexOf('?');
  const raw = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (raw.charCodeAt(0) !== 47 /* / */ || raw.includes('//')) return null;
  if (PLAIN.test(raw)) {
    const key = keyOfSegments(raw);
    return key === null ? null : { raw, key: key.toLowerCase() };
  }
  if (!PRINTABLE.test(raw) || REFUSED_RAW.test(raw) || REFUSED_ENCODING.test(raw) || BAD_PERCENT.test(raw)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw); // invalid UTF-8 (overlong `%c0%ae` dots) throws: the app might read anything
  } catch {
    return null;
  }
  const folded = decoded.normalize('NFKC');
  // Compatibility forms may fold into separators ("／", "．．", "＼"): read the folded form as a path again.
  if (/[\\;#?%\u0000-\u001f\u007f]/.test(folded) || folded.includes('//')) return null;
  const lower = folded.toLowerCase();
  if (lower !== folded.toUpperCase().toLowerCase()) return null; // "ſ" → "S", "ı" → "I": folds into ASCII
  const key = keyOfSegments(lower);
  return key === null ? null : { raw, key };
}

/** Drops trailing dots and spaces of each segment and a trailing "/"; null for a dot segment. */
function keyOfSegments(path: string): string | null {
  if (!/[. ](?:\/|$)|\/$/.test(path)) return path; // nothing to drop (the common case)
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') return null;
    const trimmed = s.replace(/[. ]+$/, '');
    const last = i === segments.length - 1;
    // "..." or " " would be a segment that some apps drop and others keep.
    if (trimmed === '' && s !== '') return null;
    if (trimmed === '' && !last) return null;
    segments[i] = trimmed;
  }
  if (segments.length > 2 && segments[segments.length - 1] === '') segments.pop();
  return segments.join('/') || '/';
}

/** A rule's pattern as the matcher compares it: exact path or prefix, in both readings. */
export interface PathPattern {
  /** As written ("/Docs"), without "/*": compared with the raw path. */
  raw: string;
  /** The lenient key of the same ("/docs"). */
  key: string;
  prefix: boolean;
}

export function compilePattern(pattern: string): PathPattern {
  const prefix = pattern.endsWith('/*');
  const base = prefix ? pattern.slice(0, -2) : pattern;
  return { raw: base, key: (readPath(base || '/')?.key ?? base).toLowerCase(), prefix };
}

/** Whether `path` (one reading) is the pattern's path, or below it for a prefix pattern. */
function under(path: string, base: string, prefix: boolean): boolean {
  if (path === base || (prefix && base === '/')) return true;
  if (!prefix) return false;
  if (base === '') return true; // "/*"
  return path.length > base.length && path.startsWith(base) && path.charCodeAt(base.length) === 47;
}

/** The lenient reading names the pattern's path: what a refusing or limiting rule matches on. */
export const namesPath = (p: PathPattern, path: RequestPath): boolean => under(path.key, p.key, p.prefix);

/** Both readings do: what an opening (public) rule needs. */
export const opensPath = (p: PathPattern, path: RequestPath): boolean =>
  under(path.raw, p.raw, p.prefix) && namesPath(p, path);
