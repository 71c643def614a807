// Public paths are `--public` access rules (architecture.md#access) and go through the rules' one matcher.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, publicPathRules } from '../../src/access/rules.js';

const isPublic = (path: string, patterns: string[]) =>
  decide(publicPathRules(patterns), 'GET', path, null).outcome === 'public';

describe('public paths', () => {
  const pats = ['/healthz', '/static/*'];
  it('matches the normalised path, never the query', () => {
    assert.ok(isPublic('/healthz', pats));
    assert.ok(isPublic('/static/app.css?v=1', pats));
    assert.ok(isPublic('/static', pats), '/static/* covers /static itself, as every prefix rule does');
    assert.ok(!isPublic('/private?/healthz', pats));
    assert.ok(!isPublic('/private?x=/static/a', pats));
    assert.ok(!isPublic('/staticx', pats));
  });
  it('fails closed on path tricks', () => {
    for (const p of [
      '/static/../admin',
      '/static/%2e%2e/admin',
      '/static%2fadmin',
      '/static/%252e%252e/admin',
      '/static\\..\\admin',
      '//static/a',
      '/static//a',
      '/static/a;x',
      '/static/%00',
      '/STATIC/a',
      '/healthz/',
      '/healthz;a',
      '/static/./a',
    ]) {
      assert.ok(!isPublic(p, pats), p);
    }
  });
});
