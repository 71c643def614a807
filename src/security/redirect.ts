// return_to accepts only a same-origin relative path. Everything that a browser could read as another
// origin (//host, /\host, scheme:, control characters that browsers strip) falls back to "/".
export function safeReturnTo(raw: unknown, fallback = '/'): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return fallback;
  let value = raw;
  // Decode up to a few layers so /%2F%2Fevil.com cannot smuggle a protocol-relative URL past the checks.
  for (let i = 0; i < 3; i++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      return fallback;
    }
    if (!isSafePath(decoded)) return fallback;
    if (decoded === value) break;
    value = decoded;
  }
  return isSafePath(raw) ? raw : fallback;
}

function isSafePath(p: string): boolean {
  if (!p.startsWith('/')) return false; // relative paths only: no scheme, no "javascript:"
  if (p.startsWith('//') || p.startsWith('/\\')) return false; // protocol-relative
  // Browsers drop tabs/newlines and treat backslash as slash; refuse them outright.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return false;
  try {
    const u = new URL(p, 'http://gatehouse.invalid');
    return u.origin === 'http://gatehouse.invalid';
  } catch {
    return false;
  }
}
