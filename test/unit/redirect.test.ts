// src/security/redirect.ts: where return_to may send a browser after sign-in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { safeReturnTo } from '../../src/security/redirect.js';

describe('return_to', () => {
  it('keeps same-origin relative paths', () => {
    for (const p of ['/', '/a/b?c=d#e', '/%E2%9C%93', '/path?next=//x']) assert.equal(safeReturnTo(p), p);
  });
  it('sends everything else to /', () => {
    const bad = [
      '//evil.com',
      '/\\evil.com',
      '\\/evil.com',
      'https:evil.com',
      'https://evil.com',
      '/%2F%2Fevil.com',
      '/%2f/evil.com',
      '%2F%2Fevil.com',
      '/%5Cevil.com',
      '/\tevil',
      '/%09/evil.com',
      '/%0d%0a/evil',
      'javascript:alert(1)',
      'JaVaScRiPt:x',
      '',
      'evil.com',
      '/%252F%252Fevil.com',
      '/%E0%A4%A',
      undefined,
      42,
      '/' + 'a'.repeat(3000),
    ];
    for (const p of bad) assert.equal(safeReturnTo(p), '/', JSON.stringify(p));
  });
});
