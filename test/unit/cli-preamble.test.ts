// The one preamble every CLI command shares (parseCommand in src/cli/common.ts): --help answers with the
// command's help and exit 0 before anything is opened, a missing subcommand gets the help and exit 2, and
// a mistyped option is one sentence on stderr (exit 2) — the same for every command.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { parseCommand, type Io } from '../../src/cli/common.js';
import { USERS_HELP } from '../../src/cli/users.js';
import { KEYS_HELP } from '../../src/cli/keys.js';
import { REMOTE_HELP } from '../../src/cli/remote.js';

let home: string;
before(() => {
  home = mkdtempSync(join(tmpdir(), 'gatehouse-preamble-'));
});
after(() => rmSync(home, { recursive: true, force: true }));

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const env = { GATEHOUSE_HOME: home };
  return { stdout, stderr, out: (l) => void stdout.push(l), err: (l) => void stderr.push(l), env };
}

async function run(...argv: string[]) {
  const io = capture();
  const code = await runCli(argv, io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

const COMMANDS = [
  ['serve'],
  ['bind'],
  ['auth', 'status'],
  ['auth', 'providers', 'list'],
  ['keys', 'list'],
  ['users', 'list'],
  ['access', 'list'],
  ['mcp', 'list'],
  ['oauth', 'clients', 'list'],
  ['migrate-users'],
  ['pair'],
  ['open'],
  ['login'],
  ['logout'],
];

describe('the CLI preamble', () => {
  it('answers --help (and -h) with the help text and exit 0 for every command, opening nothing', async () => {
    for (const words of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await run(...words, flag);
        assert.equal(r.code, 0, `${words.join(' ')} ${flag}: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`gatehouse ${words[0]}`), words.join(' '));
        assert.equal(r.stderr, '', words.join(' '));
      }
    }
    assert.deepEqual(readdirSync(home), [], 'no state file or store was created');
  });

  it('takes --help in place of the subcommand, instead of opening the store to name "--help" unknown', async () => {
    const r = await run('users', '--help');
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, USERS_HELP, '']);
    assert.deepEqual(readdirSync(home), []);
  });

  it('answers a missing subcommand with the help and exit 2', async () => {
    for (const [command, help] of [
      ['users', USERS_HELP],
      ['keys', KEYS_HELP],
    ] as const) {
      const r = await run(command);
      assert.deepEqual([r.code, r.stdout, r.stderr], [2, help, '']);
    }
    const oauth = await run('oauth', 'clients');
    assert.equal(oauth.code, 2);
    assert.match(oauth.stdout, /gatehouse oauth clients list/);
  });

  it('refuses a mistyped option in one sentence, with the command named and a guess', async () => {
    const r = await run('users', 'list', '--jsn');
    assert.deepEqual([r.code, r.stdout], [2, '']);
    assert.equal(r.stderr, 'gatehouse users list: unknown option --jsn (did you mean --json?)');
    const remote = await run('login', '--server', 'x');
    assert.equal(remote.code, 2, 'the remote commands take no --server: they name a URL');
    assert.match(remote.stderr, /^gatehouse login: unknown option --server/);
  });

  it('returns the leading words, the options and the positionals; positionals only where allowed', () => {
    const io = capture();
    const shape = { help: 'H', words: 1, positionals: ['mode'], options: { json: { type: 'boolean' } } } as const;
    const parsed = parseCommand(['mode', 'org-only', '--json', '--server', 's1'], io, shape);
    assert.notEqual(typeof parsed, 'number');
    if (typeof parsed === 'number') return;
    assert.deepEqual(parsed.words, ['mode']);
    assert.deepEqual(parsed.positionals, ['org-only']);
    assert.equal(parsed.values.json, true);
    assert.equal(parsed.values.server, 's1');
    assert.throws(() => parseCommand(['status', 'extra'], io, shape), { code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' });
    assert.deepEqual(io.stdout, []);
  });

  it('prints the remote help for the remote commands', async () => {
    const r = await run('logout', '--help');
    assert.deepEqual([r.code, r.stdout], [0, REMOTE_HELP]);
  });
});
