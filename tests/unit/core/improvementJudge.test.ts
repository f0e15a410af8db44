import { judgeImprovement, signTestP, targetedMetrics, type ImprovementInput } from '../../../core/improvementJudge';
import { mannWhitneyU } from '../../../core/canaryJudge';

describe('targetedMetrics: from the plan\'s addressed bottlenecks to the metrics judged', () => {
  const table: Array<[string[], string[]]> = [
    [['high_itl'], ['itl_p95_ms']],
    [['queue_backlog, low_batch_utilisation'], ['ttft_p95_ms', 'e2e_p95_ms']],
    [['kv_cache_pressure, preemption', 'errors'], ['ttft_p95_ms', 'e2e_p95_ms', 'error_rate']],
    [['something_unknown'], ['ttft_p95_ms', 'itl_p95_ms', 'e2e_p95_ms', 'error_rate']],
  ];
  for (const [addresses, metrics] of table) it(`${addresses.join(' | ')} → ${metrics.join(', ')}`, () => expect(targetedMetrics(addresses)).toEqual(metrics));
});

describe('signTestP', () => {
  it('is the upper binomial tail', () => {
    expect(signTestP(5, 5)).toBe(1 / 32);
    expect(signTestP(4, 5)).toBe(6 / 32);
    expect(signTestP(0, 5)).toBe(1);
  });
});

describe('judgeImprovement against the replicas still on the old config (one-sided "canary better")', () => {
  const base = { metrics: ['itl_p95_ms'], comparison: 'baseline_replicas' as const };
  const rows: Array<{ name: string; canary: number[]; baseline: number[]; verdict: string }> = [
    { name: 'clearly lower in every interval: better', canary: [40, 41, 39, 42, 40], baseline: [50, 51, 49, 52, 50], verdict: 'better' },
    { name: 'the same values (no change): not better', canary: [50, 51, 49, 52, 50], baseline: [50, 51, 49, 52, 50], verdict: 'not_better' },
    { name: 'a little lower but overlapping: not significant, not better', canary: [49, 51, 48, 52, 50], baseline: [50, 51, 49, 52, 50], verdict: 'not_better' },
    { name: 'worse: not better', canary: [60, 61, 59, 62, 60], baseline: [50, 51, 49, 52, 50], verdict: 'not_better' },
    { name: 'too few intervals, median 20% lower: better on effect size', canary: [40], baseline: [50], verdict: 'better' },
    { name: 'too few intervals, median 5% lower: not better', canary: [47.5], baseline: [50], verdict: 'not_better' },
    { name: 'no canary data: no_data', canary: [], baseline: [50], verdict: 'no_data' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const j = judgeImprovement({ ...base, canary: { itl_p95_ms: row.canary }, baseline: { itl_p95_ms: row.baseline } });
      expect(j.verdict).toBe(row.verdict);
      expect(j.metrics[0].verdict).toBe(row.verdict);
    });
  }

  it('uses the canary judge\'s Mann–Whitney in the opposite direction, and says so', () => {
    const canary = [40, 41, 39, 42, 40];
    const baseline = [50, 51, 49, 52, 50];
    const j = judgeImprovement({ ...base, canary: { itl_p95_ms: canary }, baseline: { itl_p95_ms: baseline } });
    expect(j.metrics[0].p_value).toBe(mannWhitneyU(baseline, canary, 'greater').p_value);
    expect(j.metrics[0].p_value).toBeCloseTo(1 / 252, 10);
    expect(j.reason).toBe('Improvement shown against the replicas still on the old config: itl_p95_ms: changed 40 vs old 50, better; p=0.003968 (Mann–Whitney, n=5 vs 5) < alpha 0.05');
  });

  it('one targeted metric better is enough; none better is not', () => {
    const two = { ...base, metrics: ['ttft_p95_ms', 'itl_p95_ms'] };
    const same = [50, 51, 49, 52, 50];
    expect(judgeImprovement({ ...two, canary: { ttft_p95_ms: same, itl_p95_ms: [40, 41, 39, 42, 40] }, baseline: { ttft_p95_ms: same, itl_p95_ms: same } }).verdict).toBe('better');
    const none = judgeImprovement({ ...two, canary: { ttft_p95_ms: same, itl_p95_ms: same }, baseline: { ttft_p95_ms: same, itl_p95_ms: same } });
    expect(none.verdict).toBe('not_better');
    expect(none.reason).toMatch(/^The change did not improve ttft_p95_ms, itl_p95_ms against the replicas still on the old config: /);
  });
});

