// The methods an app could run a request as, besides its own. Frameworks honour method overrides —
// `X-HTTP-Method-Override` and its spellings (Express's method-override, ASP.NET, Spring's filter),
// `?_method=`, and `_method` in a form body (Rails, Laravel, Symfony) — so where an access rule limits
// methods, the door decides each of these too (admission.ts).
import type { IncomingHttpHeaders } from 'node:http';

const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'];
const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/** The methods besides its own that an app could run this request as (the gate never reads a body). */
export function overriddenMethods(req: { method: string; url: string; headers: IncomingHttpHeaders }): string[] {
  const out: string[] = [];
  for (const h of OVERRIDE_HEADERS) {
    const v = one(req.headers[h]);
    if (v) out.push(v.trim().toUpperCase());
  }
  const q = req.url.indexOf('?');
  if (q !== -1 && /(?:^|[?&])_method=/i.test(req.url.slice(q))) {
    const m = new URLSearchParams(req.url.slice(q + 1)).get('_method');
    out.push(m ? m.toUpperCase() : 'DELETE');
  }
  // A form POST may carry `_method` in its body: read it as each method a form can stand for.
  if (req.method === 'POST' && FORM.test(one(req.headers['content-type']) ?? '')) out.push('PUT', 'PATCH', 'DELETE');
  return out;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
