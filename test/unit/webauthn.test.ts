// Who the relying party is, for each kind of public URL (README › Passkeys), and how a typed passkey
// name is tidied. The ceremonies themselves are tested over HTTP (test/security/passkeys.test.ts)
// and in Chromium (test/e2e/passkeys.test.ts).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { passkeyName, relyingParty } from '../../src/auth/webauthn.js';
import type { AuthContext } from '../../src/auth/context.js';

const rpFor = (publicOrigin: string | null, asked = 'http://localhost:4180') =>
  relyingParty({
    var: { deps: { publicOrigin } },
    get: (k: string) => (k === 'ourOrigin' ? asked : undefined),
  } as unknown as AuthContext);

it('takes the RP ID from the public URL hostname and the origin from its origin', () => {
  assert.deepEqual(rpFor('https://login.example.com'), {
    id: 'login.example.com',
    origin: 'https://login.example.com',
    unavailable: null,
  });
  assert.deepEqual(rpFor('https://login.example.com:8443'), {
    id: 'login.example.com',
    origin: 'https://login.example.com:8443',
    unavailable: null,
  });
  assert.deepEqual(rpFor('http://localhost:4180'), {
    id: 'localhost',
    origin: 'http://localhost:4180',
    unavailable: null,
  });
  assert.equal(rpFor('http://app.localhost:4180').unavailable, null, '*.localhost is a secure context too');
  assert.equal(
    rpFor(null, 'http://localhost:9000').origin,
    'http://localhost:9000',
    'without a public URL: the origin asked',
  );
});

it('is unavailable at an IP address or on plain http off localhost, with a sentence saying why', () => {
  assert.match(rpFor('http://127.0.0.1:4180').unavailable!, /domain name: .* IP address 127\.0\.0\.1/);
  assert.match(rpFor('https://10.0.0.5').unavailable!, /IP address 10\.0\.0\.5/);
  assert.match(rpFor('http://[::1]:4180').unavailable!, /IP address ::1/);
  assert.match(rpFor(null, 'http://192.168.1.20:4180').unavailable!, /IP address/);
  assert.match(rpFor('http://intranet.example').unavailable!, /https/);
});

it('tidies a passkey name: trimmed, no control characters, at most 64 characters, else the fallback', () => {
  assert.equal(passkeyName('  Work laptop \u0000\u001b[31m ', 'x'), 'Work laptop [31m');
  assert.equal(passkeyName('', 'Chrome on Linux'), 'Chrome on Linux');
  assert.equal(passkeyName(['array'], 'fallback'), 'fallback');
  assert.equal([...passkeyName('🙂'.repeat(100), 'x')].length, 64, 'counted in code points, never a split emoji');
});
