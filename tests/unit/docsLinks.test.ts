import fs from 'fs';
import path from 'path';

/**
 * The README is the entry point and docs/ holds the manual: every relative link between them must land
 * on a file of the repository (and on a heading, when it names one), and neither may send a reader to
 * something a clone does not have.
 */
const ROOT = path.resolve(__dirname, '../..');

/**
 * Documents other branches are writing at the same time; the README's index and docs/operations.md
 * already link to them. Until those branches are merged these six, and only these, may be missing.
 * Once merged they exist, and their links and anchors are checked like every other.
 */
const PENDING_DOCS = new Set(
  ['rollout-safety.md', 'decisions-and-audit.md', 'targets-and-network.md', 'replica-leases.md', 'real-vllm.md', 'upgrading.md'].map((f) =>
    path.join(ROOT, 'docs', f),
  ),
);

function documents(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(ROOT, 'docs', f));
  return [path.join(ROOT, 'README.md'), ...docs];
}

/** The text outside fenced code blocks and inline code spans: what renders as prose and links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** `[text](target)` links of `markdown`, targets as written. */
function linkTargets(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2… */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe('README and docs/ links', () => {
  it('parses links, code and anchors as GitHub renders them', () => {
    const md = '# A `b` (c/d)\n\n[x](docs/a.md#z) `[y](no.md)`\n```\n[z](nope.md)\n```\n## A `b` (c/d)\n';
    expect(linkTargets(md)).toEqual(['docs/a.md#z']);
    expect([...headingAnchors(md)]).toEqual(['a-b-cd', 'a-b-cd-1']);
  });

  it.each(documents().map((f) => [path.relative(ROOT, f), f]))('%s: every relative link names an existing file and heading', (_name, file) => {
    const broken: string[] = [];
    for (const target of linkTargets(fs.readFileSync(file, 'utf8'))) {
      if (isExternal(target)) continue;
      const [filePart, anchor] = target.split('#', 2);
      const resolved = filePart === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(filePart));
      if (!resolved.startsWith(ROOT + path.sep)) {
        broken.push(`${target}: outside the repository`);
        continue;
      }
      if (!fs.existsSync(resolved)) {
        if (!PENDING_DOCS.has(resolved)) broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !headingAnchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${path.relative(ROOT, resolved)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it.each(documents().map((f) => [path.relative(ROOT, f), f]))('%s: refers to nothing a clone does not have', (_name, file) => {
    const text = fs.readFileSync(file, 'utf8');
    const outside = [/\bseed\b/i, /DESIGN\.md/, /\.\.\/shared\b/, /\bissue\s*#?\d+/i, /\bthe performance issue\b/i];
    expect(outside.filter((pattern) => pattern.test(text)).map(String)).toEqual([]);
  });

  it('keeps the README an entry point: under 200 lines, linking to the manual', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(200);
    const linked = new Set(linkTargets(readme).map((t) => t.split('#')[0]));
    const manual = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(manual.filter((f) => !linked.has(`docs/${f}`))).toEqual([]);
    for (const pending of PENDING_DOCS) expect(linked.has(path.relative(ROOT, pending))).toBe(true);
  });
});
