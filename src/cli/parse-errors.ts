// node:util parseArgs speaks its own dialect ("Unknown option '--upstrem'"); this turns its errors
// into the CLI's one-sentence form with a "did you mean" so a typo costs one glance, not a --help read.

/** The long options a help text documents: what a "did you mean" may suggest. */
export function optionsIn(help: string): string[] {
  const found = new Set(['--help', '--server', '--profile']); // SCOPE_OPTIONS: every command takes them
  for (const m of help.matchAll(/--[a-z][a-z-]*/g)) found.add(m[0]);
  return [...found];
}

/** Levenshtein distance, cut off once it exceeds `limit` (we never care about far-off words). */
export function editDistance(a: string, b: string, limit = 3): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    if (Math.min(...row) > limit) return limit + 1;
    previous = row;
  }
  return previous[b.length]!;
}

/** The closest known word (an option or a command) within two edits, or null. */
export function closestWord(typed: string, known: readonly string[]): string | null {
  const word = typed.replace(/^-+/, '');
  // One-letter flags (-x) are too short for a guess to be more than noise.
  if (word.length < 2) return null;
  let best: { option: string; distance: number } | null = null;
  for (const option of known) {
    const distance = editDistance(word, option.replace(/^-+/, ''), 2);
    if (distance <= 2 && (!best || distance < best.distance)) best = { option, distance };
  }
  return best?.option ?? null;
}

export function isParseArgsError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** One sentence (without the "gatehouse <command>:" prefix) for a parseArgs error. */
export function explainParseError(err: Error & { code: string }, command: string, known: readonly string[]): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const guess = closestWord(quoted, known);
      const help = guess ? ` (did you mean ${guess}?)` : ` (see \`gatehouse ${command} --help\`)`;
      return `unknown option ${quoted}${help}`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}" (see \`gatehouse ${command} --help\`)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // The quoted part reads "--port <value>" or "-p, --port <value>": keep the long name.
      const option = /--[a-z][a-z-]*/.exec(quoted)?.[0] ?? quoted;
      return /does not take an argument/.test(err.message) ? `${option} takes no value` : `${option} needs a value`;
    }
    default:
      return err.message.split('\n')[0]!;
  }
}
