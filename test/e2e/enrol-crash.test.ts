// Setting up an authenticator app is written whole (architecture.md#mfa): a real `gatehouse serve` is
// killed with SIGKILL while it confirms the first code, 20 times at moments spread over the request,
// and the embedded store then holds either no factor, or the factor with all 10 recovery codes. Before
// enableTotp the two were separate writes, and 3 kills in 12 left a factor on with no codes at all.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnServe, tempHome } from '../support/gatehouse.js';
import { TestClient, csrfFrom } from '../support/client.js';
import { totpAt } from '../support/totp.js';
import { createSqliteStore } from '../../src/store/sqlite.js';

const ROUNDS = 20;
const secretOf = (html: string) => /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(html)![1]!.replace(/ /g, '');

// One sign-up and 20 confirmations from one address: more than the real limits allow in the window.
const env = { GATEHOUSE_RATE_LIMITS: 'sign-in=1000/1m,sign-up=1000/1m' };

describe('TOTP enrolment under kill -9', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it(
    `never leaves a factor without its recovery codes (${ROUNDS} kills during confirmation)`,
    { timeout: 600_000 },
    async (t) => {
      const outcomes = { none: 0, whole: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const serve = await spawnServe(['--upstream', 'http://127.0.0.1:9'], { GATEHOUSE_HOME: home.home, ...env });
        const email = `crash-${round}@example.com`;
        try {
          const c = new TestClient(serve.url);
          assert.equal((await c.signUp(email, 'a long enough password')).status, 303, serve.output());
          const page = await c.get('/auth/account/totp');
          const secret = secretOf(page.text);
          // The kill lands somewhere between "request sent" and "answer written": a spread of moments.
          const confirm = c
            .post('/auth/account/totp', { csrf: csrfFrom(page.text), code: totpAt(secret, Date.now()) })
            .catch(() => null);
          await new Promise((r) => setTimeout(r, round % 10));
          serve.child.kill('SIGKILL');
          const answer = await confirm;
          if (answer)
            assert.equal(answer.status, 200, `round ${round}: the code was right, so an answer that arrived says so`);
        } finally {
          serve.child.kill('SIGKILL');
          await new Promise<void>((r) =>
            serve.child.exitCode !== null || serve.child.signalCode !== null
              ? r()
              : serve.child.once('exit', () => r()),
          );
        }
        const db = readdirSync(home.home).find((f) => f.endsWith('.sqlite'))!;
        const store = createSqliteStore(join(home.home, db));
        try {
          const user = (await store.findUserByEmail(email))!;
          const factor = await store.findTotp(user.id);
          const codes = await store.countRecoveryCodes(user.id);
          if (factor?.confirmed) {
            assert.equal(codes, 10, `round ${round}: the factor is on, so all its recovery codes are there`);
            outcomes.whole++;
          } else {
            assert.equal(codes, 0, `round ${round}: no factor, and no codes`);
            outcomes.none++;
          }
        } finally {
          await store.close();
        }
      }
      t.diagnostic(`${outcomes.whole} kills after the enrolment was stored, ${outcomes.none} before`);
    },
  );
});
