// `npm start` compiles only when dist/ is older than the sources: a second start takes no build time.
// Plain JavaScript on purpose: it runs before anything is compiled.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const sources = Math.max(
  newest(join(root, 'src')),
  statSync(join(root, 'tsconfig.json')).mtimeMs,
  statSync(join(root, 'package.json')).mtimeMs,
);
if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) {
  process.stderr.write('gatehouse: dist/ is up to date\n');
} else {
  process.stderr.write('gatehouse: compiling src/ to dist/ …\n');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')],
    { stdio: 'inherit' },
  );
  writeFileSync(stamp, new Date().toISOString() + '\n');
}
