import { DEFAULT_SLO } from '../../../core/healthScore';
import { detectBottlenecks } from '../../../core/bottlenecks';
import { applyChanges, configKey, nextCandidate, type SearchInput } from '../../../core/tuningSearch';
import { halved, moved, searchDimensions, stepBetween, stepLargeEnough } from '../../../core/tuningDimensions';
import type { AnalysisResult, DecisionLogEntry, EngineArgs } from '../../../models';
import { snapshot } from './snapshotFixture';

function analysis(overrides: Parameters<typeof snapshot>[0] = {}): AnalysisResult {
  const metrics = snapshot(overrides);
  return { bottlenecks: detectBottlenecks(metrics, DEFAULT_SLO), overall_health_score: 50, health_components: [], metrics };
}

function entry(partial: Partial<DecisionLogEntry>): DecisionLogEntry {
  return { iteration: 1, rollout_id: 'rollout-x', source: 'search', changes: [], evidence: '', verdict: 'kept', score_before: 50, score_after: 60, restarts: 10, message: null, at: '', ...partial };
}

const sglangArgs: EngineArgs = { mem_fraction_static: 0.88, schedule_conservativeness: 1.0, chunked_prefill_size: 8192 };
const healthy = analysis();
const input = (over: Partial<SearchInput>): SearchInput => ({ engine: 'sglang', currentArgs: sglangArgs, analysis: healthy, log: [], constraints: [], ...over });

describe('configKey', () => {
  it('is one spelling per configuration: order and unset flags do not matter', () => {
    expect(configKey({ b: 1, a: true, c: null })).toBe(configKey({ a: true, b: 1 }));
    expect(configKey({ a: 1 })).not.toBe(configKey({ a: 2 }));
  });
});

