// The device authorization grant (RFC 8628, architecture.md#devices) over real sockets, with an injected clock: the
// device authorization answer and metadata; every error answer of the token endpoint while polling
// (authorization_pending, slow_down with the interval grown by 5 s, expired_token after 10 minutes,
// access_denied, an unknown or used device code, another client's code); approval needs a session
// and the CSRF token; the whole-app token reaches the app (which never sees it) and, for an admin with
// gatehouse-cli, the admin API — a member's is refused there; wrong user codes block the IP for 5
// minutes (429 + Retry-After, even for a right code) while another IP is unaffected.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { GENEROUS_LIMITS, startTestGatehouse, withGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { DEVICE_GRANT, deviceHashOf, normalUserCode, USER_CODE_ALPHABET, userHashOf } from '../../src/oauth/device.js';
import { authorizationServerMetadata } from '../../src/oauth/metadata.js';

let offset = 0; // the injected clock: real time plus what a test fast-forwards
const { gh, upstream } = withGatehouse({
  upstream: true,
  trustedProxies: ['127.0.0.1/32'],
  now: () => Date.now() + offset,
  clearUpstreamEachTest: true,
});
const PASSWORD = 'a long enough password';
let ipSeq = 10;

/** A browser behind the trusted proxy with its own address, so tests do not share one IP's block. */
function browser(ip = `198.51.100.${ipSeq++}`): TestClient {
  const c = new TestClient(gh.url);
  const send = c.send.bind(c);
  c.send = (method, path, opts = {}) =>
    send(method, path, { ...opts, headers: { 'x-forwarded-for': ip, ...opts.headers } });
  return c;
}

async function signedIn(email: string, role = 'member'): Promise<TestClient> {
  const c = browser();
  assert.equal((await c.signUp(email, PASSWORD)).status, 303);
  if (role !== 'member') {
    const u = (await gh.store.findUserByEmail(email))!;
    await gh.store.updateUser(u.id, { role }, new Date());
    const again = browser();
    assert.equal((await again.signIn(email, PASSWORD)).status, 303);
    return again;
  }
  return c;
}

