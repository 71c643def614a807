// Who must show a second factor (GATEHOUSE_MFA, the state file's auth.mfa), what a session's amr says,
// and how access rules read it: pure functions, checked without a server.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { amrOf, hasSecondFactor, mustEnrol } from '../../src/mfa/policy.js';
import { decide, subjectOf } from '../../src/access/rules.js';
import { liveSettings } from '../../src/config/settings.js';
import { checkStateShape, emptyState } from '../../src/config/state.js';
import { readServeSettings } from '../../src/config/serve-settings.js';

const person = (role: string, provider = 'password', amr?: string[]) => ({ role, provider, ...(amr ? { amr } : {}) });

it('optional asks no one; admins asks admins; all asks every person — only while the session lacks a factor', () => {
  assert.equal(mustEnrol('optional', person('admin')), false);
  assert.equal(mustEnrol('admins', person('admin')), true);
  assert.equal(mustEnrol('admins', person('member')), false);
  assert.equal(mustEnrol('all', person('member')), true);
  assert.equal(mustEnrol('all', person('member', 'google', ['fed'])), true);
  assert.equal(mustEnrol('all', person('admin', 'password', ['pwd', 'otp'])), false);
  assert.equal(mustEnrol('all', person('admin', 'password', ['hwk'])), false, 'a passkey is a second factor');
  for (const p of ['api-key', 'oauth', 'passphrase'])
    assert.equal(mustEnrol('all', person('admin', p)), false, `${p} has nothing to enrol`);
});

it('derives amr for sessions that never recorded one, and only otp/hwk/swk count as a second factor', () => {
  assert.deepEqual(amrOf('password'), ['pwd']);
  assert.deepEqual(amrOf('google'), ['fed']);
  assert.deepEqual(amrOf('api-key'), ['key']);
  assert.equal(hasSecondFactor(undefined), false);
  assert.equal(hasSecondFactor(['pwd']), false);
  assert.equal(hasSecondFactor(['fed', 'otp']), true);
});

it('an --mfa rule passes a session with a second factor, and only that', () => {
  const rules = [{ pattern: '/secure/*', allow: [{ kind: 'any' as const }], mfa: true }];
  const who = { email: 'a@example.com', role: 'member', provider: 'password', groups: [] };
  assert.equal(decide(rules, 'GET', '/secure/x', subjectOf(who)).outcome, 'mfa');
  assert.equal(decide(rules, 'GET', '/secure/x', subjectOf({ ...who, amr: ['pwd'] })).outcome, 'mfa');
  assert.equal(decide(rules, 'GET', '/secure/x', subjectOf({ ...who, amr: ['pwd', 'otp'] })).outcome, 'allow');
});

it('reads the policy from GATEHOUSE_MFA over the state file, and refuses values it does not know', () => {
  const key = randomBytes(32);
  const state = emptyState();
  assert.equal(liveSettings(state, key, {}).mfa, 'optional');
  state.auth.mfa = 'admins';
  assert.equal(liveSettings(state, key, {}).mfa, 'admins');
  assert.equal(liveSettings(state, key, { GATEHOUSE_MFA: 'all' }).mfa, 'all');
  assert.deepEqual(checkStateShape({ auth: { mfa: 'sometimes' } }), ['"auth.mfa" must be optional, admins or all']);
  const r = readServeSettings({}, { GATEHOUSE_MFA: 'sometimes' });
  assert.equal(r.ok, false);
  assert.ok(
    !r.ok && r.problems.includes('GATEHOUSE_MFA must be optional, admins or all, not "sometimes"'),
    JSON.stringify(r),
  );
});