describe('judgeImprovement against the window before the change (a 100% stage)', () => {
  const base: Omit<ImprovementInput, 'canary'> = { metrics: ['ttft_p95_ms'], comparison: 'pre_change_window', before: { ttft_p95_ms: 500 } };
  const rows: Array<{ name: string; canary: number[]; verdict: string }> = [
    { name: 'every interval below the old value (5 of 5, p=1/32): better', canary: [400, 410, 420, 390, 405], verdict: 'better' },
    { name: '4 of 5 below (p=6/32): not better', canary: [400, 410, 520, 390, 405], verdict: 'not_better' },
    { name: 'at the old value: not better', canary: [500, 500, 500, 500, 500], verdict: 'not_better' },
    { name: 'two intervals only, 20% lower: better on effect size', canary: [400, 400], verdict: 'better' },
    { name: 'two intervals only, 2% lower: not better', canary: [490, 490], verdict: 'not_better' },
  ];
  for (const row of rows) {
    it(row.name, () => expect(judgeImprovement({ ...base, canary: { ttft_p95_ms: row.canary } }).verdict).toBe(row.verdict));
  }

  it('no value before the change: no_data', () => {
    expect(judgeImprovement({ ...base, before: { ttft_p95_ms: null }, canary: { ttft_p95_ms: [400] } }).verdict).toBe('no_data');
  });
});

describe('judgeImprovement: a targeted metric better at too high a cost elsewhere is not better', () => {
  const base = { metrics: ['e2e_p95_ms'], comparison: 'baseline_replicas' as const, targets: { itl_p95_ms: 50, error_rate: 0.01 } };
  const e2e = { canary: [7900, 7905], baseline: [10380, 10385] };
  const rows: Array<{ name: string; itl: [number[], number[]]; errors?: [number[], number[]]; verdict: string }> = [
    { name: 'ITL 23% higher (the TGI trade): not better', itl: [[53.8, 53.8], [43.7, 43.7]], verdict: 'not_better' },
    { name: 'ITL 5% higher, within the tolerance: better', itl: [[45.9, 45.9], [43.7, 43.7]], verdict: 'better' },
    { name: 'ITL 12% higher but within its 50 ms target (costs the SLO nothing): better', itl: [[49, 49], [43.7, 43.7]], verdict: 'better' },
    { name: 'error rate 0.3 points higher, within the absolute allowance: better', itl: [[43.7], [43.7]], errors: [[0.005], [0.002]], verdict: 'better' },
    { name: 'error rate 1 point higher: not better', itl: [[43.7], [43.7]], errors: [[0.012], [0.002]], verdict: 'not_better' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const j = judgeImprovement({
        ...base,
        canary: { e2e_p95_ms: e2e.canary, itl_p95_ms: row.itl[0], ...(row.errors ? { error_rate: row.errors[0] } : {}) },
        baseline: { e2e_p95_ms: e2e.baseline, itl_p95_ms: row.itl[1], ...(row.errors ? { error_rate: row.errors[1] } : {}) },
      });
      expect(j.verdict).toBe(row.verdict);
    });
  }

  it('without targets, a regression past the tolerance is a cost wherever it lands', () => {
    const j = judgeImprovement({ ...base, targets: undefined, canary: { e2e_p95_ms: e2e.canary, itl_p95_ms: [49] }, baseline: { e2e_p95_ms: e2e.baseline, itl_p95_ms: [43.7] } });
    expect(j.verdict).toBe('not_better');
  });

  it('names the cost in the reason and records it as a `cost` metric', () => {
    const j = judgeImprovement({ ...base, canary: { e2e_p95_ms: e2e.canary, itl_p95_ms: [53.8] }, baseline: { e2e_p95_ms: e2e.baseline, itl_p95_ms: [43.7] } });
    expect(j.metrics.map((m) => [m.metric, m.role, m.verdict])).toEqual([['e2e_p95_ms', 'targeted', 'better'], ['itl_p95_ms', 'cost', 'not_better']]);
    expect(j.reason).toMatch(/^The change improved e2e_p95_ms but cost more than it may against the replicas still on the old config: .*itl_p95_ms got worse: changed 53.8 vs old 43.7 \(\+23.11%, more than the allowed 4.37, past its 50 target\)$/);
  });
});
