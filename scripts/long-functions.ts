// The shape check of docs/architecture.md#shape: functions over 60 lines, files over 300 lines and lines over
// 120 characters in src/, as Prettier leaves them. `node --import tsx scripts/long-functions.ts` prints them;
// test/ops/shape.test.ts runs the same check.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = new URL('..', import.meta.url).pathname;
export const LIMITS = { functionLines: 60, fileLines: 300, lineWidth: 120 };

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

function nameOf(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

export interface Oversize {
  kind: 'function' | 'file' | 'line';
  /** `path:line` below the repository. */
  where: string;
  name: string;
  size: number;
}

/** Everything in src/ over a limit, largest first within each kind. */
export function oversized(root = ROOT): Oversize[] {
  const found: Oversize[] = [];
  for (const file of files(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file);
    const lines = text.split('\n');
    if (lines.length - 1 > LIMITS.fileLines)
      found.push({ kind: 'file', where: rel, name: rel, size: lines.length - 1 });
    lines.forEach((l, i) => {
      if (l.length > LIMITS.lineWidth)
        found.push({ kind: 'line', where: `${rel}:${i + 1}`, name: rel, size: l.length });
    });
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const size = end - start + 1;
        if (size > LIMITS.functionLines)
          found.push({ kind: 'function', where: `${rel}:${start + 1}`, name: nameOf(node), size });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => a.kind.localeCompare(b.kind) || b.size - a.size);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = oversized();
  for (const f of found)
    console.log(`${f.kind.padEnd(8)} ${String(f.size).padStart(4)}  ${f.name.padEnd(28)} ${f.where}`);
  if (found.length === 0) console.log('no function, file or line in src/ over its limit');
}
