// Access modes in isolation: `public` is `off`, org-only's rule comes last and fails closed, start-up
// refuses a mode without what it needs, passphrase sessions follow the current passphrase, and no
// social provider may take the name of Gatehouse's own sign-ins.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveSettings } from '../../src/config/settings.js';
import { emptyState, checkStateShape } from '../../src/config/state.js';
import { checkLiveSettings } from '../../src/config/validate.js';
import { providersFromEnv } from '../../src/config/env-providers.js';
import { policyOf, rulesInForce } from '../../src/access/policy.js';
import { decide } from '../../src/access/rules.js';
import { explain } from '../../src/access/explain.js';
import { isPassphraseUser, passphraseUserId } from '../../src/session/passphrase.js';
import { principalOf } from '../../src/session/sessions.js';
import { identityHeaders } from '../../src/proxy/headers.js';

const KEY = Buffer.alloc(32, 7);
const enabled = () => {
  const s = emptyState();
  s.auth.enabled = true;
  return s;
};
const member = (email: string) => ({ email, role: 'member', provider: 'password', groups: [] });

describe('access modes', () => {
  it('reads `public` as `off`, from the state file and from the environment', () => {
    const s = enabled();
    s.auth.mode = 'public';
    assert.equal(liveSettings(s, KEY, {}).mode, 'off');
    assert.equal(liveSettings(enabled(), KEY, { GATEHOUSE_AUTH_MODE: 'public' }).mode, 'off');
  });

  it("org-only lets the organisation's domains in, after every rule of the operator", () => {
    const settings = liveSettings(enabled(), KEY, {
      GATEHOUSE_AUTH_MODE: 'org-only',
      GATEHOUSE_ALLOWED_DOMAINS: 'corp.example,Corp.Org',
      GATEHOUSE_PUBLIC_PATHS: '/healthz',
      GATEHOUSE_ACCESS: '[{"pattern":"/docs/*","allow":["email:guest@else.example"]}]',
    });
    const { rules, restricts } = policyOf(settings);
    assert.ok(restricts);
    assert.deepEqual(
      rules.map((r) => r.pattern),
      ['/healthz', '/docs/*', '/*'],
    );
    assert.equal(decide(rules, 'GET', '/wiki', member('ada@corp.example')).outcome, 'allow');
    assert.equal(
      decide(rules, 'GET', '/wiki', member('bob@corp.org')).outcome,
      'allow',
      'domains compared in lower case',
    );
    assert.equal(decide(rules, 'GET', '/wiki', member('eve@else.example')).outcome, 'deny');
    assert.equal(
      decide(rules, 'GET', '/docs/a', member('guest@else.example')).outcome,
      'allow',
      "an operator's rule decides first",
    );
    assert.equal(decide(rules, 'GET', '/healthz', null).outcome, 'public');
    assert.equal(
      decide(rules, 'GET', '/wiki', member('ada@corp.example.evil')).outcome,
      'deny',
      'a suffix is not the domain',
    );
    assert.match(
      explain(rules, 'GET', '/wiki', member('eve@else.example')).reason,
      /rule 3 \(\/\*\) allows domain:corp\.example, domain:corp\.org/,
    );
    assert.deepEqual(
      rulesInForce({ ...settings, allowedDomains: [] }).at(-1)!.allow,
      [],
      'no domain: no one (fails closed)',
    );
    assert.deepEqual(
      rulesInForce({ ...settings, mode: 'on' }).map((r) => r.pattern),
      ['/healthz', '/docs/*'],
      'other modes add nothing',
    );
  });

  it('refuses at start-up a mode without what it needs', () => {
    assert.deepEqual(checkLiveSettings(enabled(), { GATEHOUSE_AUTH_MODE: 'org-only' }), [
      "mode org-only needs the organisation's email domains in GATEHOUSE_ALLOWED_DOMAINS (e.g. example.com)",
    ]);
    assert.deepEqual(checkLiveSettings(enabled(), { GATEHOUSE_AUTH_MODE: 'passphrase' }), [
      'mode passphrase needs a passphrase: run `gatehouse auth passphrase set` (or set GATEHOUSE_PASSPHRASE_HASH)',
    ]);
    assert.deepEqual(
      checkLiveSettings(enabled(), {
        GATEHOUSE_AUTH_MODE: 'passphrase',
        GATEHOUSE_PASSPHRASE_HASH: '$argon2id$v=19$m=19456,t=2,p=1$x$y',
      }),
      [],
    );
    assert.deepEqual(checkStateShape({ auth: { passphrase: 'hunter2 in clear' } }), [
      '"auth.passphrase" must be an argon2id hash (set it with `gatehouse auth passphrase set`)',
    ]);
  });

  it('gives each passphrase its own reserved user, who reaches the app as `passphrase` without an address', () => {
    const a = passphraseUserId('$argon2id$one');
    assert.ok(isPassphraseUser(a) && a.startsWith('gatehouse:passphrase:'));
    assert.notEqual(a, passphraseUserId('$argon2id$two'));
    assert.ok(!isPassphraseUser('0b8a3c1e-0000-4000-8000-000000000000'));
    const now = new Date();
    const p = principalOf(
      {
        id: a,
        email: 'x@passphrase.gatehouse.invalid',
        name: 'Passphrase',
        role: 'admin',
        passwordHash: null,
        emailVerified: true,
        disabled: false,
        groups: ['ops'],
        createdAt: now,
        updatedAt: now,
      },
      'passphrase',
    );
    assert.deepEqual(
      { ...p, groups: [...p.groups] },
      {
        userId: 'passphrase',
        email: '',
        name: 'Passphrase',
        provider: 'passphrase',
        role: 'member',
        emailVerified: false,
        groups: [],
        amr: ['pwd'],
      },
      'never more than a member, whatever the row says',
    );
    const headers = identityHeaders(p);
    assert.equal(headers[headers.indexOf('x-forwarded-user') + 1], 'passphrase');
    assert.ok(!headers.includes('x-forwarded-email') && !headers.includes('x-forwarded-email-verified'));
  });

  it("keeps the names of Gatehouse's own sign-ins from social providers", () => {
    const env = {
      GATEHOUSE_OIDC_PASSPHRASE_CLIENT_ID: 'id',
      GATEHOUSE_OIDC_PASSPHRASE_CLIENT_SECRET: 's',
      GATEHOUSE_OIDC_PASSPHRASE_ISSUER: 'https://idp.example',
    };
    const { providers, problems } = providersFromEnv(env);
    assert.deepEqual(providers, []);
    assert.match(problems[0]!, /"passphrase" is how Gatehouse names its own sign-ins/);
    assert.match(
      checkStateShape({
        providers: [
          { name: 'password', kind: 'oidc', clientId: 'a', clientSecret: 'b', issuer: 'https://idp.example' },
        ],
      }).join(),
      /reserved/,
    );
  });
});
