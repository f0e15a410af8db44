import fs from 'fs';
import path from 'path';

/** tests/fixtures/metrics: copies of real metric pages, with their provenance in SOURCES.md. */
export const FIXTURE_DIR = path.resolve(__dirname, '../../fixtures/metrics');

/** Every *.prom page under FIXTURE_DIR, as paths relative to it, sorted. */
export function listFixturePages(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.prom')) out.push(path.relative(FIXTURE_DIR, p));
    }
  };
  walk(FIXTURE_DIR);
  return out.sort();
}

export function readFixturePage(rel: string): string {
  return fs.readFileSync(path.join(FIXTURE_DIR, rel), 'utf8');
}

/**
 * The vLLM docs sample is elided by its authors with literal `...` lines (SOURCES.md: "not valid
 * exposition unless those lines are skipped"); this drops exactly those lines.
 */
export function withoutElisions(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '...')
    .join('\n');
}

export const ELIDED_PAGE = 'fragments/vllm-docs-design-metrics-v1-elided.prom';
