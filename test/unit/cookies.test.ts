// src/session/cookies.ts: reading, stripping and building Gatehouse's cookies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readCookie, serializeCookie, stripCookies } from '../../src/session/cookies.js';

describe('cookies', () => {
  it('reads exactly the named cookie', () => {
    assert.equal(readCookie('a=1; gatehouse_session=abc; b=2', 'gatehouse_session'), 'abc');
    assert.equal(readCookie('xgatehouse_session=evil; gatehouse_session=good', 'gatehouse_session'), 'good');
    assert.equal(readCookie('gatehouse_session_x=1', 'gatehouse_session'), undefined);
    assert.equal(readCookie(undefined, 'a'), undefined);
  });
  it('removes only our cookies before forwarding', () => {
    assert.equal(
      stripCookies('a=1; gatehouse_session=x; gatehouse_csrf=y; b=2', ['gatehouse_session', 'gatehouse_csrf']),
      'a=1; b=2',
    );
    assert.equal(stripCookies('gatehouse_session=x', ['gatehouse_session']), undefined);
    assert.equal(
      stripCookies('gatehouse_csrf=a; gatehouse_session=b', ['gatehouse_session', 'gatehouse_csrf']),
      undefined,
    );
    assert.equal(stripCookies('gatehouse_session=b;x=1', ['gatehouse_session', 'gatehouse_csrf']), 'x=1');
    assert.equal(stripCookies('gatehouse_session_evil=1', ['gatehouse_session']), 'gatehouse_session_evil=1');
  });
  it('refuses to build an insecure __Host- cookie', () => {
    assert.throws(() => serializeCookie('__Host-x', 'v', { secure: false }));
    assert.match(serializeCookie('__Host-x', 'v', { secure: true }), /Secure/);
  });
});
