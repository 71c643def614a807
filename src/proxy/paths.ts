// Public paths (no sign-in needed) are matched on the normalised path only, never on the query. Any
// path whose raw form differs from its normalised form (dot segments, encoded slashes or dots, double
// encoding, backslashes, ";" parameters, NUL) is treated as protected: we fail closed rather than guess
// how the app will read it.
export function isPublicPath(rawUrl: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return false;
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (!path.startsWith('/') || path.startsWith('//')) return false;
  if (/[\\;\u0000-\u001f]|%(2f|5c|00|25|2e|3b)/i.test(path)) return false;
  let normalised: string;
  try {
    normalised = new URL(path, 'http://x.invalid').pathname;
  } catch {
    return false;
  }
  if (normalised !== path || path.includes('//')) return false;
  return patterns.some((p) => matches(normalised, p));
}

function matches(path: string, pattern: string): boolean {
  if (pattern.endsWith('/*')) {
    const base = pattern.slice(0, -1); // keep the trailing slash: /static/* matches /static/x, not /staticfoo
    return path.startsWith(base) && path.length > base.length;
  }
  return path === pattern;
}
