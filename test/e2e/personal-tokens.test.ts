// Personal tokens (architecture.md#devices) at /auth/account/tokens: generated and shown once, usable as a bearer
// token with exactly the owner's rights, listed with last use, regenerated (the old one stops at once)
// and disabled; never someone else's; forms CSRF-checked; the admin console sees them and revokes them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';

const { gh, upstream } = withGatehouse({ upstream: true, clearUpstreamEachTest: true });
const PASSWORD = 'a long enough password';

const api = (token: string, path = '/api/data') =>
  new TestClient(gh.url).get(path, { accept: 'application/json', authorization: `Bearer ${token}` });
const tokenIn = (html: string) => /<code id="new-token"[^>]*>(ghk_[^<]+)<\/code>/.exec(html)?.[1] ?? null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function member(email: string): Promise<TestClient> {
  const c = new TestClient(gh.url);
  assert.equal((await c.signUp(email, PASSWORD)).status, 303);
  return c;
}

async function generate(c: TestClient, name: string, expires = '90d') {
  const csrf = await c.csrf('/auth/account/tokens');
  const r = await c.post('/auth/account/tokens', { csrf, name, expires });
  return { r, token: tokenIn(r.text) };
}

/** Confirm page, then its form: how a person regenerates or disables a token. */
async function act(c: TestClient, id: string, action: 'regenerate' | 'disable') {
  const confirm = await c.get(`/auth/account/tokens/${id}/${action}`);
  assert.equal(confirm.status, 200);
  return c.post(`/auth/account/tokens/${id}/${action}`, { csrf: csrfFrom(confirm.text) });
}

const keyIdOf = (token: string) => token.slice(4, 16);

