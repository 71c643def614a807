// Pairing codes (architecture.md#devices), through real sockets with an injected clock: a signed-in device gets a
// code, a link and a QR code; another device enters the code at /auth/pair and gets its own session,
// listed with the device it came from. Single use (also under a race), dead after 5 minutes, 5 wrong
// codes from one IP in a minute block that IP for 5 minutes (429 + Retry-After, even for a right code)
// while another IP is unaffected; the block lives in the store, so a second replica sees it too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startTestGatehouse, withGatehouse } from '../support/gatehouse.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { PAIR_ALPHABET, normalCode } from '../../src/session/pairing.js';

let offset = 0; // the injected clock: real time plus what a test fast-forwards
const { gh } = withGatehouse({ upstream: true, trustedProxies: ['127.0.0.1/32'], now: () => Date.now() + offset });
const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IOS =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
let ipSeq = 10;
/** A client behind the trusted proxy with its own address, so tests do not share one IP's block. */
const device = (ip = `198.51.100.${ipSeq++}`, ua = SAFARI_IOS) => {
  const c = new TestClient(gh.url);
  const send = c.send.bind(c);
  c.send = (method, path, opts = {}) =>
    send(method, path, { ...opts, headers: { 'x-forwarded-for': ip, 'user-agent': ua, ...opts.headers } });
  return c;
};

async function signedInDevice(email: string) {
  const c = device(`203.0.113.${ipSeq++}`, FIREFOX_MAC);
  assert.equal((await c.signUp(email, 'a long enough password')).status, 303);
  return c;
}

async function askForCode(c: TestClient) {
  const csrf = await c.csrf('/auth/account');
  const r = await c.post('/auth/account/pair', { csrf });
  assert.equal(r.status, 200);
  return { page: r.text, code: /class="pair-code"[^>]*>([A-Z0-9]{6})</.exec(r.text)![1]! };
}

async function enter(c: TestClient, code: string) {
  const form = await c.get(`/auth/pair?code=${encodeURIComponent(code)}`);
  if (form.status !== 200) return form;
  return c.post('/auth/pair', { code, csrf: csrfFrom(form.text) });
}

