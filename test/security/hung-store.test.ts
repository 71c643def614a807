// A database that hangs — accepts connections, answers nothing — under a running Gatehouse. Before the
// fix every request that needed the store waited 15 s for its 503 (the drivers' own timeouts), later
// ones another 5 s each in the pool's queue, and /auth/ready said 503 only after 15 s. Now each store
// call is bounded (architecture.md#store): a 503 within 5 s for every request that needs the store,
// /auth/ready within 3 s, and service comes back by itself, with no restart, once the server answers.
// The hang is a TCP relay frozen between Gatehouse and the real PostgreSQL / MariaDB.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startTestGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { TestClient, type Reply } from '../support/client.js';
import { dropMysqlTables, dropPostgresTables } from '../support/drop-tables.js';
import { MYSQL_URL, POSTGRES_URL, reachable, viaPort } from '../conformance/servers.js';

const READY_WITHIN_MS = 3_000;
const ANSWER_WITHIN_MS = 5_000;
const json = { accept: 'application/json' };

async function timed(work: Promise<Reply>): Promise<{ reply: Reply; ms: number }> {
  const t0 = performance.now();
  const reply = await work;
  return { reply, ms: performance.now() - t0 };
}

function hungStoreSuite(
  name: string,
  url: string,
  defaultPort: number,
  drop: (url: string, prefix: string) => Promise<void>,
) {
  describe(`a hung ${name}`, async () => {
    const up = await reachable(url);
    let upstream: RecordingUpstream;
    let relay: TcpRelay;
    let gh: TestGatehouse;
    const prefix = `gh_hung${randomBytes(3).toString('hex')}_`;

    before(async () => {
      if (!up) return;
      upstream = await startRecordingUpstream();
      const u = new URL(url);
      relay = await startTcpRelay(u.hostname, Number(u.port || defaultPort));
      gh = await startTestGatehouse({
        upstream: upstream.url,
        env: { GATEHOUSE_DATABASE_URL: viaPort(url, relay.port), GATEHOUSE_TABLE_PREFIX: prefix },
      });
    });
    after(async () => {
      relay?.thaw();
      await gh?.stop();
      await relay?.close();
      await upstream?.close();
      if (up) await drop(url, prefix);
    });

    it(
      'answers 503 within seconds while it hangs, and recovers by itself when it answers again',
      { skip: up ? false : `${name} not reachable` },
      async (t) => {
        const user = new TestClient(gh.url);
        assert.equal((await user.signUp(`hung-${name}@example.com`, 'a long enough password')).status, 303);
        const id = JSON.parse((await user.get('/auth/me')).text).id;
        upstream.clear();

        relay.freeze();
        const ready = await timed(new TestClient(gh.url).get('/auth/ready'));
        assert.equal(ready.reply.status, 503);
        assert.ok(ready.ms < READY_WITHIN_MS, `/auth/ready answered in ${Math.round(ready.ms)} ms`);

        // More requests at once than the pool has connections: none may wait behind another's timeout.
        // The security page reads the user from the store on every request; sign-in needs it too.
        const burst = await Promise.all([
          ...Array.from({ length: 12 }, () => timed(user.get('/auth/account/security'))),
          ...Array.from({ length: 4 }, () =>
            timed(new TestClient(gh.url).signIn(`hung-${name}@example.com`, 'a long enough password')),
          ),
          timed(new TestClient(gh.url).get('/auth/ready')),
        ]);
        t.diagnostic(
          `ready ${Math.round(ready.ms)} ms; burst of ${burst.length}: slowest ${Math.round(Math.max(...burst.map((b) => b.ms)))} ms`,
        );
        for (const { reply, ms } of burst) {
          assert.equal(reply.status, 503, 'the store was needed, and it did not answer');
          assert.ok(reply.headers['retry-after'], 'with Retry-After');
          assert.ok(ms < ANSWER_WITHIN_MS, `answered in ${Math.round(ms)} ms`);
        }
        // Once the cached session is older than its 2 s re-check, the app's paths need the store as well.
        let needed: { reply: Reply; ms: number } | null = null;
        const end = Date.now() + 8_000;
        while (!needed && Date.now() < end) {
          const r = await timed(user.get('/echo', json));
          assert.ok(r.ms < ANSWER_WITHIN_MS, `/echo answered in ${Math.round(r.ms)} ms`);
          assert.ok([200, 503].includes(r.reply.status), `unexpected ${r.reply.status}`);
          if (r.reply.status === 503) needed = r;
        }
        assert.ok(needed, 'the session re-check needed the store and was answered 503');
        for (const seen of upstream.requests)
          assert.equal(seen.headers['x-forwarded-user'], id, 'nothing anonymous reached the app');

        relay.thaw();
        let back = false;
        const t0 = Date.now();
        while (!back && Date.now() - t0 < 15_000) {
          back =
            (await new TestClient(gh.url).get('/auth/ready')).status === 200 &&
            (await user.get('/auth/account/security')).status === 200;
          if (!back) await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(back, 'recovered without a restart');
        assert.equal((await user.get('/echo', json)).status, 200, 'same session');
        assert.equal(
          (await new TestClient(gh.url).signIn(`hung-${name}@example.com`, 'a long enough password')).status,
          303,
        );
      },
    );
  });
}

hungStoreSuite('PostgreSQL', POSTGRES_URL, 5432, dropPostgresTables);
hungStoreSuite('MariaDB', MYSQL_URL, 3306, dropMysqlTables);