describe('personal tokens', () => {
  it('explain themselves in one readable sentence (the intro was garbled: text repeated inside the code)', async () => {
    const c = await member('intro@example.com');
    const lede = /<p class="lede">([\s\S]*?)<\/p>/.exec((await c.get('/auth/account/tokens')).text)![1]!;
    assert.equal(
      lede.replace(/<[^>]+>/g, ''),
      'Tokens let your own scripts reach Test App as you: send one in the header Authorization: Bearer &lt;token&gt;. A token can do what your account can, never more.',
    );
  });

  it("are generated once, act as their owner with at most the owner's role, and are listed with last use", async () => {
    const c = await member('tokens@example.com');
    const page = await c.get('/auth/account');
    assert.match(page.text, /href="\/auth\/account\/tokens"/, 'the account page links to them');
    const { r, token } = await generate(c, 'backup script');
    assert.equal(r.status, 200);
    assert.ok(token, 'the new token is on the page');
    assert.equal(r.headers['cache-control'], 'no-store');
    const used = await api(token!);
    assert.equal(used.status, 200);
    const seen = upstream.requests[0]!.headers;
    assert.equal(seen['x-forwarded-provider'], 'api-key');
    assert.equal(seen['x-forwarded-role'], 'member');
    assert.equal(seen['x-forwarded-scopes'], undefined, 'a personal token carries no scopes');
    await sleep(200); // last use is written in the background
    const list = await c.get('/auth/account/tokens');
    assert.equal(tokenIn(list.text), null, 'never shown again');
    assert.ok(!list.text.includes(token!.slice(17)), 'the secret is nowhere on the page');
    assert.match(list.text, /backup script/);
    assert.match(list.text, /last used <time/);
    const key = (await gh.store.listApiKeys((await gh.store.findUserByEmail('tokens@example.com'))!.id))[0]!;
    assert.ok(
      key.expiresAt && Math.abs(key.expiresAt.getTime() - Date.now() - 90 * 86_400_000) < 60_000,
      'expires in 90 days',
    );
  });

  it('regenerate: the old token stops at once and the new one works', async () => {
    const c = await member('regen@example.com');
    const { token: old } = await generate(c, 'ci', 'never');
    assert.equal((await api(old!)).status, 200);
    const r = await act(c, keyIdOf(old!), 'regenerate');
    assert.equal(r.status, 200);
    const fresh = tokenIn(r.text);
    assert.ok(fresh && fresh !== old);
    assert.match(r.text, /the old token no longer works/);
    assert.equal((await api(old!)).status, 401, 'at once, not after the 2 s cache');
    assert.equal((await api(fresh!)).status, 200);
    // Two tabs pressing Regenerate at once: one new token, not two.
    const id = keyIdOf(fresh!);
    const confirm = await c.get(`/auth/account/tokens/${id}/regenerate`);
    const csrf = csrfFrom(confirm.text);
    const both = await Promise.all([
      c.post(`/auth/account/tokens/${id}/regenerate`, { csrf }),
      c.post(`/auth/account/tokens/${id}/regenerate`, { csrf }),
    ]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 404]);
    const u = (await gh.store.findUserByEmail('regen@example.com'))!;
    assert.equal((await gh.store.listApiKeys(u.id)).filter((k) => !k.revoked).length, 1);
  });

  it("disable: refused from then on; someone else's token cannot be touched", async () => {
    const alice = await member('alice-t@example.com');
    const mallory = await member('mallory-t@example.com');
    const { token } = await generate(alice, 'alice job');
    const id = keyIdOf(token!);
    // Mallory knows the id (it is not secret) but it is not hers.
    assert.equal((await mallory.get(`/auth/account/tokens/${id}/disable`)).status, 404);
    const csrf = await mallory.csrf('/auth/account/tokens');
    assert.equal((await mallory.post(`/auth/account/tokens/${id}/disable`, { csrf })).status, 404);
    assert.equal((await mallory.post(`/auth/account/tokens/${id}/regenerate`, { csrf })).status, 404);
    assert.equal((await api(token!)).status, 200, 'still works');
    // A forged form (no token, or from another site) changes nothing.
    assert.equal((await alice.post(`/auth/account/tokens/${id}/disable`, {})).status, 403);
    assert.equal(
      (
        await alice.post(
          `/auth/account/tokens/${id}/disable`,
          { csrf: await alice.csrf('/auth/account/tokens') },
          { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        )
      ).status,
      403,
    );
    assert.equal((await api(token!)).status, 200);
    const r = await act(alice, id, 'disable');
    assert.equal(r.status, 200);
    assert.match(r.text, /Disabled “alice job”/);
    assert.equal((await api(token!)).status, 401);
    assert.doesNotMatch((await alice.get('/auth/account/tokens')).text, /alice job/, 'no longer listed');
  });

  it('refuse a missing name, and a token cannot manage tokens; signed out goes to sign-in', async () => {
    const c = await member('names@example.com');
    const csrf = await c.csrf('/auth/account/tokens');
    const r = await c.post('/auth/account/tokens', { csrf, name: '   ' });
    assert.equal(r.status, 400);
    assert.match(r.text, /Give the token a name/);
    assert.equal(tokenIn(r.text), null);
    const { token } = await generate(c, 'x');
    const viaToken = await new TestClient(gh.url).get('/auth/account/tokens', { authorization: `Bearer ${token}` });
    assert.equal(viaToken.status, 302);
    assert.equal(viaToken.headers.location, '/auth/sign-in?return_to=%2Fauth%2Faccount%2Ftokens');
  });

  it("follow the owner's role: an admin's token is admin, and is demoted with its owner", async () => {
    const c = await member('boss-t@example.com');
    const u = (await gh.store.findUserByEmail('boss-t@example.com'))!;
    await gh.store.updateUser(u.id, { role: 'admin' }, new Date());
    await sleep(2100); // the session cache sees the new role
    const { token } = await generate(c, 'admin script');
    await api(token!);
    assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-role'], 'admin');
    // Admins see everyone's tokens in the console and can revoke them there.
    const other = await member('someone-t@example.com');
    const { token: theirs } = await generate(other, 'their token');
    const console = await c.get('/auth/admin');
    assert.match(console.text, /their token/);
    const confirm = await c.get(`/auth/admin/confirm?action=revoke-key&key=${keyIdOf(theirs!)}`);
    assert.equal(confirm.status, 200);
    assert.equal(
      (await c.post(`/auth/admin/keys/${keyIdOf(theirs!)}/revoke`, { csrf: csrfFrom(confirm.text) })).status,
      303,
    );
    assert.equal((await api(theirs!)).status, 401);

    await gh.store.updateUser(u.id, { role: 'member' }, new Date());
    await sleep(2100);
    await api(token!);
    assert.equal(upstream.requests.at(-1)!.headers['x-forwarded-role'], 'member', 'never more than the owner has now');
  });
});
