// Every relative link in README.md and docs/*.md leads somewhere: the file exists and, when the link
// names an anchor, a heading of that file makes it. The README is the way in, so every reference page
// is linked from it. Links inside code (fenced blocks, `spans`) are examples, not links.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const REPO = new URL('../..', import.meta.url).pathname;
const DOCS = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading slug (lower case, punctuation dropped, spaces to hyphens), and an explicit {#id}. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const explicit = /\s*\{#([\w-]+)\}\s*$/.exec(heading!);
    if (explicit) anchors.add(explicit[1]!);
    const text = heading!.replace(/\s*\{#[\w-]+\}\s*$/, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const text = prose(readFileSync(join(REPO, file), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^(https?:|mailto:|<)/.test(t))
    .map((target) => ({ file, target }));
}

describe('links in README.md and docs/', () => {
  const links = DOCS.flatMap(relativeLinks);

  it('finds the links it checks (the parser is not blind)', () => {
    assert.ok(links.length > 50, `only ${links.length} links found`);
    assert.ok(
      links.some((l) => l.target.includes('#')),
      'some links name an anchor',
    );
  });

  it('each point at an existing file and, when named, an existing anchor', () => {
    const broken: string[] = [];
    for (const { file, target } of links) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? join(REPO, file) : join(REPO, dirname(file), decodeURI(path));
      if (!existsSync(resolved)) {
        broken.push(`${file}: ${target} — no such file`);
        continue;
      }
      if (anchor === undefined) continue;
      if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
        broken.push(`${file}: ${target} — an anchor in something that is not a Markdown file`);
        continue;
      }
      if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor))
        broken.push(`${file}: ${target} — no heading makes #${anchor} in ${relative(REPO, resolved)}`);
    }
    assert.deepEqual(broken, []);
  });

  it('reaches every reference page from the README', () => {
    const fromReadme = new Set(relativeLinks('README.md').map((l) => l.target.split('#')[0]));
    for (const doc of DOCS.filter((d) => d !== 'README.md')) assert.ok(fromReadme.has(doc), `README.md links ${doc}`);
  });

  it('reads headings the way GitHub slugs them', () => {
    const anchors = anchorsOf(
      '# A\n## Device sign-in (RFC 8628)\n## How the session was made: `amr`\n## Access {#access}\n## A\n',
    );
    for (const a of ['device-sign-in-rfc-8628', 'how-the-session-was-made-amr', 'access', 'a', 'a-1'])
      assert.ok(anchors.has(a), a);
  });
});