describe('pairing codes', () => {
  it('pair a second device into its own session, listed with the device it came from', async () => {
    const laptop = await signedInDevice('pair@example.com');
    const account = await laptop.get('/auth/account');
    assert.match(account.text, /action="\/auth\/account\/pair"/, 'the account page offers pairing');
    const { page, code } = await askForCode(laptop);
    assert.equal(normalCode(code), code);
    for (const ch of code) assert.ok(PAIR_ALPHABET.includes(ch) && !'0O1IL'.includes(ch));
    assert.match(page, new RegExp(`href="${gh.url}/auth/pair\\?code=${code}"`), 'the link');
    assert.match(page, /<svg[^>]*viewBox/, 'the QR code, as server-rendered SVG');
    assert.doesNotMatch(page, /<script(?! src="\/auth\/assets\/gatehouse\.js")|\sstyle=/, 'no inline script or style');
    const stored = await gh.store.findToken(code, 'pair', new Date());
    assert.equal(stored, null, 'the code itself is not what is stored');

    const phone = device();
    const form = await phone.get(`/auth/pair?code=${code}`);
    assert.equal(form.status, 200);
    assert.match(form.text, new RegExp(`name="code"[^>]*value="${code}"`), 'the link fills the code in');
    const again = await phone.get(`/auth/pair?code=${code}`);
    assert.equal(again.status, 200, 'opening the link does not use the code up');
    const r = await phone.post('/auth/pair', {
      code: code.toLowerCase().replace(/^(...)/, '$1 '),
      csrf: csrfFrom(again.text),
    });
    assert.equal(r.status, 303, r.text);
    assert.equal(r.headers.location, '/');
    const me = JSON.parse((await phone.get('/auth/me', { accept: 'application/json' })).text);
    const laptopMe = JSON.parse((await laptop.get('/auth/me', { accept: 'application/json' })).text);
    assert.equal(me.id, laptopMe.id, 'signed in as the same user');
    assert.equal(me.provider, 'pairing');
    assert.notEqual(phone.cookies.get('gatehouse_session'), laptop.cookies.get('gatehouse_session'), 'its own session');
    const listed = (await laptop.get('/auth/account')).text;
    assert.match(listed, /Safari on iOS/);
    assert.match(listed, /paired from Firefox on macOS/);
    assert.ok(gh.auditLines.some((l) => l.includes('"pairing.used"')));
  });

  it('works once, also when five devices race for it', async () => {
    const laptop = await signedInDevice('pair-once@example.com');
    const { code } = await askForCode(laptop);
    const racers = Array.from({ length: 5 }, () => device());
    const forms = await Promise.all(racers.map((d) => d.get('/auth/pair')));
    const answers = await Promise.all(
      racers.map((d, i) => d.post('/auth/pair', { code, csrf: csrfFrom(forms[i]!.text) })),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [303, 400, 400, 400, 400]);
    assert.equal((await enter(device(), code)).status, 400, 'and never again');
    const { code: first } = await askForCode(laptop);
    const { code: second } = await askForCode(laptop);
    assert.equal((await enter(device(), first)).status, 400, 'a new code ends the previous one');
    assert.equal((await enter(device(), second)).status, 303);
  });

  it('expires after 5 minutes (injected clock)', async () => {
    const laptop = await signedInDevice('pair-late@example.com');
    const { code } = await askForCode(laptop);
    offset += 4 * 60_000 + 50_000;
    assert.equal((await enter(device(), code)).status, 303, 'valid at 4:50');
    const { code: late } = await askForCode(laptop);
    offset += 5 * 60_000 + 1000;
    const r = await enter(device(), late);
    assert.equal(r.status, 400);
    assert.match(r.text, /not valid/);
  });

  it("refuses a disabled user's code", async () => {
    const laptop = await signedInDevice('pair-disabled@example.com');
    const { code } = await askForCode(laptop);
    const u = (await gh.store.findUserByEmail('pair-disabled@example.com'))!;
    await gh.store.updateUser(u.id, { disabled: true }, new Date());
    assert.equal((await enter(device(), code)).status, 400);
  });

  it('5 wrong codes from one IP in a minute block it for 5 minutes, even for a right code; another IP is unaffected', async () => {
    const laptop = await signedInDevice('pair-block@example.com');
    const { code } = await askForCode(laptop);
    const attacker = device('192.0.2.66');
    const wrong = code === 'ZZZZZZ' ? 'YYYYYY' : 'ZZZZZZ';
    for (let i = 1; i <= 4; i++) assert.equal((await enter(attacker, wrong)).status, 400, `wrong code ${i}`);
    const fifth = await enter(attacker, 'not-a-code');
    assert.equal(fifth.status, 429, 'the fifth wrong code starts the block');
    assert.equal(fifth.headers['retry-after'], '300');
    const right = await enter(attacker, code);
    assert.equal(right.status, 429, 'even the right code is refused');
    assert.ok(Number(right.headers['retry-after']) > 290);
    const direct = await attacker.post('/auth/pair', { code, csrf: 'x' });
    assert.ok(direct.status === 429 || direct.status === 403, 'a POST without the page is refused too');
    // The block is in the store: a second replica on the same store refuses this IP as well.
    const replica = await startTestGatehouse({
      home: gh.home,
      trustedProxies: ['127.0.0.1/32'],
      now: () => Date.now() + offset,
    });
    try {
      const other = await new TestClient(replica.url).get('/auth/pair', { 'x-forwarded-for': '192.0.2.66' });
      assert.equal(other.status, 429);
    } finally {
      await replica.close();
    }
    // Another IP is unaffected, and the code was not used up by the refused attempt.
    assert.equal((await enter(device('192.0.2.77'), code)).status, 303);
    offset += 5 * 60_000 + 1000;
    assert.equal((await enter(attacker, wrong)).status, 400, 'after 5 minutes the IP may try again');
  });

  it('`gatehouse pair --user` prints a code and link the running server accepts; refuses unknown users and a missing --user', async () => {
    offset = 0; // the CLI writes with the real clock
    await signedInDevice('pair-cli@example.com');
    const env = { GATEHOUSE_HOME: gh.home, GATEHOUSE_PUBLIC_URL: 'https://app.example.com' };
    const r = await runCli(['pair', '--user', 'Pair-CLI@example.com'], env);
    assert.equal(r.code, 0, r.stderr);
    const code = /: ([A-Z0-9]{6}) \(valid 5 minutes/.exec(r.stdout)?.[1];
    assert.ok(code, r.stdout);
    assert.match(r.stdout, new RegExp(`^https://app\\.example\\.com/auth/pair\\?code=${code}$`, 'm'));
    const phone = device();
    assert.equal((await enter(phone, code!)).status, 303);
    assert.equal(
      JSON.parse((await phone.get('/auth/me', { accept: 'application/json' })).text).email,
      'pair-cli@example.com',
    );
    const owner = await device(`203.0.113.${ipSeq++}`, FIREFOX_MAC);
    assert.equal((await owner.signIn('pair-cli@example.com', 'a long enough password')).status, 303);
    assert.match((await owner.get('/auth/account')).text, /paired from the command line \(gatehouse pair\)/);
    const nobody = await runCli(['pair', '--user', 'nobody@example.com'], env);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /there is no user nobody@example\.com/);
    assert.equal((await runCli(['pair'], env)).code, 2);
    const qr = await runCli(['pair', '--user', 'pair-cli@example.com', '--qr'], env);
    assert.equal(qr.code, 0, qr.stderr);
    assert.match(qr.stdout, /█/, '--qr draws the QR code in the terminal');
  });

  it('only wrong codes within one minute count: four, a pause, four more do not block', async () => {
    const ip = device('192.0.2.88');
    for (let i = 0; i < 4; i++) assert.equal((await enter(ip, 'ZZZZZZ')).status, 400);
    offset += 61_000;
    for (let i = 0; i < 4; i++) assert.equal((await enter(ip, 'ZZZZZZ')).status, 400);
  });
});
