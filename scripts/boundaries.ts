// The layer rules of src/ (docs/architecture.md#layers), checked from the code's own imports:
// `node --import tsx scripts/boundaries.ts` prints every broken rule and exits 1; the test suite runs
// the same check (test/ops/boundaries.test.ts).
//
//   entry   cli/, main.ts, front-door.ts, services.ts, live-*.ts, warm-up.ts …   may import anything
//   web     auth/ (the /auth app), proxy/ (the gate), http/                      not entry
//   domain  admission/ access/ accounts/ oauth/ oidc/ session/ mfa/ security/ mail/         not web, not entry
//   base    store/, config/                                                        below the domain
//
// and no two folders import each other, directly or round a longer circle; inside auth/ no two files do.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type Layer = 'entry' | 'web' | 'domain' | 'base' | 'leaf';

const FOLDERS: Record<string, Layer> = {
  cli: 'entry',
  demo: 'entry',
  auth: 'web',
  proxy: 'web',
  http: 'web',
  access: 'domain',
  accounts: 'domain',
  admission: 'domain',
  oauth: 'domain',
  oidc: 'domain',
  session: 'domain',
  mfa: 'domain',
  security: 'domain',
  mail: 'domain',
  store: 'base',
  config: 'base',
};
// Files at the top of src/: the composition root and what it wires, or leaves anyone may use.
const LEAVES = new Set(['audit.ts', 'render.ts', 'views-dir.ts', 'young-generation.ts']);
const RANK: Record<Layer, number> = { entry: 4, web: 3, domain: 2, base: 1, leaf: 0 };

/**
 * Modules a lower layer may still import from a higher one, each with why. `config/` parses settings
 * with the rule and resource parsers that define them (one schema, checked at start-up with every
 * problem at once); the parsers import nothing back.
 */
export const ALLOWED: ReadonlyArray<readonly [from: string, to: string, why: string]> = [
  ['config/', 'access/rules.ts', 'access rules are settings: parsed and checked with the rest'],
  ['config/', 'oauth/resources.ts', 'MCP resources are settings: parsed and checked with the rest'],
  ['config/', 'security/', 'secrets at rest and the client-address parser are settings helpers'],
];

export interface Import {
  from: string; // path below src/
  to: string;
}

function layerOf(path: string): Layer {
  const top = path.split('/')[0]!;
  if (path.includes('/')) return FOLDERS[top] ?? 'entry';
  return LEAVES.has(path) ? 'leaf' : 'entry';
}

const folderOf = (path: string) => (path.includes('/') ? path.split('/')[0]! : null);

export function importsOf(srcDir: string): Import[] {
  const out: Import[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
          const target = resolve(dirname(p), m[1]!).replace(/\.js$/, '.ts');
          out.push({ from: relative(srcDir, p), to: relative(srcDir, target) });
        }
      }
    }
  };
  walk(srcDir);
  return out;
}

/** Every import that runs from a lower layer up, and every circle of folders. */
export function brokenRules(imports: readonly Import[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of imports) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (RANK[b] <= RANK[a] || a === 'entry') continue;
    if (ALLOWED.some(([f, t]) => from.startsWith(f) && to.startsWith(t))) continue;
    problems.push(`${from} (${a}) imports ${to} (${b}): a ${a} module may not import the ${b} layer`);
  }
  // An allowed import is a declared exception, not an edge of a circle — as long as what it imports
  // imports nothing back from the importer's folder.
  for (const [f, t] of ALLOWED) {
    for (const back of imports.filter((i) => i.from.startsWith(t) && i.to.startsWith(f))) {
      problems.push(`${back.from} imports ${back.to}: what ${f} may import (${t}) must not import ${f} back`);
    }
  }
  const edges = imports.filter(({ from, to }) => !ALLOWED.some(([f, t]) => from.startsWith(f) && to.startsWith(t)));
  problems.push(...folderCircles(edges), ...fileCircles(imports, FILE_CIRCLE_FREE));
  return problems;
}

/** Folders that import each other, directly or round a longer circle: the graph's strongly connected
 *  components of more than one folder, each named once. */
function folderCircles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a && b && a !== b) addEdge(edges, a, b);
  }
  return circlesOf(edges).map((c) => `folders import each other: ${c.join(', ')}${edgesWithin(edges, c)}`);
}

/** Folders whose files must import no file that imports them back, directly or round a circle: a reader
 *  can then start at any file and read downwards (docs/architecture.md#auth-downwards). */
export const FILE_CIRCLE_FREE: readonly string[] = ['auth'];

/** Files of one folder (subfolders included) that import each other; `only` limits it to some folders. */
export function fileCircles(imports: readonly Import[], only?: readonly string[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    const folder = folderOf(from);
    if (!folder || folder !== folderOf(to) || (only && !only.includes(folder))) continue;
    addEdge(edges, from, to);
  }
  return circlesOf(edges).map((c) => `files import each other: ${c.join(', ')}${edgesWithin(edges, c)}`);
}

function addEdge(edges: Map<string, Set<string>>, a: string, b: string): void {
  if (!edges.has(a)) edges.set(a, new Set());
  edges.get(a)!.add(b);
}

/** The graph's strongly connected components of more than one node (Tarjan), each sorted, in order. */
function circlesOf(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const connect = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) circles.push(component.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) connect(v);
  return circles.sort((a, b) => a.join().localeCompare(b.join()));
}

/** The imports that tie a circle together, to start untying it. */
function edgesWithin(edges: Map<string, Set<string>>, component: string[]): string {
  const inside = component.flatMap((a) =>
    [...(edges.get(a) ?? [])].filter((b) => component.includes(b)).map((b) => `${a} → ${b}`),
  );
  return ` (${inside.join('; ')})`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const imports = importsOf(new URL('../src', import.meta.url).pathname);
  const problems = brokenRules(imports);
  for (const p of problems) console.log(p);
  // Circles of files in the other folders are reported, not yet refused: each folder's owner unties its own.
  const elsewhere = fileCircles(imports).filter((c) => !problems.includes(c));
  for (const c of elsewhere) console.log(`note: ${c}`);
  console.log(problems.length ? `${problems.length} broken layer rules` : 'layer rules hold');
  process.exit(problems.length ? 1 : 0);
}
