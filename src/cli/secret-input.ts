// Reading a secret (the shared passphrase) from standard input: typed at a terminal without echo, or
// piped (`printf %s "$PASS" | gatehouse auth passphrase set`) as the first line. Never an argument:
// arguments end up in shell history and in `ps` for every user of the machine.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CommandError } from './common.js';

export interface SecretSource {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  prompt: (text: string) => void;
}

export const processInput: SecretSource = { stdin: process.stdin, prompt: (t) => void process.stderr.write(t) };

/** One line from a terminal without echo (asked twice, to catch a typo), or the first line piped in. */
export async function readSecret(label: string, src: SecretSource = processInput): Promise<string> {
  if (!src.stdin.isTTY) return firstLine(src.stdin);
  const first = await quietLine(src, `${label}: `);
  const again = await quietLine(src, `${label} again: `);
  if (first !== again) throw new CommandError(`the two ${label.toLowerCase()}s differ; nothing was changed`);
  return first;
}

async function quietLine(src: SecretSource, prompt: string): Promise<string> {
  src.prompt(prompt);
  // Readline with a sink for output: what is typed is read but never written back to the terminal.
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: src.stdin, output: sink, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    src.prompt('\n');
  }
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('\n') || text.length > 4096) break;
  }
  const nl = text.indexOf('\n');
  return (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
}
