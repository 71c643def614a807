import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { safeReturnTo } from '../../src/security/redirect.js';
import { parseTrustedProxies } from '../../src/security/client-ip.js';
import { csrfTokenFor, isValidCsrfToken, requestOrigin } from '../../src/security/csrf.js';
import { checkPasswordPolicy, createLimiter, createPasswordHasher } from '../../src/security/password.js';
import { readCookie, serializeCookie, stripCookies } from '../../src/session/cookies.js';
import { isPublicPath } from '../../src/proxy/paths.js';
import { encodeHeaderValue, isReservedHeader } from '../../src/proxy/headers.js';

describe('return_to', () => {
  it('keeps same-origin relative paths', () => {
    for (const p of ['/', '/a/b?c=d#e', '/%E2%9C%93', '/path?next=//x']) assert.equal(safeReturnTo(p), p);
  });
  it('sends everything else to /', () => {
    const bad = ['//evil.com', '/\\evil.com', '\\/evil.com', 'https:evil.com', 'https://evil.com', '/%2F%2Fevil.com', '/%2f/evil.com',
      '%2F%2Fevil.com', '/%5Cevil.com', '/\tevil', '/%09/evil.com', '/%0d%0a/evil', 'javascript:alert(1)', 'JaVaScRiPt:x', '',
      'evil.com', '/%252F%252Fevil.com', '/%E0%A4%A', undefined, 42, '/' + 'a'.repeat(3000)];
    for (const p of bad) assert.equal(safeReturnTo(p), '/', JSON.stringify(p));
  });
});

describe('trusted proxies', () => {
  it('uses the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const t = parseTrustedProxies([]);
    assert.equal(t.clientIp('::ffff:10.1.2.3', '1.1.1.1'), '10.1.2.3');
  });
  it('takes the nearest untrusted hop behind trusted proxies', () => {
    const t = parseTrustedProxies(['127.0.0.1/32', '10.0.0.0/8']);
    assert.equal(t.clientIp('127.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.5'), '203.0.113.9');
    assert.equal(t.clientIp('192.0.2.1', '6.6.6.6'), '192.0.2.1', 'an untrusted peer cannot claim an address');
    assert.equal(t.clientIp('127.0.0.1', 'garbage'), '127.0.0.1');
  });
  it('refuses malformed entries', () => {
    assert.throws(() => parseTrustedProxies(['10.0.0.0/33']), /prefix/);
    assert.throws(() => parseTrustedProxies(['example.com']), /not an IP/);
  });
});

describe('CSRF', () => {
  const secret = Buffer.alloc(32, 7);
  it('accepts only the token bound to this cookie and secret', () => {
    const token = csrfTokenFor(secret, 'cookie-a');
    assert.ok(isValidCsrfToken(secret, 'cookie-a', token));
    assert.ok(!isValidCsrfToken(secret, 'cookie-b', token));
    assert.ok(!isValidCsrfToken(Buffer.alloc(32, 8), 'cookie-a', token));
    assert.ok(!isValidCsrfToken(secret, undefined, token));
    // Bound to the session once signed in: a token from one session is refused in another.
    const bound = csrfTokenFor(secret, 'cookie-a', 'session-1');
    assert.ok(isValidCsrfToken(secret, 'cookie-a', bound, 'session-1'));
    assert.ok(!isValidCsrfToken(secret, 'cookie-a', bound, 'session-2'));
    assert.ok(!isValidCsrfToken(secret, 'cookie-a', bound));
    assert.ok(!isValidCsrfToken(secret, 'cookie-a', token, 'session-1'));
    assert.ok(!isValidCsrfToken(secret, 'cookie-a', ['array']));
  });
  it('judges the origin from Sec-Fetch-Site and Origin', () => {
    const ours = 'http://app.test';
    assert.equal(requestOrigin({ origin: 'http://app.test' }, ours), 'same-origin');
    assert.equal(requestOrigin({ origin: 'http://evil.test' }, ours), 'cross-site');
    assert.equal(requestOrigin({ origin: 'null' }, ours), 'cross-site');
    assert.equal(requestOrigin({ 'sec-fetch-site': 'same-site', origin: 'http://app.test' }, ours), 'cross-site');
    assert.equal(requestOrigin({ 'sec-fetch-site': 'same-origin' }, ours), 'same-origin');
    assert.equal(requestOrigin({}, ours), 'unknown');
  });
});

describe('passwords', () => {
  it('applies the policy without composition rules', () => {
    assert.equal(checkPasswordPolicy('short'), 'too-short');
    assert.equal(checkPasswordPolicy('x'.repeat(1025)), 'too-long');
    assert.equal(checkPasswordPolicy('Password1'), 'common');
    assert.equal(checkPasswordPolicy('alice@example.com', 'alice@example.com'), 'same-as-email');
    assert.equal(checkPasswordPolicy('all lowercase words here'), null);
    assert.equal(checkPasswordPolicy('🔑🔑🔑🔑🔑🔑🔑🔑'), null, 'characters, not bytes');
  });
  it('hashes with argon2id at the specified strength and never truncates', async () => {
    const h = createPasswordHasher();
    const long = 'a'.repeat(1000);
    const phc = await h.hash(long);
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok((await h.verify(phc, long)).ok);
    assert.ok(!(await h.verify(phc, long.slice(0, 999))).ok, 'a shorter prefix must not match');
    assert.ok(!(await h.verify('not-a-phc', long)).ok);
  });
  it('asks for a rehash when stored parameters are weaker', async () => {
    const weak = createPasswordHasher({ params: { memoryCost: 8192, timeCost: 1, parallelism: 1 } });
    const phc = await weak.hash('some long password');
    const r = await createPasswordHasher().verify(phc, 'some long password');
    assert.deepEqual(r, { ok: true, rehash: true });
  });
  it('paces hashes and refuses beyond the queue', async () => {
    const limit = createLimiter(1, { perSecond: 20, maxQueue: 3 });
    const started: number[] = [];
    const run = () => limit(async () => void started.push(Date.now()));
    const ok = [run(), run(), run()];
    await assert.rejects(Promise.all([...ok, run(), run()]), /too many password checks waiting/);
    await Promise.allSettled(ok);
    // 20 a second: starts at least ~50 ms apart (a little slack for timer granularity).
    for (let i = 1; i < started.length; i++) assert.ok(started[i]! - started[i - 1]! >= 45, `${started[i]! - started[i - 1]!} ms`);
  });

  it('bounds concurrency', async () => {
    const limit = createLimiter(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        limit(async () => {
          peak = Math.max(peak, ++running);
          await new Promise((r) => setImmediate(r));
          running--;
        }),
      ),
    );
    assert.equal(peak, 2);
  });
});

