// The remote CLI's HTTP side (architecture.md#devices): the admin API (/auth/api/v1) with a kept login,
// renewing a device login's hour-long access token once with its refresh token, and the device grant
// (RFC 8628) that `gatehouse login --remote URL` without --token signs in with.
import { request } from 'undici';
import { CommandError, type Io } from './common.js';
import { keepLogin, type Remote } from './remote-credentials.js';

/** A login in use: `renew` (device logins) replaces an expired access token once, and keeps the new pair. */
export interface Login extends Remote {
  renew?: () => Promise<boolean>;
}

/** One admin API call: the JSON answer, or a CommandError with the server's own sentence. */
export async function api(remote: Login, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  let res;
  try {
    res = await request(`${remote.url}/auth/api/v1${path}`, {
      method: method as 'GET',
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${remote.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  } catch (err) {
    throw new CommandError(`cannot reach ${remote.url} (${(err as Error).message})`);
  }
  const text = await res.body.text();
  // An expired device login renews itself once (a refresh token rotates: the new pair is kept at once).
  if (res.statusCode === 401 && remote.renew && (await remote.renew()))
    return api({ ...remote, renew: undefined }, method, path, body);
  let json: Record<string, any> | null = null;
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    // not the admin API: said below
  }
  if (res.statusCode >= 200 && res.statusCode < 300 && json) return json;
  if (res.statusCode === 401)
    throw new CommandError(
      `${remote.url} no longer accepts this login${json?.message ? ` (${json.message})` : ''}: ` +
        `run \`gatehouse login --remote ${remote.url}\` again`,
    );
  if (json && typeof json.message === 'string') throw new CommandError(`${remote.url} refused: ${json.message}`);
  throw new CommandError(
    `${remote.url} answered ${res.statusCode} without the admin API (is it a Gatehouse with /auth/api/v1?)`,
  );
}

/** A kept login, ready to use: a device login can renew its access token with its refresh token. */
export function loginFor(env: NodeJS.ProcessEnv, kept: Remote): Login {
  const login: Login = { ...kept };
  if (kept.refreshToken) {
    login.renew = async () => {
      const r = await oauthForm(kept.url, 'token', {
        grant_type: 'refresh_token',
        refresh_token: login.refreshToken!,
        client_id: CLI_CLIENT,
      });
      if (r.status !== 200 || typeof r.json.access_token !== 'string' || typeof r.json.refresh_token !== 'string')
        return false;
      login.token = r.json.access_token;
      login.refreshToken = r.json.refresh_token;
      keepLogin(env, { url: kept.url, token: login.token, refreshToken: login.refreshToken });
      return true;
    };
  }
  return login;
}

export const CLI_CLIENT = 'gatehouse-cli';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** A form POST to the server's OAuth endpoints; the JSON answer, whatever the status. */
export async function oauthForm(
  url: string,
  endpoint: string,
  form: Record<string, string>,
): Promise<{ status: number; json: Record<string, any> }> {
  let res;
  try {
    res = await request(`${url}/auth/oauth/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  } catch (err) {
    throw new CommandError(`cannot reach ${url} (${(err as Error).message})`);
  }
  const text = await res.body.text();
  try {
    return { status: res.statusCode, json: JSON.parse(text) as Record<string, any> };
  } catch {
    throw new CommandError(
      `${url} answered ${res.statusCode} without OAuth JSON (is it a Gatehouse with the device grant?)`,
    );
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `gatehouse login --remote URL` without a token: the device grant (RFC 8628). Prints where to go and
 * the code to check, then polls at the server's interval (5 s more after each slow_down) until the
 * person approves in a signed-in browser, denies, or the code expires.
 */
export async function deviceLogin(url: string, io: Io): Promise<{ token: string; refreshToken: string | undefined }> {
  const started = await oauthForm(url, 'device_authorization', { client_id: CLI_CLIENT });
  if (started.status !== 200)
    throw new CommandError(
      `${url} refused the device sign-in: ${started.json.error_description ?? started.json.error ?? started.status}`,
    );
  const d = started.json as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete: string;
    interval: number;
    expires_in: number;
  };
  io.out(`To sign in, open ${d.verification_uri_complete}`);
  io.out(`(or go to ${d.verification_uri} and enter the code ${d.user_code}) and approve. Waiting…`);
  let interval = (d.interval || 5) * 1000;
  for (;;) {
    await sleep(interval);
    const r = await oauthForm(url, 'token', {
      grant_type: DEVICE_GRANT,
      device_code: d.device_code,
      client_id: CLI_CLIENT,
    });
    if (r.status === 200 && typeof r.json.access_token === 'string') {
      return {
        token: r.json.access_token as string,
        refreshToken: typeof r.json.refresh_token === 'string' ? r.json.refresh_token : undefined,
      };
    }
    switch (r.json.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        interval += 5000;
        continue;
      case 'access_denied':
        throw new CommandError('the sign-in was denied in the browser');
      case 'expired_token':
        throw new CommandError('the code expired before it was approved; run `gatehouse login` again');
      default:
        throw new CommandError(`${url} refused: ${r.json.error_description ?? r.json.error ?? r.status}`);
    }
  }
}