describe('nextCandidate', () => {
  it('takes the rule base first, with the bottlenecks as evidence', () => {
    const c = nextCandidate(input({ analysis: analysis({ kv_cache_usage: 0.97, preemptions_per_second: 2 }) }));
    expect(c?.source).toBe('rules');
    expect(c?.changes).toContainEqual({ flag: 'mem_fraction_static', from: 0.88, to: 0.93 });
    expect(c?.evidence).toMatch(/kv_cache_pressure/);
  });

  it('tries a rule change alone when the whole plan is a constraint', () => {
    const a = analysis({ requests_waiting: 30, ttft_p95_ms: 2000, kv_cache_usage: 0.97, preemptions_per_second: 2, itl_p95_ms: 90 });
    const full = nextCandidate(input({ analysis: a }))!;
    expect(full.changes.length).toBeGreaterThan(1);
    const constraints = [{ engine_args: applyChanges(sglangArgs, full.changes), why: 'reverted' }];
    const alone = nextCandidate(input({ analysis: a, constraints }))!;
    expect(alone.source).toBe('rules');
    expect(alone.changes).toEqual([full.changes[0]]);
  });

  it('leaves a flag the run has moved to the search, even when a rule would move it again', () => {
    const a = analysis({ kv_cache_usage: 0.97, preemptions_per_second: 2 });
    const log = [entry({ changes: [{ flag: 'mem_fraction_static', from: 0.83, to: 0.88 }], verdict: 'kept', score_before: 50, score_after: 50 })];
    const c = nextCandidate(input({ analysis: a, log }))!;
    expect(c.source).toBe('search');
  });

  it('never moves a flag that has no effect where the engine runs', () => {
    const vllm = { gpu_memory_utilization: 0.9, max_num_seqs: 256, max_num_batched_tokens: 2048 };
    expect(nextCandidate({ engine: 'vllm', currentArgs: vllm, analysis: healthy, log: [], constraints: [] })?.changes[0].flag).toBe('gpu_memory_utilization');
    const fixedKv = { ...healthy, engine_facts: { kv_cache_memory_bytes: 4e9 } };
    expect(nextCandidate({ engine: 'vllm', currentArgs: vllm, analysis: fixedKv, log: [], constraints: [] })?.changes[0].flag).toBe('max_num_seqs');
  });

  it('with no rule left, the search moves a never-moved flag up by its first step', () => {
    const c = nextCandidate(input({}))!;
    expect(c).toMatchObject({ source: 'search', changes: [{ flag: 'mem_fraction_static', from: 0.88, to: 0.93 }] });
    expect(c.evidence).toMatch(/never moved/);
  });

  it('repeats a move that helped, from where it left the flag', () => {
    const log = [entry({ changes: [{ flag: 'schedule_conservativeness', from: 1.0, to: 0.7 }], verdict: 'kept', score_before: 40, score_after: 55 })];
    const c = nextCandidate(input({ currentArgs: { ...sglangArgs, schedule_conservativeness: 0.7 }, log }))!;
    expect(c.changes).toEqual([{ flag: 'schedule_conservativeness', from: 0.7, to: 0.4 }]);
    expect(c.evidence).toMatch(/helped \(\+15\)/);
  });

  it('reverses and halves a move that was reverted', () => {
    // Every flag has been moved once; the last, least harmful one is the move to reverse.
    const log = [
      entry({ iteration: 1, changes: [{ flag: 'mem_fraction_static', from: 0.88, to: 0.83 }], verdict: 'reverted', score_after: 20 }),
      entry({ iteration: 2, changes: [{ flag: 'chunked_prefill_size', from: 8192, to: 16384 }], verdict: 'reverted', score_after: 25 }),
      entry({ iteration: 3, changes: [{ flag: 'max_running_requests', from: 64, to: 96 }], verdict: 'reverted', score_after: 30 }),
      entry({ iteration: 4, changes: [{ flag: 'schedule_conservativeness', from: 1.0, to: 1.3 }], verdict: 'reverted', score_after: 49 }),
    ];
    const c = nextCandidate(input({ log, currentArgs: { ...sglangArgs, max_running_requests: 64 } }))!;
    expect(c).toMatchObject({ source: 'search', changes: [{ flag: 'schedule_conservativeness', from: 1.0, to: 0.85 }] });
    expect(c.evidence).toMatch(/did not help \(-1\); now -0.15/);
  });

  it('never proposes a constraint again, nor a move already tried', () => {
    const first = nextCandidate(input({}))!;
    const constrained = nextCandidate(input({ constraints: [{ engine_args: applyChanges(sglangArgs, first.changes), why: 'refused' }] }))!;
    expect(configKey(applyChanges(sglangArgs, constrained.changes))).not.toBe(configKey(applyChanges(sglangArgs, first.changes)));
    const tried = nextCandidate(input({ log: [entry({ changes: first.changes, verdict: 'no_change', score_after: null })] }))!;
    expect(tried.changes).not.toEqual(first.changes);
  });

  it('never undoes a move back to a configuration already measured', () => {
    const log = [entry({ changes: [{ flag: 'mem_fraction_static', from: 0.88, to: 0.93 }], verdict: 'kept', score_before: 40, score_after: 60 })];
    const c = nextCandidate(input({ currentArgs: { ...sglangArgs, mem_fraction_static: 0.93 }, log }))!;
    // Up is at the limit and a move that helped never turns back: another flag moves instead.
    expect(c.changes[0].flag).not.toBe('mem_fraction_static');
  });

  it('answers null once every flag is at its bounds or its steps are spent', () => {
    // Each flag at its maximum, its first step down reverted; every smaller step down is a constraint.
    const dims = searchDimensions('tgi');
    const args: EngineArgs = Object.fromEntries(dims.map((d) => [d.flag, d.max]));
    const log = dims.map((d, i) => entry({ iteration: i + 1, changes: [{ flag: d.flag, from: d.max, to: moved(d, d.max, -1, d.step) }], verdict: 'reverted', score_after: 10 }));
    const constraints = dims.flatMap((d) => {
      const out = [];
      for (let size = halved(d, d.step); stepLargeEnough(d, size); size = halved(d, size)) out.push({ engine_args: { ...args, [d.flag]: moved(d, d.max, -1, size) }, why: 'x' });
      return out;
    });
    expect(nextCandidate({ engine: 'tgi', currentArgs: args, analysis: healthy, log, constraints })).toBeNull();
    // Forget one flag's move, and that flag has its first step down left.
    expect(nextCandidate({ engine: 'tgi', currentArgs: args, analysis: healthy, log: log.slice(1), constraints })?.changes[0].flag).toBe(dims[0].flag);
  });
});

describe('search dimensions', () => {
  const linear = searchDimensions('sglang')[0];
  const log = searchDimensions('vllm')[1];
  it('moves linear flags by amounts and log flags by factors, inside the bounds', () => {
    expect(moved(linear, 0.88, 1, 0.05)).toBe(0.93);
    expect(moved(linear, 0.9, 1, 0.05)).toBe(0.93);
    expect(moved(log, 256, 1, 1.5)).toBe(384);
    expect(moved(log, 256, -1, 1.5)).toBe(171);
    expect(moved(log, 10, -1, 2)).toBe(8);
  });
  it('measures and halves steps in the flag\'s own scale', () => {
    expect(stepBetween(linear, 0.88, 0.93)).toBeCloseTo(0.05);
    expect(stepBetween(log, 384, 256)).toBeCloseTo(1.5);
    expect(halved(linear, 0.05)).toBeCloseTo(0.025);
    expect(halved(log, 4)).toBe(2);
    expect(stepLargeEnough(linear, 0.0125)).toBe(true);
    expect(stepLargeEnough(linear, 0.006)).toBe(false);
    expect(stepLargeEnough(log, 1.5 ** 0.25)).toBe(true);
    expect(stepLargeEnough(log, 1.05)).toBe(false);
  });
});