describe('cookies', () => {
  it('reads exactly the named cookie', () => {
    assert.equal(readCookie('a=1; gatehouse_session=abc; b=2', 'gatehouse_session'), 'abc');
    assert.equal(readCookie('xgatehouse_session=evil; gatehouse_session=good', 'gatehouse_session'), 'good');
    assert.equal(readCookie('gatehouse_session_x=1', 'gatehouse_session'), undefined);
    assert.equal(readCookie(undefined, 'a'), undefined);
  });
  it('removes only our cookies before forwarding', () => {
    assert.equal(stripCookies('a=1; gatehouse_session=x; gatehouse_csrf=y; b=2', ['gatehouse_session', 'gatehouse_csrf']), 'a=1; b=2');
    assert.equal(stripCookies('gatehouse_session=x', ['gatehouse_session']), undefined);
    assert.equal(stripCookies('gatehouse_csrf=a; gatehouse_session=b', ['gatehouse_session', 'gatehouse_csrf']), undefined);
    assert.equal(stripCookies('gatehouse_session=b;x=1', ['gatehouse_session', 'gatehouse_csrf']), 'x=1');
    assert.equal(stripCookies('gatehouse_session_evil=1', ['gatehouse_session']), 'gatehouse_session_evil=1');
  });
  it('refuses to build an insecure __Host- cookie', () => {
    assert.throws(() => serializeCookie('__Host-x', 'v', { secure: false }));
    assert.match(serializeCookie('__Host-x', 'v', { secure: true }), /Secure/);
  });
});

describe('headers', () => {
  it('recognises identity headers in every spelling', () => {
    for (const n of ['X-Forwarded-User', 'x_forwarded_email', 'X_FORWARDED_ROLE', 'Forwarded', 'X-Real-IP', 'remote_user', 'X-Original-URL']) {
      assert.ok(isReservedHeader(n), n);
    }
    assert.ok(!isReservedHeader('x-request-id'));
  });
  it('encodes non-ASCII and control characters', () => {
    assert.equal(encodeHeaderValue('Ada'), 'Ada');
    assert.equal(encodeHeaderValue('Ada Lovelace'), 'Ada Lovelace');
    assert.equal(encodeHeaderValue('Zoë'), 'Zo%C3%AB');
    assert.equal(encodeHeaderValue('a\r\nX-Evil: 1'), 'a%0D%0AX-Evil: 1');
  });

  // Regression: only non-ASCII values were encoded, so `Bob 100% + Co` arrived raw (decodeURIComponent
  // threw) and a name typed as `Zo%C3%AB` decoded to `Zoë`.
  it('encodes so that decoding is always safe and gives back exactly what was typed', () => {
    const typed = ['Bob 100% + Co', 'Zo%C3%AB', '%', '%%41', ' leading', 'trailing ', 'a+b@x.com', 'Zoë 😀', '\ud800 lone', 'tab\there', ''];
    for (const value of typed) {
      const sent = encodeHeaderValue(value);
      assert.match(sent, /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$|^$/, `a clean header value for ${JSON.stringify(value)}`);
      assert.equal(decodeURIComponent(sent), value.replace('\ud800', '\ufffd'), `round trip of ${JSON.stringify(value)}`);
    }
    assert.equal(encodeHeaderValue('Bob 100% + Co'), 'Bob 100%25 + Co');
    assert.equal(encodeHeaderValue('Zo%C3%AB'), 'Zo%25C3%25AB');
    assert.equal(encodeHeaderValue('a+b@x.com'), 'a+b@x.com');
  });
});

describe('public paths', () => {
  const pats = ['/healthz', '/static/*'];
  it('matches the normalised path, never the query', () => {
    assert.ok(isPublicPath('/healthz', pats));
    assert.ok(isPublicPath('/static/app.css?v=1', pats));
    assert.ok(!isPublicPath('/private?/healthz', pats));
    assert.ok(!isPublicPath('/private?x=/static/a', pats));
    assert.ok(!isPublicPath('/staticx', pats));
    assert.ok(!isPublicPath('/static/', pats));
  });
  it('fails closed on path tricks', () => {
    for (const p of ['/static/../admin', '/static/%2e%2e/admin', '/static%2fadmin', '/static/%252e%252e/admin', '/static\\..\\admin',
      '//static/a', '/static//a', '/static/a;x', '/static/%00', '/STATIC/a', '/healthz/', '/healthz;a', '/static/./a']) {
      assert.ok(!isPublicPath(p, pats), p);
    }
  });
});
