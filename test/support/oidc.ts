// A real OpenID Connect provider (oidc-provider) on 127.0.0.1, plus a driver that plays the user at
// its development login/consent screens and returns the redirect back to the relying party.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
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
  /** When set, every id_token the token endpoint answers with is replaced by what this returns before
   *  it goes on the wire: what a tampering hop between the IdP and the relying party would send. */
  idTokenFilter: ((idToken: string) => string | Promise<string>) | null;
  /** Signs `claims` with the IdP's own signing key (same kid): a token the IdP could have issued. */
  sign(claims: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIdp(redirectUris: string[]): Promise<TestIdp> {
  const accounts = new Map<string, TestAccount>();
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'gatehouse-test';
  const clientSecret = 'a-long-test-client-secret-for-oidc-provider';
  // Our own signing key rather than oidc-provider's built-in development keys, so tests can mint tokens
  // the relying party must take as genuinely signed by this IdP.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'test-idp-rs256';
  const signingJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, sub) => {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...a }) };
    },
    cookies: { keys: ['test-cookie-key-1'] },
    jwks: { keys: [signingJwk] },
  });
  provider.on('server_error', (_ctx, err) => process.stderr.write(`test idp: ${err.message}\n`));
  const idp = { idTokenFilter: null as TestIdp['idTokenFilter'] };
  // Runs around oidc-provider's own routing, so it sees the token endpoint's answer before it is sent.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body;
    if (!idp.idTokenFilter || ctx.path !== '/token' || !body || typeof body !== 'object' || !('id_token' in body))
      return;
    if (typeof body.id_token === 'string') ctx.body = { ...body, id_token: await idp.idTokenFilter(body.id_token) };
  });
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
      body = /name="login"/.test(html)
        ? new URLSearchParams({ prompt: 'login', login: sub, password: 'x' }).toString()
        : 'prompt=consent';
    }
    throw new Error('too many redirects at the IdP');
  }

  const sign = (claims: JWTPayload) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);

  return Object.assign(idp, {
    issuer,
    clientId,
    clientSecret,
    accounts,
    login,
    sign,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  });
}
