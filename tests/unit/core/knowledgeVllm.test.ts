import { rulesFor } from '../../../core/planner';
import { VLLM_LIMITS } from '../../../core/knowledge/vllm';
import type { EngineArgs } from '../../../models';
import { changes, planFor, proposed } from './planFixture';

// What `vllm serve` reports on the simulated fleet (simulator/engines/vllm.ts VLLM_DEFAULT_ARGS).
const DEFAULTS: EngineArgs = {
  max_num_seqs: 256,
  gpu_memory_utilization: 0.9,
  enable_prefix_caching: false,
  max_num_batched_tokens: 2048,
  kv_cache_dtype: 'auto',
  block_size: 16,
};
const PREFIX_ON: EngineArgs = { ...DEFAULTS, enable_prefix_caching: true };
const plan = (overrides: Parameters<typeof planFor>[1], args: EngineArgs = DEFAULTS) => planFor('vllm', overrides, args);

const KV = { kv_cache_usage: 0.95 };
const PREEMPT = { preemptions_per_second: 1 };
const TTFT = { ttft_p95_ms: 900 };
const ITL = { itl_p95_ms: 80 };
const QUEUE = { requests_waiting: 50 };

describe('vLLM knowledge base', () => {
  it('plans exactly gpu_memory_utilization 0.9→0.95 and prefix caching on for the simulator default picture', () => {
    // simulator/MODEL.md, default args at default load: KV 0.934, 0.167 preemptions/s, TTFT p95 676 ms,
    // ITL p95 47.2 ms, 0.40 waiting per replica.
    const p = plan({ kv_cache_usage: 0.934, preemptions_per_second: 0.167, ttft_p95_ms: 676, itl_p95_ms: 47.2, requests_waiting: 4 });
    expect(changes(p)).toEqual({ gpu_memory_utilization: 0.95, enable_prefix_caching: true });
    // The tuned picture (gmu 0.95 + prefix caching) has nothing left to tune.
    const tuned = { ...DEFAULTS, gpu_memory_utilization: 0.95, enable_prefix_caching: true };
    expect(plan({ kv_cache_usage: 0.457, ttft_p95_ms: 200, itl_p95_ms: 46.6 }, tuned).optimizations).toEqual([]);
  });

  it('vllm.kv_memory: raises gpu_memory_utilization on KV pressure or preemption, capped at its limit', () => {
    expect(proposed(plan(KV), 'gpu_memory_utilization')).toBe(0.95);
    expect(proposed(plan(PREEMPT), 'gpu_memory_utilization')).toBe(0.95);
    expect(proposed(plan(KV, { ...DEFAULTS, gpu_memory_utilization: 0.93 }), 'gpu_memory_utilization')).toBe(VLLM_LIMITS.gpu_memory_utilization.max);
    expect(proposed(plan(KV, { ...DEFAULTS, gpu_memory_utilization: 0.95 }), 'gpu_memory_utilization')).toBeUndefined();
    expect(proposed(plan(TTFT), 'gpu_memory_utilization')).toBeUndefined();
  });

  it('vllm.prefix_caching: turns prefix caching back on for high TTFT; V1 has it on by default', () => {
    expect(proposed(plan(TTFT), 'enable_prefix_caching')).toBe(true);
    expect(proposed(plan(TTFT, PREFIX_ON), 'enable_prefix_caching')).toBeUndefined();
    expect(proposed(plan(TTFT, {}), 'enable_prefix_caching')).toBeUndefined();
  });

  it('vllm.more_sequences: grows max_num_seqs for a queue while KV memory has room, up to its limit', () => {
    const p = plan(QUEUE);
    expect(proposed(p, 'max_num_seqs')).toBe(384);
    expect(p.optimizations[0].addresses).toBe('queue_backlog, low_batch_utilisation');
    for (const blocker of [KV, PREEMPT, ITL]) expect(proposed(plan({ ...QUEUE, ...blocker }), 'max_num_seqs')).toBeUndefined();
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_num_seqs: 1000 }), 'max_num_seqs')).toBe(VLLM_LIMITS.max_num_seqs.max);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_num_seqs: 1024 }), 'max_num_seqs')).toBeUndefined();
  });

  it('vllm.fewer_sequences: shrinks max_num_seqs for high ITL unless requests queue, down to its limit', () => {
    expect(proposed(plan(ITL), 'max_num_seqs')).toBe(192);
    expect(proposed(plan({ ...ITL, ...QUEUE }), 'max_num_seqs')).toBeUndefined();
    expect(proposed(plan(ITL, { ...DEFAULTS, max_num_seqs: 10 }), 'max_num_seqs')).toBe(VLLM_LIMITS.max_num_seqs.min);
    expect(proposed(plan(ITL, { ...DEFAULTS, max_num_seqs: 8 }), 'max_num_seqs')).toBeUndefined();
  });

  it('vllm.preemption_fewer_sequences: once GPU memory is at its limit, preemption shrinks max_num_seqs', () => {
    const atLimit = { ...DEFAULTS, gpu_memory_utilization: 0.95 };
    expect(changes(plan(PREEMPT, atLimit))).toEqual({ max_num_seqs: 192 });
    // Memory first: below the limit the plan raises gpu_memory_utilization and leaves the batch alone.
    expect(changes(plan(PREEMPT))).toEqual({ gpu_memory_utilization: 0.95 });
    expect(proposed(plan(PREEMPT, { ...atLimit, max_num_seqs: 8 }), 'max_num_seqs')).toBeUndefined();
  });

  it('vllm.batched_tokens_for_ttft: doubles max_num_batched_tokens for high TTFT once prefix caching is on, up to 16384', () => {
    expect(proposed(plan(TTFT, PREFIX_ON), 'max_num_batched_tokens')).toBe(4096);
    expect(proposed(plan(TTFT, { enable_prefix_caching: true }), 'max_num_batched_tokens')).toBe(4096); // default 2048
    expect(proposed(plan(TTFT), 'max_num_batched_tokens')).toBeUndefined(); // prefix caching first
    for (const blocker of [ITL, KV, PREEMPT]) expect(proposed(plan({ ...TTFT, ...blocker }, PREFIX_ON), 'max_num_batched_tokens')).toBeUndefined();
    expect(proposed(plan(TTFT, { ...PREFIX_ON, max_num_batched_tokens: 10000 }), 'max_num_batched_tokens')).toBe(VLLM_LIMITS.max_num_batched_tokens.max);
    expect(proposed(plan(TTFT, { ...PREFIX_ON, max_num_batched_tokens: 16384 }), 'max_num_batched_tokens')).toBeUndefined();
  });

  it('vllm.batched_tokens_for_itl: halves max_num_batched_tokens for high ITL unless TTFT is high too, down to 2048', () => {
    expect(proposed(plan(ITL, { ...DEFAULTS, max_num_batched_tokens: 8192 }), 'max_num_batched_tokens')).toBe(4096);
    expect(proposed(plan({ ...ITL, ...TTFT }, { ...DEFAULTS, max_num_batched_tokens: 8192 }), 'max_num_batched_tokens')).toBeUndefined();
    expect(proposed(plan(ITL, { ...DEFAULTS, max_num_batched_tokens: 3000 }), 'max_num_batched_tokens')).toBe(VLLM_LIMITS.max_num_batched_tokens.min);
    expect(proposed(plan(ITL), 'max_num_batched_tokens')).toBeUndefined();
  });

  it('changes each flag once per plan: the first rule that moves it wins', () => {
    // High ITL and preemption at the memory limit: two rules shrink max_num_seqs; one change is planned.
    const p = plan({ ...ITL, ...PREEMPT }, { ...DEFAULTS, gpu_memory_utilization: 0.95 });
    const seqs = p.optimizations.filter((o) => o.parameter === 'max_num_seqs');
    expect(seqs).toHaveLength(1);
    expect(seqs[0]).toMatchObject({ proposed: 192, addresses: 'high_itl' });
    expect(p.engine_args.max_num_seqs).toBe(192);
  });

  it('cites its source with a quoted phrase for every rule', () => {
    const rules = rulesFor('vllm');
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.id).toMatch(/^vllm\./);
      expect(rule.source).toMatch(/^vLLM docs, "[^"]+" \(docs\.vllm\.ai\/[^)]+\), section "[^"]+".*"[^"]{20,}/);
      expect(rule.expected_improvement_pct[0]).toBeLessThan(rule.expected_improvement_pct[1]);
    }
  });
});
