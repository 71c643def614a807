// Identity input: one mailbox is one account (NFKC, case, IDNA and trailing-dot spellings meet; invisible,
// bidi and control characters, mixed-script look-alikes and bad IDNA are refused), one password length
// rule counted in code points everywhere, and the maintained common-password dictionary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { isDomainAllowed, normalizeEmail, parseEmail } from '../../src/accounts/email.js';
import {
  checkPasswordPolicy,
  isCommonPassword,
  MAX_PASSWORD_LENGTH,
  passwordLength,
} from '../../src/security/password.js';
import { runCli, startTestGatehouse, tempHome, type TestGatehouse } from '../support/gatehouse.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/upstream.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { csrfFrom, TestClient } from '../support/client.js';
import { emptyState, writeState } from '../../src/config/state.js';
import { enableAuth } from '../../src/config/auth-state.js';
import { loadMasterKey } from '../../src/config/secrets.js';

const PASSWORD = 'a sturdy passphrase here';
const EMOJI_600 = '😀'.repeat(600); // 1200 UTF-16 units: over the old sign-in limit, within the policy
const unique = () => randomBytes(4).toString('hex');

// Zero-width, BOM, direction marks, embeddings/overrides, isolates, C0/C1 controls and DEL.
const INVISIBLES = [
  '\u200b',
  '\u200c',
  '\u200d',
  '\ufeff',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00ad',
  '\u2028',
];

