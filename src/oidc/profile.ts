// What an identity provider says about who signed in: from the ID token and userinfo (OpenID Connect),
// or from GitHub's API (OAuth 2.0 only, no ID token).
import type * as Oidc from 'openid-client';
import { loadOidc } from './providers.js';

export interface Profile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

export async function oidcProfile(
  config: Oidc.Configuration,
  tokens: Oidc.TokenEndpointResponse & Oidc.TokenEndpointResponseHelpers,
  incoming: Record<string, unknown>,
): Promise<Profile> {
  const oidc = await loadOidc();
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  let email = typeof claims.email === 'string' ? claims.email : null;
  let verified = claims.email_verified === true || claims.email_verified === 'true';
  let name = typeof claims.name === 'string' ? claims.name : null;
  // The email is often only in userinfo, not the ID token.
  if ((!email || !name) && config.serverMetadata().userinfo_endpoint) {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    if (!email && typeof info.email === 'string') {
      email = info.email;
      verified = info.email_verified === true;
    }
    name ??= typeof info.name === 'string' ? info.name : null;
  }
  // Apple sends the name once, in the form body of the first sign-in.
  if (!name && typeof incoming.user === 'string') {
    try {
      const u = JSON.parse(incoming.user) as { name?: { firstName?: string; lastName?: string } };
      name = [u.name?.firstName, u.name?.lastName].filter(Boolean).join(' ') || null;
    } catch {
      /* ignore a malformed user field */
    }
  }
  return { subject: claims.sub, email, emailVerified: verified, name };
}

export async function githubProfile(config: Oidc.Configuration, token: string): Promise<Profile> {
  const oidc = await loadOidc();
  const get = async (path: string) => {
    const res = await oidc.fetchProtectedResource(
      config,
      token,
      new URL(`https://api.github.com${path}`),
      'GET',
      null,
      new Headers({ accept: 'application/vnd.github+json' }),
    );
    if (!res.ok) throw new Error(`GitHub ${path}: ${res.status}`);
    return res.json();
  };
  const user = (await get('/user')) as { id: number; name?: string | null; login: string };
  const emails = (await get('/user/emails')) as Array<{ email: string; primary: boolean; verified: boolean }>;
  const primary = emails.find((e) => e.primary) ?? emails[0];
  return {
    subject: String(user.id),
    email: primary?.email ?? null,
    emailVerified: primary?.verified === true,
    name: user.name ?? user.login,
  };
}
