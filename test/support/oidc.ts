// A real OpenID Connect provider (oidc-provider) on 127.0.0.1, plus a driver that plays the user at
// its development login/consent screens and returns the redirect back to the relying party.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { request } from 'undici';

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  /** Follows `authUrl` at the IdP as user `sub`, consents, and returns the callback URL the IdP redirects to. */
  login(authUrl: string, sub: string): Promise<URL>;
  close(): Promise<void>;
}

export async function startTestIdp(redirectUris: string[]): Promise<TestIdp> {
  const accounts = new Map<string, TestAccount>();
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'gatehouse-test';
  const clientSecret = 'a-long-test-client-secret-for-oidc-provider';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, response_types: ['code'], grant_types: ['authorization_code'] }],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, sub) => {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...a }) };
    },
    cookies: { keys: ['test-cookie-key-1'] },
  });
  provider.on('server_error', (_ctx, err) => process.stderr.write(`test idp: ${err.message}\n`));
  server.on('request', provider.callback());

  async function login(authUrl: string, sub: string): Promise<URL> {
    const jar = new Map<string, string>();
    let url = new URL(authUrl);
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    for (let hop = 0; hop < 12; hop++) {
      if (url.origin !== issuer) return url; // back at the relying party
      const res = await request(url, {
        method,
        body,
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
      });
      for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      const html = await res.body.text();
      const location = res.headers.location;
      if (location) {
        url = new URL(String(location), url);
        method = 'GET';
        body = undefined;
        continue;
      }
      // A development interaction page: submit login, then consent.
      const uid = /\/interaction\/([^/"?]+)/.exec(url.pathname)?.[1];
      if (!uid) throw new Error(`unexpected IdP page ${url}: ${res.statusCode} ${html.slice(0, 200)}`);
      method = 'POST';
      body = /name="login"/.test(html) ? new URLSearchParams({ prompt: 'login', login: sub, password: 'x' }).toString() : 'prompt=consent';
    }
    throw new Error('too many redirects at the IdP');
  }

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    login,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
