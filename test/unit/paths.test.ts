// src/proxy/paths.ts: which paths are public.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicPath } from '../../src/proxy/paths.js';

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
