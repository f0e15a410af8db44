import { detectBottlenecks } from '../../../core/bottlenecks';
import { DEFAULT_SLO } from '../../../core/healthScore';
import { combineImprovements, planOptimizations, planWithSkips, rulesFor } from '../../../core/planner';
import { VLLM_LIMITS } from '../../../core/knowledge/vllm';
import type { EngineArgs } from '../../../models';
import { snapshot } from './snapshotFixture';

const vllmDefaults: EngineArgs = { max_num_seqs: 256, gpu_memory_utilization: 0.9, enable_prefix_caching: false };

function plan(overrides: Parameters<typeof snapshot>[0], args: EngineArgs = vllmDefaults) {
  const s = snapshot(overrides);
  return planOptimizations({ engine: 'vllm', snapshot: s, bottlenecks: detectBottlenecks(s, DEFAULT_SLO), currentArgs: args, revision: 'rev-1' });
}

describe('detectBottlenecks', () => {
  it('finds nothing in a healthy snapshot', () => {
    expect(detectBottlenecks(snapshot(), DEFAULT_SLO)).toEqual([]);
  });

  it('carries evidence: metric, value and threshold', () => {
    const found = detectBottlenecks(snapshot({ kv_cache_usage: 0.97, preemptions_per_second: 2, ttft_p95_ms: 900 }), DEFAULT_SLO);
    expect(found.map((b) => b.kind)).toEqual(['kv_cache_pressure', 'preemption', 'high_ttft']);
    expect(found[0]).toMatchObject({ metric: 'kv_cache_usage', value: 0.97, threshold: 0.9 });
    expect(found[2]).toMatchObject({ metric: 'ttft_p95_ms', value: 900, threshold: 500 });
  });

  it('measures queue backlog per replica', () => {
    // The fixture's KV cache is half empty, so the queue is also low batch utilisation.
    expect(detectBottlenecks(snapshot({ requests_waiting: 30, replicas: 10 }), DEFAULT_SLO).map((b) => b.kind)).toEqual(['queue_backlog', 'low_batch_utilisation']);
    expect(detectBottlenecks(snapshot({ requests_waiting: 5, replicas: 10 }), DEFAULT_SLO)).toEqual([]);
  });

  it('calls a queue on a KV cache with room low batch utilisation, with the KV usage as evidence', () => {
    const low = detectBottlenecks(snapshot({ requests_waiting: 30, kv_cache_usage: 0.6 }), DEFAULT_SLO).find((b) => b.kind === 'low_batch_utilisation');
    expect(low).toMatchObject({ metric: 'kv_cache_usage', value: 0.6, threshold: 0.9 });
    // A queue on a full cache is KV pressure instead; without a KV gauge (TGI) it is just a queue.
    expect(detectBottlenecks(snapshot({ requests_waiting: 30, kv_cache_usage: 0.95 }), DEFAULT_SLO).map((b) => b.kind)).toEqual(['kv_cache_pressure', 'queue_backlog']);
    expect(detectBottlenecks(snapshot({ requests_waiting: 30, kv_cache_usage: null }), DEFAULT_SLO).map((b) => b.kind)).toEqual(['queue_backlog']);
    expect(detectBottlenecks(snapshot({ requests_waiting: 5, kv_cache_usage: 0.2 }), DEFAULT_SLO)).toEqual([]);
  });

  it('ignores missing metrics rather than reading them as zero or as trouble', () => {
    expect(detectBottlenecks(snapshot({ kv_cache_usage: null, ttft_p95_ms: null, error_rate: null }), DEFAULT_SLO)).toEqual([]);
  });
});

describe('vLLM planner', () => {
  it('raises gpu_memory_utilization under KV pressure, within its hard limit', () => {
    const p = plan({ kv_cache_usage: 0.97, preemptions_per_second: 1 });
    expect(p.engine_args.gpu_memory_utilization).toBe(0.95);
    const atLimit = plan({ kv_cache_usage: 0.97 }, { ...vllmDefaults, gpu_memory_utilization: VLLM_LIMITS.gpu_memory_utilization.max });
    expect(atLimit.optimizations.find((o) => o.parameter === 'gpu_memory_utilization')).toBeUndefined();
  });

  it('enables prefix caching when time to first token is high', () => {
    const p = plan({ ttft_p95_ms: 1200 });
    expect(p.optimizations.map((o) => o.parameter)).toEqual(['enable_prefix_caching']);
    expect(p.engine_args).toEqual({ ...vllmDefaults, enable_prefix_caching: true });
    // With prefix caching already on, the next step for TTFT is the per-step token budget (see vllm.test.ts).
    expect(plan({ ttft_p95_ms: 1200 }, { ...vllmDefaults, enable_prefix_caching: true }).optimizations.map((o) => o.parameter)).toEqual(['max_num_batched_tokens']);
  });

  it('grows max_num_seqs for a queue only while KV memory has room', () => {
    expect(plan({ requests_waiting: 50 }).engine_args.max_num_seqs).toBe(384);
    const full = plan({ requests_waiting: 50, kv_cache_usage: 0.97 });
    expect(full.engine_args.max_num_seqs).toBe(256);
    expect(plan({ requests_waiting: 50 }, { max_num_seqs: 1000 }).engine_args.max_num_seqs).toBe(VLLM_LIMITS.max_num_seqs.max);
  });

  it('shrinks max_num_seqs when inter-token latency is high', () => {
    expect(plan({ itl_p95_ms: 90 }).engine_args.max_num_seqs).toBe(192);
    expect(plan({ itl_p95_ms: 90 }, { max_num_seqs: 8 }).optimizations).toEqual([]);
  });

  it('uses engine defaults for flags the replica does not report', () => {
    const p = plan({ kv_cache_usage: 0.97 }, {});
    const kv = p.optimizations.find((o) => o.parameter === 'gpu_memory_utilization')!;
    expect(kv.current).toBeNull();
    expect(kv.proposed).toBe(0.95);
  });

  it('cites a source and an expected effect range for every rule', () => {
    for (const rule of rulesFor('vllm')) {
      expect(rule.source).toMatch(/vLLM docs/);
      expect(rule.expected_improvement_pct[0]).toBeLessThan(rule.expected_improvement_pct[1]);
    }
  });

  it('derives the total estimate from the rules that fired', () => {
    const p = plan({ kv_cache_usage: 0.97, ttft_p95_ms: 1200 });
    expect(p.optimizations).toHaveLength(2);
    expect(p.estimated_total_improvement).toBe('15-48%');
    expect(plan({}).estimated_total_improvement).toBe('0%');
    expect(plan({}).optimizations).toEqual([]);
    expect(combineImprovements([[10, 25], [5, 30]])).toEqual([15, 48]);
  });

  it('has a knowledge base for every engine', () => {
    for (const engine of ['vllm', 'tgi', 'sglang'] as const) expect(rulesFor(engine).length).toBeGreaterThan(0);
    const s = snapshot({ kv_cache_usage: 0.99 });
    expect(planOptimizations({ engine: 'sglang', snapshot: s, bottlenecks: detectBottlenecks(s, DEFAULT_SLO), currentArgs: {}, revision: 'r' }).engine_args).toEqual({ mem_fraction_static: 0.93 });
  });
});

