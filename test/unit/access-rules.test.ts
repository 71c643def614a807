// Access rules as pure functions: order, each kind of WHO, methods, MFA, and the path tricks that must
// never slip past a protected prefix.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decide,
  parseWho,
  patternProblem,
  ruleProblems,
  type AccessRule,
  type Subject,
} from '../../src/access/rules.js';

const who = (t: string) => {
  const w = parseWho(t);
  if (typeof w === 'string') throw new Error(w);
  return w;
};
const member: Subject = { email: 'bob@example.com', role: 'member', provider: 'password', groups: ['ops'] };
const admin: Subject = { email: 'ada@corp.example', role: 'admin', provider: 'google', groups: ['finance'], mfa: true };

const RULES: AccessRule[] = [
  { pattern: '/healthz', public: true },
  { pattern: '/admin/*', allow: [who('role:admin')], mfa: true },
  { pattern: '/finance/*', allow: [who('group:finance'), who('email:bob@example.com')] },
  { pattern: '/corp/*', allow: [who('domain:corp.example')] },
  { pattern: '/sso/*', allow: [who('provider:google')] },
  { pattern: '/reports/*', allow: [who('scope:reports:read')], methods: ['GET', 'HEAD'] },
  { pattern: '/reports/*', allow: [who('role:admin')] },
];

describe('access rules', () => {
  it('lets the first matching rule decide, each kind of WHO', () => {
    assert.equal(decide(RULES, 'GET', '/healthz', null).outcome, 'public');
    assert.equal(decide(RULES, 'GET', '/admin', member).outcome, 'deny', '/admin/* covers /admin itself');
    assert.equal(decide(RULES, 'GET', '/admin/users', admin).outcome, 'allow');
    assert.equal(decide(RULES, 'GET', '/admin/users', { ...admin, mfa: false }).outcome, 'mfa');
    assert.equal(decide(RULES, 'GET', '/finance/q3', admin).outcome, 'allow');
    assert.equal(decide(RULES, 'GET', '/finance/q3', member).outcome, 'allow', 'email:');
    assert.equal(decide(RULES, 'GET', '/corp/x', member).outcome, 'deny');
    assert.equal(decide(RULES, 'GET', '/corp/x', admin).outcome, 'allow');
    assert.equal(decide(RULES, 'GET', '/sso/x', admin).outcome, 'allow');
    assert.equal(decide(RULES, 'GET', '/sso/x', member).outcome, 'deny');
    assert.equal(decide(RULES, 'GET', '/reports/a', { ...member, scopes: ['reports:read'] }).outcome, 'allow');
    assert.equal(
      decide(RULES, 'POST', '/reports/a', { ...member, scopes: ['reports:read'] }).outcome,
      'deny',
      'methods: the next rule decides',
    );
    assert.equal(decide(RULES, 'GET', '/anything', member).outcome, 'allow', 'no rule: any signed-in user');
    assert.equal(decide(RULES, 'GET', '/anything', null).outcome, 'sign-in');
    assert.match(decide(RULES, 'GET', '/corp/x', member).reason, /rule 4 \(\/corp\/\*\) allows domain:corp\.example/);
  });

  it('never lets a path trick past a protected prefix: ambiguous paths are malformed', () => {
    const tricks = [
      '/healthz/../admin',
      '/healthz/%2e%2e/admin',
      '/healthz%2f..%2fadmin',
      '/healthz/%252e%252e/admin',
      '/healthz/..;/admin',
      '/healthz\\..\\admin',
      '/healthz/%5c../admin',
      '//admin',
      '/./admin',
      '/admin%00.css',
      '/admin/.',
      '/%c0%ae%c0%ae/admin',
      '/admin%23/public',
    ];
    for (const t of tricks) {
      const d = decide(RULES, 'GET', t, member);
      assert.ok(d.outcome === 'malformed' || d.outcome === 'deny', `${t}: ${d.outcome}`);
    }
    assert.equal(decide(RULES, 'GET', '/admin?x=/healthz', member).outcome, 'deny', 'the query never matches');
    assert.equal(
      decide(RULES, 'GET', '/ADMIN', member).outcome,
      'deny',
      'a case-insensitive app reads /ADMIN as /admin',
    );
  });

  it('checks patterns and rules, listing every problem', () => {
    assert.equal(patternProblem('/admin/*'), null);
    assert.match(patternProblem('admin')!, /must start with/);
    assert.match(patternProblem('/a*b')!, /may only end/);
    assert.match(patternProblem('/a/../b')!, /normalised/);
    assert.match(String(parseWho('team:x')), /is not one of/);
    const problems = ruleProblems(
      [
        { pattern: '/x', public: true, allow: [who('any')] },
        { pattern: '/y' },
        { pattern: '/z', allow: [who('any')], methods: ['get'] },
      ],
      'GATEHOUSE_ACCESS',
    );
    assert.equal(problems.length, 3, problems.join('\n'));
  });
});
