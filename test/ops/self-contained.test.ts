// The repository explains itself: no file under src/, test/, bench/, scripts/ or docs/ cites the product
// specification by section (a document that is not in the repository, so the pointer leads nowhere for a
// reader of the code); contracts are pointed at in docs/architecture.md#anchors, or at RFC sections. And
// every architecture.md#anchor that is cited exists, so the pointers that replaced them lead somewhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const SEARCHED = ['src', 'test', 'bench', 'scripts', 'docs'];

/** Folders left out of the check: none — the whole tree is checked. Kept so a test can plant a skip. */
export const NOT_YET_CLEARED: readonly string[] = [];

// Built from parts so that this file, which must name the pattern, does not match it itself.
const SPEC_CITATION = new RegExp(['SPEC', '(?:\\.md)?', '\\s*', '\u00a7', '\\s*\\d'].join(''));
const ANCHOR_CITATION = /architecture\.md#([a-z0-9-]+)/g;
// This file plants anchors that do not exist (the cases below), so the anchor check reads every file but it.
const SELF = new URL(import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (/\.(ts|js|mjs|md|eta|json|sh|sql)$/.test(name)) out.push(path);
  }
  return out;
}

const checked = (root: string, skipped: readonly string[]) =>
  SEARCHED.flatMap((top) => {
    try {
      return filesUnder(join(root, top));
    } catch {
      return []; // a tree without that folder (the planted cases below) has nothing there to cite
    }
  }).filter((file) => !skipped.some((folder) => relative(root, file).startsWith(`${folder}/`)));

/** "path:line: text" for each line of a file under `root` that cites the specification by section. */
export function specCitations(root: string, skipped: readonly string[] = NOT_YET_CLEARED): string[] {
  const found: string[] = [];
  for (const file of checked(root, skipped)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (SPEC_CITATION.test(line)) found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

/** The anchors docs/architecture.md defines: `{#id}`s, `<a id="id">`s and the slugs of its headings. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/\{#([a-z0-9-]+)\}|<a id="([a-z0-9-]+)">/g)) anchors.add((m[1] ?? m[2])!);
  for (const m of markdown.matchAll(/^#+ (.*?)(?: \{#[a-z0-9-]+\})?$/gm)) {
    anchors.add(
      m[1]!
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

/** "path: #anchor" for each architecture.md#anchor cited under `root` that the document does not define. */
export function danglingAnchors(root: string, skipped: readonly string[] = NOT_YET_CLEARED): string[] {
  const anchors = anchorsOf(readFileSync(join(root, 'docs/architecture.md'), 'utf8'));
  const found: string[] = [];
  for (const file of checked(root, skipped).filter((f) => f !== SELF)) {
    for (const m of readFileSync(file, 'utf8').matchAll(ANCHOR_CITATION)) {
      if (!anchors.has(m[1]!)) found.push(`${relative(root, file)}: #${m[1]}`);
    }
  }
  return found;
}

describe('self-contained words', () => {
  it('no file under src/, test/, bench/, scripts/ or docs/ cites the specification by section', () => {
    assert.deepEqual(specCitations(ROOT), []);
  });

  it('every architecture.md#anchor cited exists in docs/architecture.md', () => {
    assert.deepEqual(danglingAnchors(ROOT), []);
  });

  it('the checks find a planted citation and a planted dangling anchor, and skip only the listed folders', () => {
    const root = mkdtempSync(join(tmpdir(), 'gatehouse-self-contained-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      const section = ['SPEC', ' ', '\u00a7', '12'].join('');
      write('docs/architecture.md', '# Map\n\n## Devices {#devices}\n\n## Trust boundaries\n');
      write('src/cli/pair.ts', `// Pairing codes (${section}): one use\n// see architecture.md#devices\n`);
      write('src/store/sql.ts', `// (${section}) and architecture.md#nowhere\n`);
      write('test/a.test.ts', '// architecture.md#trust-boundaries, architecture.md#gone\n');
      assert.deepEqual(specCitations(root, []), [
        `src/cli/pair.ts:1: // Pairing codes (${section}): one use`,
        `src/store/sql.ts:1: // (${section}) and architecture.md#nowhere`,
      ]);
      const outsideStore = specCitations(root, ['src/store']);
      assert.deepEqual(outsideStore, [`src/cli/pair.ts:1: // Pairing codes (${section}): one use`]);
      assert.deepEqual(danglingAnchors(root, []).sort(), ['src/store/sql.ts: #nowhere', 'test/a.test.ts: #gone']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