describe('planWithSkips: flags the plan must not move', () => {
  const queue = snapshot({ requests_waiting: 30, kv_cache_usage: 0.5 });
  const base = { engine: 'vllm' as const, snapshot: queue, bottlenecks: detectBottlenecks(queue, DEFAULT_SLO), revision: 'r' };

  it.each<[string, Partial<Parameters<typeof planWithSkips>[0]>, number | null, string[]]>([
    ['complete args without the flag: the default is in force', { currentArgs: {}, argsComplete: true }, 384, []],
    ['partial args without the flag: unknown, nothing proposed', { currentArgs: {}, argsComplete: false }, null, ['max_num_seqs']],
    ['partial args with the flag: steps from it', { currentArgs: { max_num_seqs: 8 }, argsComplete: false }, 12, []],
  ])('%s', (_name, over, proposed, skipped) => {
    const { plan, skipped: got } = planWithSkips({ ...base, currentArgs: {}, ...over });
    expect(plan.optimizations.find((o) => o.parameter === 'max_num_seqs')?.proposed ?? null).toBe(proposed);
    expect(got.map((s) => s.parameter)).toEqual(skipped);
  });

  it('skips a rule whose flag has no effect (KV cache fixed in bytes), once per flag', () => {
    const full = snapshot({ kv_cache_usage: 0.97, preemptions_per_second: 2 });
    const { plan, skipped } = planWithSkips({
      engine: 'vllm',
      snapshot: full,
      bottlenecks: detectBottlenecks(full, DEFAULT_SLO),
      currentArgs: { gpu_memory_utilization: 0.9 },
      revision: 'r',
      facts: { kv_cache_memory_bytes: 2 ** 30 },
    });
    expect(plan.optimizations.map((o) => o.parameter)).not.toContain('gpu_memory_utilization');
    expect(skipped).toEqual([{ parameter: 'gpu_memory_utilization', rule: 'vllm.kv_memory', why: expect.stringMatching(/fixed at 1073741824 bytes/) }]);
    const gpu = planWithSkips({ engine: 'vllm', snapshot: full, bottlenecks: detectBottlenecks(full, DEFAULT_SLO), currentArgs: { gpu_memory_utilization: 0.9 }, revision: 'r', facts: { kv_cache_memory_bytes: null } });
    expect(gpu.plan.optimizations.find((o) => o.parameter === 'gpu_memory_utilization')?.proposed).toBe(0.95);
  });
});

describe('detectBottlenecks: queue time as evidence of a queue (vLLM V1 request_queue_time_seconds)', () => {
  // The default TTFT target is 500 ms, so a quarter of it is 125 ms.
  it.each<[string, Parameters<typeof snapshot>[0], string[], Record<string, unknown> | null]>([
    ['no queue time (other engines): the waiting gauge alone', { requests_waiting: 0 }, [], null],
    ['short queue time, empty gauge: no queue', { requests_waiting: 0, queue_time_mean_ms: 40 }, [], null],
    [
      'long queue time while the gauge read 0 at the scrape: a queue, with the queue time as evidence',
      { requests_waiting: 0, queue_time_mean_ms: 300 },
      ['queue_backlog', 'low_batch_utilisation'],
      { metric: 'queue_time_mean_ms', value: 300, threshold: 125, description: expect.stringMatching(/waited 300 ms on average.*waiting gauge showed 0 per replica/) },
    ],
    [
      'a waiting gauge over its threshold stays the evidence, and names the queue time',
      { requests_waiting: 30, replicas: 10, queue_time_mean_ms: 12.34 },
      ['queue_backlog', 'low_batch_utilisation'],
      { metric: 'requests_waiting_per_replica', value: 3, description: expect.stringContaining('(mean queue time 12.3 ms)') },
    ],
  ])('%s', (_name, over, kinds, evidence) => {
    const found = detectBottlenecks(snapshot(over), DEFAULT_SLO);
    expect(found.map((b) => b.kind)).toEqual(kinds);
    if (evidence) expect(found[0]).toMatchObject(evidence);
  });
});
