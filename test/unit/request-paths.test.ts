// How a request's path is read for access decisions (src/access/paths.ts), and the rules' method and
// default semantics built on it. Named after this month's findings: /%61dmin, /ADMIN, /billing/ and a
// method-limited rule each got a member past a rule.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readPath } from '../../src/access/paths.js';
import { decide, parseWho, type AccessRule, type Subject } from '../../src/access/rules.js';
import { hostileSpellings } from '../support/spellings.js';

const who = (t: string) => {
  const w = parseWho(t);
  if (typeof w === 'string') throw new Error(w);
  return w;
};
const member: Subject = { email: 'bob@example.com', role: 'member', provider: 'password', groups: [] };
const finance: Subject = { ...member, groups: ['finance'] };

describe('reading a path', () => {
  it('reads every spelling a lenient app takes for /admin as /admin', () => {
    for (const p of [
      '/admin',
      '/%61dmin',
      '/adm%69n',
      '/ADMIN',
      '/Admin/',
      '/admin.',
      '/admin./',
      '/admin%20',
      '/%41DMIN',
      encodeURI('/ａｄｍｉｎ'),
      '/admin..',
    ]) {
      assert.equal(readPath(p)?.key, '/admin', p);
    }
    assert.equal(readPath('/admin./x')?.key, '/admin/x');
    assert.equal(readPath('/billing/?q=1')?.key, '/billing');
    assert.equal(readPath('/')?.key, '/');
    assert.equal(readPath('/caf%C3%A9')?.key, '/café');
    assert.equal(readPath('/Static/App.css')?.raw, '/Static/App.css', 'the raw reading is the path as sent');
  });

  it('refuses spellings apps disagree on', () => {
    for (const p of [
      '/a/../admin',
      '/a/%2e%2e/admin',
      '/%2e/admin',
      '/admin%2fx',
      '/admin%5cx',
      '/admin%25',
      '/a;b',
      '/a\\b',
      '//admin',
      '/admin/./x',
      '/%c0%ae%c0%ae/admin',
      '/admin%00',
      '/admin%0a',
      '/admin%',
      '/admin%zz',
      '/admin%3fx',
      '/admin%23x',
      '/...',
      '/a/ /b',
      '/ſecret',
      '/adm%C4%B1n',
      '/admin／x',
      '/．．/admin',
      'admin',
      '/admin\u00e9',
    ]) {
      assert.equal(readPath(p), null, p);
    }
  });

  it('the generated hostile spellings of /admin/x are all read as it or refused', () => {
    for (const p of hostileSpellings('/admin/x')) {
      const r = readPath(p);
      assert.ok(r === null || r.key === '/admin/x', `${p} → ${r?.key}`);
    }
  });
});

describe('rules on methods and defaults', () => {
  const rules: AccessRule[] = [{ pattern: '/reports/*', allow: [who('group:finance')], methods: ['GET'] }];

  it('a method a rule does not list is refused when no later rule applies (finding: POST fell open)', () => {
    assert.equal(decide(rules, 'POST', '/reports/q3', finance).outcome, 'deny');
    assert.equal(decide(rules, 'POST', '/reports/q3', member).outcome, 'deny');
    assert.match(decide(rules, 'DELETE', '/REPORTS/q3', finance).reason, /GET only/);
    assert.equal(
      decide(rules, 'POST', '/elsewhere', member).outcome,
      'allow',
      'paths no rule names follow the default',
    );
  });

  it('GET covers HEAD', () => {
    assert.equal(decide(rules, 'HEAD', '/reports/q3', member).outcome, 'deny');
    assert.equal(decide(rules, 'HEAD', '/reports/q3', finance).outcome, 'allow');
  });

  it('a later rule decides the methods an earlier one leaves', () => {
    const two: AccessRule[] = [...rules, { pattern: '/reports/*', allow: [who('role:admin')] }];
    assert.equal(decide(two, 'POST', '/reports/q3', finance).outcome, 'deny');
    assert.equal(decide(two, 'POST', '/reports/q3', { ...member, role: 'admin' }).outcome, 'allow');
  });

  it('access default deny refuses what no rule allows', () => {
    assert.equal(decide([], 'GET', '/x', member, 'deny').outcome, 'deny');
    assert.equal(decide([{ pattern: '/x', allow: [who('any')] }], 'GET', '/x', member, 'deny').outcome, 'allow');
    assert.equal(decide([], 'GET', '/x', null, 'deny').outcome, 'sign-in');
  });

  it('a public rule opens only the path as written; other spellings go on to the later rules', () => {
    const pub: AccessRule[] = [
      { pattern: '/static/*', public: true },
      { pattern: '/*', allow: [who('role:admin')] },
    ];
    assert.equal(decide(pub, 'GET', '/static/a.css', null).outcome, 'public');
    assert.equal(decide(pub, 'GET', '/STATIC/a.css', null).outcome, 'sign-in');
    assert.equal(decide(pub, 'GET', '/%73tatic/a.css', member).outcome, 'deny');
  });

  it('reads the trailing slash and dot of finding 2 as the same path', () => {
    const billing: AccessRule[] = [{ pattern: '/billing', allow: [who('group:finance')] }];
    for (const p of ['/billing', '/billing/', '/billing.', '/Billing', '/%62illing'])
      assert.equal(decide(billing, 'GET', p, member).outcome, 'deny', p);
  });
});
