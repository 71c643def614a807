// src/security/csrf.ts: form tokens and the origin of a request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csrfTokenFor, isValidCsrfToken, requestOrigin } from '../../src/security/csrf.js';

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
