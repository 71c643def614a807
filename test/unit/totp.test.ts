// The second factor's arithmetic: RFC 6238's SHA-1 test vectors, through the test's own RFC math and
// through Gatehouse's (otpauth), the ±1 step window, and the recovery-code format.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  newRecoveryCodes,
  newTotpSecret,
  readCode,
  recoveryHash,
  totpCode,
  totpStep,
  totpUri,
} from '../../src/mfa/totp.js';
import { totpAt } from '../support/totp.js';

// RFC 6238 Appendix B: the ASCII key "12345678901234567890" (base32 below), SHA-1, 8 digits there;
// a 6-digit code is the same number's last six digits.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: Array<[number, string]> = [
  [59, '287082'],
  [1111111109, '081804'],
  [1234567890, '005924'],
  [1111111111, '050471'],
  [2000000000, '279037'],
];

it('computes the RFC 6238 SHA-1 test vectors (6 digits), in the test and in Gatehouse alike', () => {
  for (const [t, code] of VECTORS) {
    assert.equal(totpAt(RFC_SECRET, t * 1000), code, `RFC math at T=${t}`);
    assert.equal(totpCode(RFC_SECRET, t * 1000), code, `otpauth at T=${t}`);
  }
});

it('accepts a code within one 30-second step either way and names its step; refuses others', () => {
  const t = 1234567890_000;
  const step = Math.floor(t / 30_000);
  assert.equal(totpStep(RFC_SECRET, '005924', t), step);
  assert.equal(totpStep(RFC_SECRET, '005924', t + 30_000), step, 'one step late');
  assert.equal(totpStep(RFC_SECRET, '005924', t - 30_000), step, 'one step early');
  assert.equal(totpStep(RFC_SECRET, '005924', t + 60_000), null, 'two steps late');
  assert.equal(totpStep(RFC_SECRET, '005925', t), null);
  for (const bad of ['', '5924', '0059245', 'abcdef', '00592 ', '٠٠٥٩٢٤'])
    assert.equal(totpStep(RFC_SECRET, bad, t), null, JSON.stringify(bad));
});

it('makes 160-bit secrets and an otpauth://totp URI with SHA1, 6 digits, 30 s', () => {
  const s = newTotpSecret();
  assert.match(s, /^[A-Z2-7]{32}$/);
  assert.notEqual(newTotpSecret(), s);
  const uri = new URL(totpUri(s, 'Test App', 'ada@example.com'));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(uri.searchParams.get('secret'), s);
  assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
  assert.equal(uri.searchParams.get('issuer'), 'Test App');
  assert.equal(totpCode(s, 1e12), totpAt(s, 1e12));
});

it('makes 10 recovery codes xxxxx-xxxxx of lower-case letters and digits 2–9, and reads them back however typed', () => {
  const codes = newRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
  assert.deepEqual(readCode('abcde-fgh23'), { kind: 'recovery', code: 'abcde-fgh23' });
  assert.deepEqual(readCode(' ABCDE FGH23 '), { kind: 'recovery', code: 'abcde-fgh23' });
  assert.deepEqual(readCode('abcdefgh23'), { kind: 'recovery', code: 'abcde-fgh23' });
  assert.deepEqual(readCode('123 456'), { kind: 'totp', code: '123456' });
  for (const bad of ['abcde-fgh21', 'abcde-fgh2', '12345', 'x'.repeat(200), 'abcde_fgh23'])
    assert.equal(readCode(bad), null, bad);
  assert.notEqual(recoveryHash('u1', codes[0]!), recoveryHash('u2', codes[0]!), 'two users, two hashes');
  assert.match(recoveryHash('u1', codes[0]!), /^[0-9a-f]{64}$/);
});
