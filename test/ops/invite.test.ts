// Invite-only sign-up: strangers cannot create accounts; `gatehouse users invite` makes a single-use
// link bound to one address.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, spawnServe, tempHome } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';

let home: ReturnType<typeof tempHome>;
let server: Awaited<ReturnType<typeof spawnServe>>;
let env: Record<string, string>;

before(async () => {
  home = tempHome();
  env = { GATEHOUSE_HOME: home.home, GATEHOUSE_SIGN_UP: 'invite' };
  server = await spawnServe(['--upstream', 'http://127.0.0.1:9'], env);
});
after(async () => {
  await server.stop();
  home.cleanup();
});

describe('invite-only sign-up', () => {
  it('refuses strangers and admits exactly the invited address, once', async () => {
    const stranger = new TestClient(server.url);
    assert.equal((await stranger.get('/auth/sign-up')).status, 403);
    const csrf = csrfFrom((await stranger.get('/auth/sign-in')).text);
    const refused = await stranger.post('/auth/sign-up', {
      name: 'S',
      email: 'stranger@example.com',
      password: 'a long enough password',
      csrf,
    });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /by invitation only/);

    const made = await runCli(['users', 'invite', 'Invited@Example.com', '--expires', '1d'], {
      GATEHOUSE_HOME: home.home,
    });
    assert.equal(made.code, 0, made.stderr);
    const link = new URL(made.stdout.trim().split('\n').at(-1)!);
    const invite = link.searchParams.get('invite')!;

    const wrong = new TestClient(server.url);
    const page = await wrong.get(`/auth/sign-up?invite=${invite}`);
    assert.equal(page.status, 200);
    const c1 = csrfFrom(page.text);
    const mismatch = await wrong.post('/auth/sign-up', {
      name: 'W',
      email: 'someone-else@example.com',
      password: 'a long enough password',
      csrf: c1,
      invite,
    });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.text, /for another email address/);

    const right = new TestClient(server.url);
    const c2 = csrfFrom((await right.get(`/auth/sign-up?invite=${invite}&email=invited%40example.com`)).text);
    const ok = await right.post('/auth/sign-up', {
      name: 'Invited',
      email: 'invited@example.com',
      password: 'a long enough password',
      csrf: c2,
      invite,
    });
    assert.equal(ok.status, 303, 'the mismatch did not burn the invitation');
    assert.equal(JSON.parse((await right.get('/auth/me')).text).role, 'member');

    const again = new TestClient(server.url);
    const c3 = csrfFrom((await again.get(`/auth/sign-up?invite=${invite}`)).text);
    assert.equal(
      (
        await again.post('/auth/sign-up', {
          name: 'X',
          email: 'invited@example.com',
          password: 'another long password',
          csrf: c3,
          invite,
        })
      ).status,
      400,
    );
    assert.equal(
      (await runCli(['users', 'invite', 'invited@example.com'], { GATEHOUSE_HOME: home.home })).code,
      1,
      'no invitation for an existing account',
    );
  });

  it('gives the invited account the role of --role, the rule the admin console uses too', async () => {
    assert.equal(
      (await runCli(['users', 'invite', 'ops@example.com', '--role', 'Not A Role'], { GATEHOUSE_HOME: home.home }))
        .code,
      2,
    );
    const made = await runCli(['users', 'invite', 'ops@example.com', '--role', 'operator', '--expires', '1d'], {
      GATEHOUSE_HOME: home.home,
    });
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /ops@example\.com \(operator\)/);
    const invite = new URL(made.stdout.trim().split('\n').at(-1)!).searchParams.get('invite')!;
    const joined = new TestClient(server.url);
    const csrf = csrfFrom((await joined.get(`/auth/sign-up?invite=${invite}&email=ops%40example.com`)).text);
    assert.equal(
      (
        await joined.post('/auth/sign-up', {
          name: 'Ops',
          email: 'ops@example.com',
          password: 'a long enough password',
          csrf,
          invite,
        })
      ).status,
      303,
    );
    assert.equal(JSON.parse((await joined.get('/auth/me')).text).role, 'operator');
  });
});
