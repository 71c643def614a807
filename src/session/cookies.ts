// Cookie names and attributes. Over HTTPS the session cookie takes the __Host- prefix, which browsers
// accept only with Secure, Path=/ and no Domain — so it cannot be set or shadowed by a sibling subdomain.
export interface CookieNames {
  session: string;
  csrf: string;
  secure: boolean;
}

/**
 * Every cookie Gatehouse sets, in both spellings. All of them are removed before a request reaches
 * the app and none may be set by the app, whatever the scheme: after a move from http to https a
 * browser still holds the old spelling, and it must not leak either.
 */
export const OWN_COOKIE_BASES = [
  'gatehouse_session',
  'gatehouse_csrf',
  'gatehouse_oauth',
  'gatehouse_webauthn',
  'gatehouse_mfa',
] as const;
export const ALL_OWN_COOKIES: readonly string[] = OWN_COOKIE_BASES.flatMap((base) => [base, `__Host-${base}`]);

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-gatehouse_session', csrf: '__Host-gatehouse_csrf', secure }
    : { session: 'gatehouse_session', csrf: 'gatehouse_csrf', secure };
}

export function serializeCookie(name: string, value: string, opts: { secure: boolean; maxAgeSec?: number }): string {
  if (name.startsWith('__Host-') && !opts.secure) throw new Error('__Host- cookies must be Secure');
  let out = `${name}=${value}; Path=/; HttpOnly; SameSite=Lax`;
  if (opts.secure) out += '; Secure';
  if (opts.maxAgeSec !== undefined) out += `; Max-Age=${opts.maxAgeSec}`;
  return out;
}

export function clearCookie(name: string, secure: boolean): string {
  return serializeCookie(name, '', { secure, maxAgeSec: 0 });
}

function onlyOwnCookies(header: string, names: readonly string[]): boolean {
  let at = 0;
  while (at < header.length) {
    while (header[at] === ' ' || header[at] === ';') at++;
    if (at >= header.length) return true;
    const eq = header.indexOf('=', at);
    if (eq === -1 || !names.includes(header.slice(at, eq).trim())) return false;
    const end = header.indexOf(';', eq);
    if (end === -1) return true;
    at = end + 1;
  }
  return true;
}

/** The value of cookie `name` in a Cookie header, without building a map (hot path). First one wins. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const needle = name + '=';
  let at = header.indexOf(needle);
  while (at !== -1) {
    let i = at - 1;
    while (i >= 0 && header[i] === ' ') i--;
    if (i < 0 || header[i] === ';') {
      const start = at + needle.length;
      const end = header.indexOf(';', start);
      return header.slice(start, end === -1 ? undefined : end).trim();
    }
    at = header.indexOf(needle, at + 1);
  }
  return undefined;
}

/** The Cookie header with Gatehouse's own cookies removed (the app must never see the session token). */
export function stripCookies(header: string, names: readonly string[]): string | undefined {
  let hit = false;
  for (const n of names) if (header.includes(n)) hit = true;
  if (!hit) return header;
  // Hot path: a browser that holds only Gatehouse's cookies sends nothing the app needs.
  if (onlyOwnCookies(header, names)) return undefined;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => {
      if (!p) return false;
      const eq = p.indexOf('=');
      const name = (eq === -1 ? p : p.slice(0, eq)).trim();
      return !names.includes(name);
    });
  return kept.length ? kept.join('; ') : undefined;
}
