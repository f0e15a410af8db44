import { spawnSync } from 'child_process';
import path from 'path';
import { OptimizationPlanSchema, SnapshotSchema } from '../../../models';
import { FIXTURE_DIR } from '../metrics/fixturePages';

const ROOT = path.resolve(__dirname, '../../..');
const servetune = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/servetune.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('bin/servetune.js', () => {
  it('analyze --json prints one JSON object on stdout', () => {
    const r = servetune('analyze', '--engine', 'vllm', '--file', path.join(FIXTURE_DIR, 'vllm-datadog-v0.5-opt125m.prom'), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.engine).toBe('vllm');
    expect(SnapshotSchema.parse(out.snapshot).ttft_p95_ms).toBeCloseTo(487.5, 9);
    expect(out.bottlenecks).toEqual([]);
    expect(out.health.score).toBe(100);
    expect(OptimizationPlanSchema.parse(out.plan).optimizations).toEqual([]);
  });

  it('a missing file: non-zero exit, one line on stderr, no stack trace', () => {
    const r = servetune('analyze', '--engine', 'tgi', '--file', '/nonexistent/page.prom');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('servetune: cannot read --file /nonexistent/page.prom: no such file\n');
  });
});