describe('parseEmail and normalizeEmail', () => {
  it('refuses invisible, bidi and control characters anywhere in the address', () => {
    for (const ch of INVISIBLES) {
      const code = `U+${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
      for (const email of [
        `ada${ch}@example.com`,
        `${ch}ada@example.com`,
        `ada@exa${ch}mple.com`,
        `ada@example.com${ch}`,
      ]) {
        assert.deepEqual(parseEmail(email), { ok: false, reason: 'invisible' }, `${code} in ${JSON.stringify(email)}`);
      }
    }
  });

  it('refuses a trailing dot in the domain, but a look-up with one still finds the mailbox', () => {
    for (const email of ['ada@example.com.', 'ada@example.com\u3002', 'ada@example.com\uff0e']) {
      assert.deepEqual(parseEmail(email), { ok: false, reason: 'trailing-dot' }, email);
      assert.equal(normalizeEmail(email), 'ada@example.com');
    }
  });

  it('NFC/NFKC-normalises: decomposed, fullwidth and differently-cased spellings are one address', () => {
    const composed = parseEmail('josé@bücher.de');
    assert.deepEqual(composed, { ok: true, email: 'josé@xn--bcher-kva.de' });
    for (const spelling of [
      'jose\u0301@bu\u0308cher.de',
      'JOSÉ@BÜCHER.DE',
      'ＪＯＳＥ\u0301@ｂüｃｈｅｒ．ｄｅ',
      '  josé@bücher.de\t',
    ]) {
      assert.deepEqual(parseEmail(spelling), composed, spelling);
      assert.equal(normalizeEmail(spelling), 'josé@xn--bcher-kva.de', spelling);
    }
    assert.deepEqual(parseEmail('ａｄａ@example.com'), { ok: true, email: 'ada@example.com' });
    assert.deepEqual(parseEmail('ａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ'), { ok: true, email: 'ada@example.com' });
  });

  it('stores the domain in ASCII, so the IDN and punycode spellings are the same account', () => {
    assert.deepEqual(parseEmail('ada@bücher.de'), { ok: true, email: 'ada@xn--bcher-kva.de' });
    assert.deepEqual(parseEmail('ada@xn--bcher-kva.de'), { ok: true, email: 'ada@xn--bcher-kva.de' });
    assert.deepEqual(parseEmail('ADA@XN--BCHER-KVA.DE'), { ok: true, email: 'ada@xn--bcher-kva.de' });
    assert.equal(normalizeEmail('ADA@Bücher.DE'), 'ada@xn--bcher-kva.de');
  });

  it('refuses a local part or domain label that mixes scripts, however the domain is spelled', () => {
    for (const email of [
      '\u0430da@example.com', // Cyrillic а among Latin letters
      'ad\u03b1@example.com', // Greek α
      'ada@\u0430pple.com',
      'ada@xn--pple-43d.com', // the same look-alike typed as punycode
      'ada@g\u03bfogle.com', // Greek omicron
    ]) {
      assert.deepEqual(parseEmail(email), { ok: false, reason: 'mixed-script' }, email);
    }
    // One script per label is fine, and so is Latin written with Japanese.
    assert.deepEqual(parseEmail('иван@пример.рф'), { ok: true, email: 'иван@xn--e1afmkfd.xn--p1ai' });
    assert.equal(parseEmail('ελλάδα@example.com').ok, true);
    assert.equal(parseEmail('taro山田@example.jp').ok, true);
  });

  it('refuses what IDNA or DNS cannot take', () => {
    for (const email of [
      'ada@xn--zz.com',
      'ada@-bad.com',
      'ada@ex_ample.com',
      'ada@1.2.3.4',
      'ada@%41.com',
      'ada@example',
      'ada@a..com',
      'a..b@example.com',
      '.ada@example.com',
      'a@b@example.com',
      'ada@',
      '@example.com',
      '',
      'ada',
    ]) {
      assert.deepEqual(parseEmail(email), { ok: false, reason: 'invalid' }, email);
    }
    assert.deepEqual(parseEmail(`${'a'.repeat(65)}@example.com`), { ok: false, reason: 'too-long' });
    assert.deepEqual(
      parseEmail(`${'a'.repeat(10)}@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`),
      { ok: false, reason: 'too-long' },
    );
    assert.deepEqual(parseEmail(42), { ok: false, reason: 'invalid' });
  });

  it('normalizeEmail never throws and agrees with parseEmail on every address it accepts', () => {
    assert.equal(normalizeEmail(undefined), '');
    assert.equal(normalizeEmail({ email: 'x' }), '');
    const pieces = [
      'a',
      'Ä',
      '@',
      '.',
      'ü',
      '\u0430',
      '\u200b',
      '\u202e',
      '\u0000',
      'ｘ',
      '\ud800',
      '%',
      '-',
      'xn--',
      '。',
      ' ',
      '山',
      '😀',
    ];
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let n = Math.floor(Math.random() * 16); n > 0; n--)
        text += pieces[Math.floor(Math.random() * pieces.length)];
      const normal = normalizeEmail(text);
      assert.equal(typeof normal, 'string');
      const parsed = parseEmail(text);
      if (parsed.ok) assert.equal(normal, parsed.email, JSON.stringify(text));
    }
  });

  it('matches the domain allow-list in whichever spelling it is configured', () => {
    assert.equal(isDomainAllowed('ada@xn--bcher-kva.de', ['bücher.de']), true);
    assert.equal(isDomainAllowed('ada@xn--bcher-kva.de', ['XN--BCHER-KVA.DE']), true);
    assert.equal(isDomainAllowed('ada@example.com', ['Example.COM']), true);
    assert.equal(isDomainAllowed('ada@evil-example.com', ['example.com']), false);
  });
});

describe('the password policy', () => {
  it('counts code points: 600 emoji are 600 characters, 1025 code points are too many', () => {
    assert.equal(passwordLength(EMOJI_600), 600);
    assert.equal(checkPasswordPolicy(EMOJI_600), null);
    assert.equal(checkPasswordPolicy('😀'.repeat(MAX_PASSWORD_LENGTH)), null);
    assert.equal(checkPasswordPolicy('😀'.repeat(MAX_PASSWORD_LENGTH + 1)), 'too-long');
    assert.equal(checkPasswordPolicy('x'.repeat(1024) + '😀'), 'too-long');
  });

  it('refuses every password of the @zxcvbn-ts/language-common dictionary, in any case', () => {
    const { dictionary } = createRequire(import.meta.url)(
      '@zxcvbn-ts/language-common',
    ) as typeof import('@zxcvbn-ts/language-common');
    const list = dictionary['passwords-common'];
    assert.ok(list.length >= 10_000, `the dictionary holds ${list.length} passwords`);
    for (const entry of list) {
      assert.equal(isCommonPassword(entry.toLowerCase()), true, entry);
      if (passwordLength(entry) >= 8) assert.equal(checkPasswordPolicy(entry.toUpperCase()), 'common', entry);
    }
  });

  it('refuses keyboard and digit walks and listed passwords with a few characters added', () => {
    for (const p of [
      '123456789012',
      'qwertyuiopas',
      'QwertyUiopAS',
      '0987654321098',
      'lkjhgfdsapoi',
      'zxcvbnmqwerty',
      '890123456789',
      'password2024!',
      'Dragon12',
      'sunshine!!',
    ]) {
      assert.equal(checkPasswordPolicy(p), 'common', p);
    }
    for (const p of [
      'correct horse battery staple',
      'all lowercase words here',
      '🔑🔑🔑🔑🔑🔑🔑🔑',
      'tulip-orbit-1917',
      PASSWORD,
    ]) {
      assert.equal(checkPasswordPolicy(p), null, p);
    }
  });
});

describe('over HTTP', () => {
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  before(async () => {
    upstream = await startRecordingUpstream();
    gh = await startTestGatehouse({ upstream: upstream.url });
  });
  after(async () => {
    await gh.stop();
    await upstream.close();
  });

  it('refuses sign-up with invisible characters, a trailing dot or mixed scripts, with a per-field message', async () => {
    for (const email of [
      `ada${unique()}\u200b@example.com`,
      `ada${unique()}@exa\u202emple.com`,
      `ada${unique()}\ufeff@example.com`,
      `ada${unique()}@example.com.`,
      `\u0430da${unique()}@example.com`,
      `a\u0007${unique()}@example.com`,
    ]) {
      const r = await new TestClient(gh.url).signUp(email, PASSWORD);
      assert.equal(r.status, 400, JSON.stringify(email));
      assert.match(r.text, /Enter a valid email address/, JSON.stringify(email));
    }
  });

  it('makes one account of the IDN, punycode, fullwidth, upper-case and trailing-dot spellings, and signs in with any of them', async () => {
    const local = `ada${unique()}`;
    assert.equal((await new TestClient(gh.url).signUp(`${local}@xn--bcher-kva.de`, PASSWORD)).status, 303);
    for (const spelling of [
      `${local}@bücher.de`,
      `${local.toUpperCase()}@BÜCHER.DE`,
      `${local.replace('ada', 'ａｄａ')}@bu\u0308cher.de`,
    ]) {
      const again = await new TestClient(gh.url).signUp(spelling, PASSWORD);
      assert.equal(again.status, 400, spelling);
      assert.match(again.text, /already exists/, spelling);
    }
    for (const spelling of [
      `${local.toUpperCase()}@Bücher.DE`,
      `${local}@xn--bcher-kva.de.`,
      `${local.replace('ada', 'ＡＤＡ')}@ｂüｃｈｅｒ．ｄｅ`,
    ]) {
      const c = new TestClient(gh.url);
      assert.equal((await c.signIn(spelling, PASSWORD)).status, 303, spelling);
      assert.match(
        (await c.get('/auth/me', { accept: 'application/json' })).text,
        new RegExp(`"email":"${local}@xn--bcher-kva.de"`),
      );
    }
  });

  it('signs in with the 600-emoji password it accepted at sign-up, and refuses 1025 code points at sign-up', async () => {
    const email = `emoji${unique()}@example.com`;
    assert.equal((await new TestClient(gh.url).signUp(email, EMOJI_600)).status, 303);
    assert.equal((await new TestClient(gh.url).signIn(email, EMOJI_600)).status, 303);
    const tooLong = await new TestClient(gh.url).signUp(`long${unique()}@example.com`, '😀'.repeat(1025));
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.text, /at most 1024 characters/);
  });

  it('refuses common passwords at sign-up and at a password change, and a changed emoji password signs in', async () => {
    for (const common of ['123456789012', 'qwertyuiopas', 'iloveyou2024']) {
      const r = await new TestClient(gh.url).signUp(`common${unique()}@example.com`, common);
      assert.equal(r.status, 400, common);
      assert.match(r.text, /too common/, common);
    }
    const email = `change${unique()}@example.com`;
    const c = new TestClient(gh.url);
    assert.equal((await c.signUp(email, PASSWORD)).status, 303);
    const change = async (password: string) =>
      c.post('/auth/account/password', {
        current_password: PASSWORD,
        password,
        csrf: csrfFrom((await c.get('/auth/account')).text),
      });
    const refused = await change('qwertyuiopas');
    assert.equal(refused.status, 400);
    assert.match(refused.text, /too common/);
    assert.equal((await change(EMOJI_600)).status, 200);
    assert.equal((await new TestClient(gh.url).signIn(email, EMOJI_600)).status, 303);
  });

  it('gatehouse users invite refuses an address with a zero-width space and stores the normalised form', async () => {
    const env = { GATEHOUSE_HOME: gh.home };
    const refused = await runCli(['users', 'invite', 'ada\u200b@example.com'], env);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /invisible/);
    const made = await runCli(['users', 'invite', `INVITED${unique()}@Bücher.DE`], env);
    assert.equal(made.code, 0, made.stderr);
    assert.match(
      new URL(made.stdout.trim().split('\n').at(-1)!).searchParams.get('email')!,
      /^invited[0-9a-f]{8}@xn--bcher-kva\.de$/,
    );
  });
});

describe('password reset over HTTP', () => {
  let smtp: SmtpSink;
  let upstream: RecordingUpstream;
  let gh: TestGatehouse;
  let home: ReturnType<typeof tempHome>;
  before(async () => {
    smtp = await startSmtpSink();
    upstream = await startRecordingUpstream();
    home = tempHome();
    const state = enableAuth(emptyState(), loadMasterKey(home.home, {}), null);
    state.bindings.smtp = { kind: 'smtp', url: smtp.url, from: 'Gatehouse <no-reply@test.example>' };
    writeState({ home: home.home, server: 'local', profile: 'main' }, state);
    gh = await startTestGatehouse({ home: home.home, upstream: upstream.url });
  });
  after(async () => {
    await gh.stop();
    home.cleanup();
    await upstream.close();
    await smtp.close();
  });

  /** The next message whose recipient holds `local` (the parser may show the domain in either spelling). */
  async function mailFor(local: string, seen: number) {
    for (let i = 0; i < 100; i++) {
      const m = smtp.messages.slice(seen).find((x) => x.to.includes(local));
      if (m) return m;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no mail for ${local}`);
  }

  it('finds the account from another spelling of the address, refuses a common password, and sets a 600-emoji one that signs in', async () => {
    const local = `reset${unique()}`;
    const seen = smtp.messages.length;
    assert.equal((await new TestClient(gh.url).signUp(`${local}@xn--bcher-kva.de`, PASSWORD)).status, 200);
    await mailFor(local, seen); // the address confirmation

    const c = new TestClient(gh.url);
    const before = smtp.messages.length;
    assert.equal(
      (await c.post('/auth/forgot', { email: `${local.toUpperCase()}@Bücher.DE`, csrf: await c.csrf('/auth/forgot') }))
        .status,
      200,
    );
    const mail = await mailFor(local, before);
    assert.match(mail.subject, /Reset/);
    const token = /\/auth\/reset\?token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;

    const form = async () => ({ token, csrf: csrfFrom((await c.get(`/auth/reset?token=${token}`)).text) });
    const common = await c.post('/auth/reset', { ...(await form()), password: '123456789012' });
    assert.equal(common.status, 400);
    assert.match(common.text, /too common/);
    assert.equal((await c.post('/auth/reset', { ...(await form()), password: EMOJI_600 })).status, 303);
    assert.equal((await new TestClient(gh.url).signIn(`${local}@bücher.de`, EMOJI_600)).status, 303);
  });
});
