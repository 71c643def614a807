// Refresh rotation as the token endpoint does it (src/oauth/token.ts, docs/architecture.md#oauth), over
// a real embedded store with a clock the test moves: the successor is written before the spend, so a
// crash on either side of the spend leaves a working grant; a retry of the spent token works for 30 s
// while its successor is unused, and not after; a code and a refresh token share one set of checks.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { createOAuthTokenService, RETRY_GRACE_MS } from '../../src/oauth/tokens.js';
import { tokenRequest, type TokenContext } from '../../src/oauth/token.js';
import type { OAuthToken, Store } from '../../src/store/types.js';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
let t = Date.UTC(2026, 0, 1);
const store = createSqliteStore(':memory:', { prefix: 'rr_' });
const tokens = createOAuthTokenService(store, { now: () => t });
const reused: OAuthToken[] = [];
const ctx = (over: Partial<Store> = {}): TokenContext => ({
  store: Object.assign(Object.create(store) as Store, over),
  tokens,
  now: () => new Date(t),
  onReuse: (x) => reused.push(x),
  onIssue: () => {},
});
let userId = '';
const CLIENT = 'ghc_rotation';

before(async () => {
  await store.migrate();
  userId = (
    await store.createUser(
      { email: 'rotation@example.com', name: 'R', role: 'member', passwordHash: null, emailVerified: true },
      new Date(t),
    )
  ).id;
  await store.createOAuthClient({
    id: CLIENT,
    kind: 'dcr',
    name: 'Rotation',
    redirectUris: ['http://127.0.0.1/cb'],
    createdAt: new Date(t),
    lastUsedAt: null,
    cachedUntil: null,
  });
});

const grant = () =>
  tokens.issueTokens({ clientId: CLIENT, userId, resource: 'https://gh.example/mcp', scopes: ['tools'] });
const use = (refreshToken: string, c = ctx()) =>
  tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT }, c);
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );
const liveAccess = async (a: string) => (await tokens.resolve(a)) !== null;

describe('refresh rotation', () => {
  it('keeps the grant when the process dies before the spend: the token was not spent, and works', async () => {
    const g = await grant();
    const crash = ctx({ useOAuthToken: () => Promise.reject(new Error('killed')) });
    await assert.rejects(use(g.refreshToken, crash), /killed/);
    const next = await use(g.refreshToken);
    assert.ok(next.refreshToken.startsWith('ghrt_'));
    assert.equal(reused.length, 0);
  });

  it('keeps the grant when the process dies after the spend: the successor exists, and a retry gets a new one', async () => {
    const g = await grant();
    const crash = ctx({
      useOAuthToken: async (...a) => (await store.useOAuthToken(...a), Promise.reject(new Error('killed'))),
    });
    await assert.rejects(use(g.refreshToken, crash), /killed/);
    const family = (await store.findOAuthToken(sha(g.refreshToken), 'refresh', new Date(t)))!;
    assert.ok(family.usedAt, 'spent');
    const unused = (await store.listOAuthTokens(userId)).filter(
      (x) => x.family === g.family && x.kind === 'refresh' && !x.usedAt,
    );
    assert.equal(unused.length, 1, 'and its successor written');
    t += RETRY_GRACE_MS - 1;
    const retry = await use(g.refreshToken);
    assert.ok(await liveAccess(retry.accessToken));
    assert.deepEqual(
      (await store.listOAuthTokens(userId))
        .filter((x) => x.family === g.family && x.kind === 'refresh' && !x.usedAt)
        .map((x) => x.hash),
      [sha(retry.refreshToken)],
    );
    assert.equal(reused.length, 0);
  });

  it('takes a retry of the same token for 30 s only: later it is a replay and ends the family', async () => {
    const g = await grant();
    const lost = await use(g.refreshToken);
    t += RETRY_GRACE_MS + 1;
    assert.equal(await errorOf(use(g.refreshToken)), 'invalid_grant');
    assert.equal(reused.length, 1);
    assert.equal(await liveAccess(lost.accessToken), false);
    assert.equal(await errorOf(use(lost.refreshToken)), 'invalid_grant');
  });

  it('leaves at most one live successor after two concurrent retries, and the grant alive', async () => {
    const g = await grant();
    await use(g.refreshToken);
    const both = await Promise.allSettled([use(g.refreshToken), use(g.refreshToken)]);
    for (const r of both)
      if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'invalid_grant');
    const unused = (await store.listOAuthTokens(userId)).filter(
      (x) => x.family === g.family && x.kind === 'refresh' && !x.usedAt,
    );
    assert.ok(unused.length <= 1, 'a retry supersedes the successor of the one before');
    const winner = both.flatMap((r) =>
      r.status === 'fulfilled' && unused.some((u) => u.hash === sha(r.value.refreshToken)) ? [r.value] : [],
    );
    const last = winner[0] ?? (await use(g.refreshToken));
    assert.ok((await use(last.refreshToken)).accessToken);
    assert.equal(reused.length, 1, 'no family was ended here');
  });

  it('refuses a wider scope or another resource without spending the refresh token', async () => {
    const g = await grant();
    const wider = tokenRequest(
      { grant_type: 'refresh_token', refresh_token: g.refreshToken, client_id: CLIENT, scope: 'tools admin' },
      ctx(),
    );
    assert.equal(await errorOf(wider), 'invalid_scope');
    const other = tokenRequest(
      {
        grant_type: 'refresh_token',
        refresh_token: g.refreshToken,
        client_id: CLIENT,
        resource: 'https://gh.example/x',
      },
      ctx(),
    );
    assert.equal(await errorOf(other), 'invalid_target');
    assert.ok((await use(g.refreshToken)).accessToken, 'still the first use');
  });

  it('tells an unknown client invalid_client, and a disabled user invalid_grant', async () => {
    const g = await grant();
    assert.equal(
      await errorOf(
        tokenRequest({ grant_type: 'refresh_token', refresh_token: g.refreshToken, client_id: 'ghc_nobody' }, ctx()),
      ),
      'invalid_client',
    );
    await store.updateUser(userId, { disabled: true }, new Date(t));
    assert.equal(await errorOf(use(g.refreshToken)), 'invalid_grant');
    await store.updateUser(userId, { disabled: false }, new Date(t));
  });
});