async function form(path: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await request(gh.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

const start = (extra: Record<string, string> = {}) =>
  form('/auth/oauth/device_authorization', { client_id: 'gatehouse-cli', ...extra });
const poll = (deviceCode: string, clientId = 'gatehouse-cli') =>
  form('/auth/oauth/token', { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId });

/** Opens verification_uri_complete and presses a button on the confirmation page. */
async function decide(c: TestClient, complete: string, decision: 'approve' | 'deny') {
  const page = await c.get(new URL(complete).pathname + new URL(complete).search);
  assert.equal(page.status, 200, page.text);
  const code = /name="user_code" value="([A-Z-]+)"/.exec(page.text)![1]!;
  return c.post('/auth/device/decide', { csrf: csrfFrom(page.text), user_code: code, decision });
}

describe('device authorization grant', () => {
  it('answers a device authorization with an 8-letter user code; only hashes are stored; metadata advertises it', async () => {
    const r = await start();
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['cache-control'], 'no-store');
    const d = r.json;
    assert.match(d.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
    for (const ch of d.user_code.replace('-', '')) assert.ok(USER_CODE_ALPHABET.includes(ch), ch);
    assert.equal(normalUserCode(d.user_code.toLowerCase().replace('-', ' ')), d.user_code.replace('-', ''));
    assert.equal(d.verification_uri, `${gh.url}/auth/device`);
    assert.equal(d.verification_uri_complete, `${gh.url}/auth/device?user_code=${d.user_code}`);
    assert.deepEqual([d.expires_in, d.interval], [600, 5]);
    assert.ok(d.device_code.length >= 43);
    assert.equal(
      await gh.store.pollDeviceAuthorization(d.device_code, new Date()),
      null,
      'the device code itself is not the key',
    );
    assert.equal(
      await gh.store.findPendingDeviceAuthorization(d.user_code.replace('-', ''), new Date()),
      null,
      'nor the user code',
    );

    const bad = await form('/auth/oauth/device_authorization', { client_id: 'nobody-registered-this' });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error, 'invalid_client');
    assert.equal((await form('/auth/oauth/device_authorization', {})).json.error, 'invalid_request');
    assert.equal((await start({ resource: 'https://elsewhere.example/mcp' })).json.error, 'invalid_target');

    // The metadata is served while an MCP resource exists: it names the endpoint and the grant.
    const meta = authorizationServerMetadata({ origin: gh.url, prefix: '/auth', resources: [], dcr: true, cimd: true });
    assert.equal(meta.device_authorization_endpoint, `${gh.url}/auth/oauth/device_authorization`);
    assert.ok((meta.grant_types_supported as string[]).includes(DEVICE_GRANT));
  });

  it('polls: authorization_pending, slow_down (the interval grows by 5 s), then tokens once approved — once', async () => {
    const admin = await signedIn('device-admin@example.com', 'admin');
    const d = (await start()).json;
    const first = await poll(d.device_code);
    assert.deepEqual([first.status, first.json.error], [400, 'authorization_pending']);
    const fast = await poll(d.device_code);
    assert.deepEqual([fast.status, fast.json.error], [400, 'slow_down']);
    assert.match(fast.json.error_description, /10 seconds/);
    offset += 6_000;
    assert.equal((await poll(d.device_code)).json.error, 'slow_down', '6 s is less than the grown interval of 10 s');
    offset += 16_000;
    assert.equal((await poll(d.device_code)).json.error, 'authorization_pending');
    assert.equal(
      (await poll(d.device_code, 'another-client')).json.error,
      'invalid_client',
      'an unknown client is told so',
    );
    await gh.store.createOAuthClient({
      id: 'ghc_other',
      kind: 'dcr',
      name: 'Other',
      redirectUris: ['https://o.example/cb'],
      createdAt: new Date(),
      lastUsedAt: null,
      cachedUntil: null,
    });
    assert.equal(
      (await poll(d.device_code, 'ghc_other')).json.error,
      'invalid_grant',
      'another client cannot redeem it',
    );

    const page = await admin.get(
      new URL(d.verification_uri_complete).pathname + new URL(d.verification_uri_complete).search,
    );
    assert.equal(page.status, 200);
    assert.match(page.text, /Connect Gatehouse CLI\?/);
    assert.match(page.text, new RegExp(`class="device-code"[^>]*>${d.user_code}<`));
    assert.match(page.text, /admin API/, 'an admin is told the CLI can administer');
    assert.doesNotMatch(
      page.text,
      /<script(?! src="\/auth\/assets\/gatehouse\.js")|\sstyle=/,
      'no inline script or style',
    );
    const ok = await admin.post('/auth/device/decide', {
      csrf: csrfFrom(page.text),
      user_code: d.user_code,
      decision: 'approve',
    });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /Device connected/);
    assert.ok(gh.auditLines.some((l) => l.includes('"device.approved"')));

    offset += 6_000;
    const won = await poll(d.device_code);
    assert.equal(won.status, 200, won.text);
    assert.equal(won.json.token_type, 'Bearer');
    assert.match(won.json.access_token, /^ghat_/);
    assert.match(won.json.refresh_token, /^ghrt_/);
    assert.equal(won.headers['cache-control'], 'no-store');
    offset += 6_000;
    assert.equal((await poll(d.device_code)).json.error, 'invalid_grant', 'a device code buys tokens once');

    // A token for the whole app: the app is reached (and never sees the token) …
    const app = await request(`${gh.url}/any/page`, { headers: { authorization: `Bearer ${won.json.access_token}` } });
    await app.body.text();
    assert.equal(app.statusCode, 200);
    const seen = upstream.requests.at(-1)!;
    assert.equal(seen.headers['x-forwarded-email'], 'device-admin@example.com');
    assert.equal(seen.headers['x-forwarded-provider'], 'oauth');
    assert.equal(seen.headers['x-forwarded-client'], 'Gatehouse CLI');
    assert.equal(seen.headers.authorization, undefined);
    // … and so is the admin API, for an admin with gatehouse-cli.
    const me = await request(`${gh.url}/auth/api/v1/me`, {
      headers: { authorization: `Bearer ${won.json.access_token}` },
    });
    assert.equal(me.statusCode, 200);
    assert.equal(((await me.body.json()) as { email: string }).email, 'device-admin@example.com');
    // The account page lists it with the connected apps, where the user can end it.
    assert.match((await admin.get('/auth/account')).text, /Gatehouse CLI/);
    // The refresh token rotates like any other.
    const refreshed = await form('/auth/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: won.json.refresh_token,
      client_id: 'gatehouse-cli',
    });
    assert.equal(refreshed.status, 200, refreshed.text);
    // Revoking ends it (RFC 7009), here and at the admin API.
    assert.equal(
      (await form('/auth/oauth/revoke', { token: refreshed.json.access_token, client_id: 'gatehouse-cli' })).status,
      200,
    );
    const gone = await request(`${gh.url}/auth/api/v1/me`, {
      headers: { authorization: `Bearer ${refreshed.json.access_token}` },
    });
    await gone.body.text();
    assert.equal(gone.statusCode, 401);
  });

  it('access_denied when the user denies, then the code is used up', async () => {
    const member = await signedIn('device-deny@example.com');
    const d = (await start()).json;
    const r = await decide(member, d.verification_uri_complete, 'deny');
    assert.match(r.text, /Request denied/);
    offset += 6_000;
    const denied = await poll(d.device_code);
    assert.deepEqual([denied.status, denied.json.error], [400, 'access_denied']);
    offset += 6_000;
    assert.equal((await poll(d.device_code)).json.error, 'invalid_grant');
    assert.equal((await poll('not-a-device-code')).json.error, 'invalid_grant');
  });

  it('expired_token after 10 minutes, and the page no longer takes the code', async () => {
    const member = await signedIn('device-late@example.com');
    const d = (await start()).json;
    offset += 10 * 60_000 + 1000;
    const late = await poll(d.device_code);
    assert.deepEqual([late.status, late.json.error], [400, 'expired_token']);
    const page = await member.get(`/auth/device?user_code=${d.user_code}`);
    assert.equal(page.status, 400);
    assert.match(page.text, /not valid/);
  });

  it("a member's device token opens the app but not the admin API (403 with a sentence)", async () => {
    const member = await signedIn('device-member@example.com');
    const d = (await start()).json;
    await decide(member, d.verification_uri_complete, 'approve');
    offset += 6_000;
    const token = (await poll(d.device_code)).json.access_token;
    const me = await request(`${gh.url}/auth/api/v1/users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.statusCode, 403);
    assert.match(
      ((await me.body.json()) as { message: string }).message,
      /device-member@example\.com is not an administrator/,
    );
  });

  it("an approved code is exchanged once, also when two polls race; another client's whole-app token stays out of the admin API", async () => {
    const admin = await signedIn('device-race@example.com', 'admin');
    const d = (await start()).json;
    await decide(admin, d.verification_uri_complete, 'approve');
    offset += 6_000;
    const both = await Promise.all([poll(d.device_code), poll(d.device_code)]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 400]);
    assert.equal(both.find((r) => r.status === 400)!.json.error, 'invalid_grant');

    // A registered client (not the built-in CLI) may use the device grant, for the app only.
    await gh.store.createOAuthClient({
      id: 'ghc_tv',
      kind: 'dcr',
      name: 'Living-room TV',
      redirectUris: ['https://tv.example/cb'],
      createdAt: new Date(),
      lastUsedAt: null,
      cachedUntil: null,
    });
    const tv = (await start({ client_id: 'ghc_tv', scope: 'gatehouse:admin' })).json;
    const page = await admin.get(`/auth/device?user_code=${tv.user_code}`);
    assert.match(page.text, /Connect Living-room TV\?/);
    assert.doesNotMatch(page.text, /admin API/, 'only the built-in CLI is offered the admin API');
    assert.match(page.text, /chosen by the client itself/);
    await decide(admin, tv.verification_uri_complete, 'approve');
    offset += 6_000;
    const token = await poll(tv.device_code, 'ghc_tv');
    assert.equal(token.status, 200, token.text);
    assert.equal(token.json.scope, undefined, 'a whole-app token carries no scopes, whatever was asked');
    const app = await request(`${gh.url}/tv`, { headers: { authorization: `Bearer ${token.json.access_token}` } });
    await app.body.text();
    assert.equal(app.statusCode, 200);
    const api = await request(`${gh.url}/auth/api/v1/me`, {
      headers: { authorization: `Bearer ${token.json.access_token}` },
    });
    await api.body.text();
    assert.equal(api.statusCode, 401);
  });

  it('refuses metadata-document clients (unauthorized_client), and marks every client but the built-in CLI as naming itself', async () => {
    // A document another user's agent once used is cached under its URL: anyone may send that client_id.
    const cimdId = 'https://tools.example/oauth/client.json';
    await gh.store.createOAuthClient({
      id: cimdId,
      kind: 'cimd',
      name: 'Trusted Tools',
      redirectUris: ['https://tools.example/cb'],
      createdAt: new Date(),
      lastUsedAt: null,
      cachedUntil: new Date(Date.now() + offset + 3_600_000),
    });
    const posing = await start({ client_id: cimdId });
    assert.equal(posing.status, 400, posing.text);
    assert.equal(posing.json.error, 'unauthorized_client');
    assert.equal(posing.json.device_code, undefined);

    // One started before this refusal existed is not shown for approval under the document's name.
    const admin = await signedIn('device-cimd@example.com', 'admin');
    const now = Date.now() + offset;
    await gh.store.createDeviceAuthorization({
      deviceHash: deviceHashOf('old-cimd-device-code'),
      userHash: userHashOf('BCDFGHJK'),
      clientId: cimdId,
      scopes: '',
      resource: gh.url,
      createdAt: new Date(now),
      expiresAt: new Date(now + 600_000),
      intervalSec: 5,
      lastPollAt: null,
      status: 'pending',
      userId: null,
    });
    const page = await admin.get('/auth/device?user_code=BCDF-GHJK');
    assert.equal(page.status, 400);
    assert.doesNotMatch(page.text, /Trusted Tools/);
    offset += 6_000;
    assert.equal(
      (await poll('old-cimd-device-code', cimdId)).json.error,
      'unauthorized_client',
      'and never buys a token',
    );

    // The built-in client is the deployment's own: its name is not marked; a registered one's is.
    const cli = (await start()).json;
    const own = await admin.get(`/auth/device?user_code=${cli.user_code}`);
    assert.match(own.text, /Connect Gatehouse CLI\?/);
    assert.doesNotMatch(own.text, /chosen by the client itself/);
    await gh.store.createOAuthClient({
      id: 'ghc_named',
      kind: 'dcr',
      name: 'Gatehouse CLI',
      redirectUris: ['https://x.example/cb'],
      createdAt: new Date(),
      lastUsedAt: null,
      cachedUntil: null,
    });
    const lookalike = (await start({ client_id: 'ghc_named' })).json;
    const marked = await admin.get(`/auth/device?user_code=${lookalike.user_code}`);
    assert.match(marked.text, /Connect Gatehouse CLI\?/);
    assert.match(marked.text, /chosen by the client itself, not by an administrator/);
  });

  it('approval needs a session (signed out: to sign-in and back) and the CSRF token', async () => {
    const d = (await start()).json;
    const visitor = browser();
    const path = new URL(d.verification_uri_complete).pathname + new URL(d.verification_uri_complete).search;
    const away = await visitor.get(path);
    assert.equal(away.status, 302);
    assert.equal(away.headers.location, `/auth/sign-in?return_to=${encodeURIComponent(path)}`);
    const signedOutPost = await visitor.post('/auth/device/decide', {
      user_code: d.user_code,
      decision: 'approve',
      csrf: 'x',
    });
    assert.equal(signedOutPost.status, 303);
    assert.match(String(signedOutPost.headers.location), /\/auth\/sign-in/);

    const member = await signedIn('device-csrf@example.com');
    await member.get(path);
    const noCsrf = await member.post('/auth/device/decide', { user_code: d.user_code, decision: 'approve' });
    assert.equal(noCsrf.status, 403);
    const crossSite = await member.post(
      '/auth/device/decide',
      { user_code: d.user_code, decision: 'approve', csrf: await member.csrf('/auth/device') },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    assert.equal(crossSite.status, 403);
    offset += 6_000;
    assert.equal((await poll(d.device_code)).json.error, 'authorization_pending', 'nothing was approved');

    // Signing in brings the visitor back to the confirmation page.
    assert.equal(
      (await visitor.signUp('device-back@example.com', PASSWORD, 'Back', { return_to: path })).headers.location,
      path,
    );
  });

  it('5 wrong user codes from one IP block it for 5 minutes (429 + Retry-After, even a right code); another IP is unaffected', async () => {
    const d = (await start()).json;
    const ip = `192.0.2.${ipSeq++}`;
    const email = 'device-block@example.com';
    assert.equal((await browser().signUp(email, PASSWORD)).status, 303);
    const attacker = browser(ip);
    assert.equal((await attacker.signIn(email, PASSWORD)).status, 303);
    for (let i = 0; i < 4; i++) {
      const csrf = await attacker.csrf('/auth/device');
      assert.equal((await attacker.post('/auth/device', { csrf, user_code: `BCDF-GHJ${'KLMN'[i]}` })).status, 400);
    }
    const csrf = await attacker.csrf('/auth/device');
    const fifth = await attacker.post('/auth/device', { csrf, user_code: 'BCDF-GHJP' });
    assert.equal(fifth.status, 429);
    assert.ok(Number(fifth.headers['retry-after']) > 250);
    const right = await attacker.get(`/auth/device?user_code=${d.user_code}`);
    assert.equal(right.status, 429, 'even a right code');
    assert.ok(gh.auditLines.some((l) => l.includes('"rate-limited"') && l.includes('device')));

    const other = await signedIn('device-other@example.com');
    assert.equal((await other.get(`/auth/device?user_code=${d.user_code}`)).status, 200, 'another IP is unaffected');

    offset += 5 * 60_000 + 1000;
    const later = browser(ip);
    assert.equal((await later.signIn(email, PASSWORD)).status, 303);
    assert.equal((await later.get('/auth/device')).status, 200, 'the block ends after 5 minutes');
  });

  it('device authorizations are rate-limited per IP (429 + Retry-After, as OAuth JSON)', async () => {
    const strict = await startTestGatehouse({
      limits: {
        ...GENEROUS_LIMITS,
        perIp: { ...GENEROUS_LIMITS.perIp, 'oauth-device': { limit: 2, windowMs: 600_000 } },
      },
    });
    try {
      const ask = async () => {
        const res = await request(`${strict.url}/auth/oauth/device_authorization`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'client_id=gatehouse-cli',
        });
        return {
          status: res.statusCode,
          retryAfter: res.headers['retry-after'],
          json: (await res.body.json()) as { error?: string },
        };
      };
      assert.equal((await ask()).status, 200);
      assert.equal((await ask()).status, 200);
      const third = await ask();
      assert.equal(third.status, 429);
      assert.equal(third.json.error, 'temporarily_unavailable');
      assert.ok(Number(third.retryAfter) > 0);
    } finally {
      await strict.stop();
    }
  });
});
