// A tiny browser-like HTTP client for tests: keeps cookies, reads the CSRF token out of forms, sends
// the Origin header a browser would. Built on undici.request so tests control every header.
import { request } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class TestClient {
  readonly cookies = new Map<string, string>();
  /** `origin`: what a browser would send as Origin — the public URL when one is configured. */
  constructor(
    readonly base: string,
    readonly origin: string = base,
  ) {}

  cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(setCookie: string | string[] | undefined) {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async send(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'text/html', ...opts.headers };
    const cookie = this.cookieHeader();
    if (cookie && headers.cookie === undefined) headers.cookie = cookie;
    const res = await request(this.base + path, { method: method as 'GET', headers, body: opts.body });
    const text = await res.body.text();
    this.remember(res.headers['set-cookie']);
    return { status: res.statusCode, headers: res.headers, text };
  }

  get(path: string, headers: Record<string, string> = {}) {
    return this.send('GET', path, { headers });
  }

  /** Posts a form the way a same-origin browser page would (Origin + Sec-Fetch-Site). */
  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.send('POST', path, {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.origin,
        'sec-fetch-site': 'same-origin',
        ...headers,
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** GET a form page and return its CSRF token. */
  async csrf(path: string): Promise<string> {
    const page = await this.get(path);
    return csrfFrom(page.text);
  }

  async signUp(
    email: string,
    password: string,
    name = 'Test User',
    extra: Record<string, string> = {},
  ): Promise<Reply> {
    const csrf = await this.csrf('/auth/sign-up');
    return this.post('/auth/sign-up', { name, email, password, csrf, ...extra });
  }

  async signIn(email: string, password: string, extra: Record<string, string> = {}): Promise<Reply> {
    const csrf = await this.csrf('/auth/sign-in');
    return this.post('/auth/sign-in', { email, password, csrf, ...extra });
  }
}

export function csrfFrom(html: string): string {
  const input = /<input[^>]*name="csrf"[^>]*>/.exec(html)?.[0];
  const value = input && /value="([^"]*)"/.exec(input)?.[1];
  // The page's own words say why (an error page, a redirect body, another form).
  if (!value) throw new Error(`no CSRF token in page: ${html.replace(/\s+/g, ' ').slice(0, 300)}`);
  return value;
}
