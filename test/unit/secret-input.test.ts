// Reading the passphrase: at a terminal nothing typed is echoed and it is asked twice; piped, the
// first line is taken as it is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { readSecret } from '../../src/cli/secret-input.js';

function terminal(lines: string[]) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const shown: string[] = [];
  let i = 0;
  // Type each line once its prompt is on screen, as a person would.
  const prompt = (t: string) => {
    shown.push(t);
    if (t.endsWith(': ')) {
      const line = lines[i++];
      setImmediate(() => stdin.write(`${line}\r`));
    }
  };
  return { src: { stdin, prompt }, shown };
}

describe('readSecret', () => {
  it('asks twice at a terminal and never writes what was typed', async () => {
    const { src, shown } = terminal(['violet staircase at noon', 'violet staircase at noon']);
    assert.equal(await readSecret('Passphrase', src), 'violet staircase at noon');
    assert.deepEqual(
      shown.filter((t) => t.trim()),
      ['Passphrase: ', 'Passphrase again: '],
    );
    assert.ok(!shown.join('').includes('violet'));
  });

  it('refuses two different entries', async () => {
    const { src } = terminal(['violet staircase at noon', 'violet staircase at nine']);
    await assert.rejects(readSecret('Passphrase', src), /differ; nothing was changed/);
  });

  it('takes the first line of piped input, without its line ending', async () => {
    const src = {
      stdin: Readable.from(['violet staircase', ' at noon\r\nsecond line\n']),
      prompt: () => assert.fail('no prompt when piped'),
    };
    assert.equal(await readSecret('Passphrase', src), 'violet staircase at noon');
  });
});
