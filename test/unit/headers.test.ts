// src/proxy/headers.ts: identity header names and values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHeaderValue, isReservedHeader } from '../../src/proxy/headers.js';

describe('headers', () => {
  it('recognises identity headers in every spelling', () => {
    for (const n of [
      'X-Forwarded-User',
      'x_forwarded_email',
      'X_FORWARDED_ROLE',
      'Forwarded',
      'X-Real-IP',
      'remote_user',
      'X-Original-URL',
    ]) {
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
    const typed = [
      'Bob 100% + Co',
      'Zo%C3%AB',
      '%',
      '%%41',
      ' leading',
      'trailing ',
      'a+b@x.com',
      'Zoë 😀',
      '\ud800 lone',
      'tab\there',
      '',
    ];
    for (const value of typed) {
      const sent = encodeHeaderValue(value);
      assert.match(
        sent,
        /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$|^$/,
        `a clean header value for ${JSON.stringify(value)}`,
      );
      assert.equal(
        decodeURIComponent(sent),
        value.replace('\ud800', '\ufffd'),
        `round trip of ${JSON.stringify(value)}`,
      );
    }
    assert.equal(encodeHeaderValue('Bob 100% + Co'), 'Bob 100%25 + Co');
    assert.equal(encodeHeaderValue('Zo%C3%AB'), 'Zo%25C3%25AB');
    assert.equal(encodeHeaderValue('a+b@x.com'), 'a+b@x.com');
  });
});
