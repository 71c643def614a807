// `gatehouse serve --help`, written from the settings schema: every option and variable appears with
// its default and one line of help, so the help cannot fall behind the settings.
import { AUTH_PREFIX } from '../config/prefix.js';
import { SETTINGS, type Setting } from '../config/schema.js';

const INDENT = ' '.repeat('gatehouse serve '.length);
const WIDTH = 100;

export function serveHelp(): string {
  const lines = [
    ...synopsis(),
    '',
    `Serves the login layer. Without --upstream or --demo only the ${AUTH_PREFIX} routes are served (forward-auth).`,
    '',
  ];
  lines.push('Options, each also an environment variable (the option wins):');
  for (const s of FLAGGED) lines.push(`  ${option(s).padEnd(26)}${(s.env ?? '').padEnd(28)}${described(s)}`);
  lines.push('', 'Environment only:');
  for (const s of Object.values(SETTINGS).filter((x) => !x.flag)) lines.push(`  ${s.env!.padEnd(28)}${described(s)}`);
  return lines.join('\n');
}

const FLAGGED = Object.values(SETTINGS).filter((s) => s.flag);

/** `gatehouse serve [--upstream URL] [--port 4180] …`, wrapped under the command name. */
function synopsis(): string[] {
  const lines: string[] = [];
  let line = 'gatehouse serve';
  for (const item of FLAGGED.map((s) => `[${option(s)}]`)) {
    if (line.length + 1 + item.length > WIDTH) {
      lines.push(line);
      line = INDENT.slice(0, -1);
    }
    line += ` ${item}`;
  }
  return [...lines, line];
}

const option = (s: Setting<unknown>) => `--${s.flag!.name}${s.flag!.arg ? ` ${s.flag!.arg}` : ''}`;
const described = (s: Setting<unknown>) => `${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`;
