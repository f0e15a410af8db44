import { rulesFor } from '../../../core/planner';
import { SGLANG_LIMITS } from '../../../core/knowledge/sglang';
import type { EngineArgs } from '../../../models';
import { changes, planFor, proposed } from './planFixture';

// `python -m sglang.launch_server` defaults on one 80 GB GPU (tp_size 1); max_running_requests is derived.
const DEFAULTS: EngineArgs = {
  mem_fraction_static: 0.88,
  schedule_conservativeness: 1.0,
  chunked_prefill_size: 8192,
  schedule_policy: 'fcfs',
  disable_radix_cache: false,
};
const plan = (overrides: Parameters<typeof planFor>[1], args: EngineArgs = DEFAULTS) => planFor('sglang', overrides, args);

const KV = { kv_cache_usage: 0.95 };
const RETRACT = { preemptions_per_second: 1 };
const TTFT = { ttft_p95_ms: 900 };
const ITL = { itl_p95_ms: 80 };
/** 5 waiting per replica on a half-empty KV cache (the fixture's 0.5): queue_backlog + low_batch_utilisation. */
const QUEUE = { requests_waiting: 50 };

describe('SGLang knowledge base', () => {
  it('plans mem_fraction_static 0.88→0.93 (and mixed chunks for ITL) for the simulator default picture', () => {
    // simulator/MODEL.md, SGLang default args at default load, per replica: TTFT p95 976 ms, ITL p95 67.3 ms,
    // token usage 0.636, 0.012 retractions/s, 30 running / 0.29 waiting, errors 0.23 % (a snapshot sums
    // rates and gauges over the 10 replicas).
    const picture = { ttft_p95_ms: 976, itl_p95_ms: 67.3, kv_cache_usage: 0.636, preemptions_per_second: 0.12, requests_running: 300, requests_waiting: 2.9, error_rate: 0.0023, e2e_p95_ms: 38_170 };
    expect(changes(plan(picture))).toEqual({ mem_fraction_static: 0.93, enable_mixed_chunk: true });
    // Tuned (TTFT 289 ms, no retractions): ITL stays above its SLO in this model, and nothing is left to try.
    const tuned = { ...DEFAULTS, mem_fraction_static: 0.93, enable_mixed_chunk: true };
    expect(plan({ ttft_p95_ms: 289, itl_p95_ms: 57.6, kv_cache_usage: 0.462, preemptions_per_second: 0, requests_running: 300, requests_waiting: 0 }, tuned).optimizations).toEqual([]);
  });

  it('sglang.kv_memory: raises mem_fraction_static by 0.05 on KV pressure or retractions, capped at 0.93', () => {
    expect(proposed(plan(KV, { ...DEFAULTS, mem_fraction_static: 0.8 }), 'mem_fraction_static')).toBe(0.85);
    expect(proposed(plan(RETRACT), 'mem_fraction_static')).toBe(SGLANG_LIMITS.mem_fraction_static.max);
    expect(proposed(plan(KV), 'mem_fraction_static')).toBe(SGLANG_LIMITS.mem_fraction_static.max);
    expect(proposed(plan(KV, { ...DEFAULTS, mem_fraction_static: 0.93 }), 'mem_fraction_static')).toBeUndefined();
    expect(proposed(plan(TTFT), 'mem_fraction_static')).toBeUndefined();
  });

  it('sglang.more_conservative: once memory is at its limit, retractions raise schedule_conservativeness up to 1.5', () => {
    const atLimit = { ...DEFAULTS, mem_fraction_static: 0.93 };
    expect(changes(plan(RETRACT, atLimit))).toEqual({ schedule_conservativeness: 1.3 });
    expect(proposed(plan(RETRACT), 'schedule_conservativeness')).toBeUndefined(); // memory first
    expect(proposed(plan(RETRACT, { ...atLimit, schedule_conservativeness: 1.3 }), 'schedule_conservativeness')).toBe(SGLANG_LIMITS.schedule_conservativeness.max);
    expect(proposed(plan(RETRACT, { ...atLimit, schedule_conservativeness: 1.5 }), 'schedule_conservativeness')).toBeUndefined();
  });

  it('sglang.less_conservative: a queue on a KV cache with room lowers schedule_conservativeness down to 0.3', () => {
    const p = plan(QUEUE);
    expect(changes(p)).toEqual({ schedule_conservativeness: 0.7 });
    expect(p.optimizations[0].addresses).toBe('low_batch_utilisation');
    expect(proposed(plan(QUEUE, { ...DEFAULTS, schedule_conservativeness: 0.4 }), 'schedule_conservativeness')).toBe(SGLANG_LIMITS.schedule_conservativeness.min);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, schedule_conservativeness: 0.3 }), 'schedule_conservativeness')).toBeUndefined();
    // Not while requests are retracted, and not when an explicit running-request cap is what binds.
    expect(proposed(plan({ ...QUEUE, ...RETRACT }), 'schedule_conservativeness')).toBeUndefined();
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_running_requests: 10 }), 'schedule_conservativeness')).toBeUndefined();
    // A queue on a full cache is not low utilisation: memory, not admission, is the fix.
    expect(changes(plan({ ...QUEUE, ...KV }))).toEqual({ mem_fraction_static: 0.93 });
  });

  it('sglang.more_running_requests: raises an explicit max_running_requests the replicas run at, up to 4096', () => {
    // Fixture: 100 running on 10 replicas = 10 per replica, at a cap of 10.
    expect(changes(plan(QUEUE, { ...DEFAULTS, max_running_requests: 10 }))).toEqual({ max_running_requests: 15 });
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_running_requests: 64 }), 'max_running_requests')).toBeUndefined(); // not binding
    expect(proposed(plan(QUEUE), 'max_running_requests')).toBeUndefined(); // derived by SGLang, not the cap
    for (const blocker of [KV, RETRACT, ITL]) {
      expect(proposed(plan({ ...QUEUE, ...blocker }, { ...DEFAULTS, max_running_requests: 10 }), 'max_running_requests')).toBeUndefined();
    }
    expect(proposed(plan({ ...QUEUE, requests_running: 40_000 }, { ...DEFAULTS, max_running_requests: 3000 }), 'max_running_requests')).toBe(SGLANG_LIMITS.max_running_requests.max);
    expect(proposed(plan({ ...QUEUE, requests_running: 40_960 }, { ...DEFAULTS, max_running_requests: 4096 }), 'max_running_requests')).toBeUndefined();
    expect(proposed(plan({ ...QUEUE, requests_running: null }, { ...DEFAULTS, max_running_requests: 10 }), 'max_running_requests')).toBeUndefined();
  });

  it('sglang.radix_cache: re-enables RadixAttention for high TTFT; it is on by default', () => {
    expect(proposed(plan(TTFT, { ...DEFAULTS, disable_radix_cache: true }), 'disable_radix_cache')).toBe(false);
    expect(proposed(plan(TTFT), 'disable_radix_cache')).toBeUndefined();
  });

  it('sglang.prefix_aware_schedule: switches fcfs to lpm for a queue with high TTFT and shared prefixes', () => {
    const both = { ...TTFT, ...QUEUE, prefix_cache_hit_rate: 0.5 };
    expect(proposed(plan(both), 'schedule_policy')).toBe('lpm');
    expect(proposed(plan({ ...both, prefix_cache_hit_rate: 0.1 }), 'schedule_policy')).toBeUndefined();
    expect(proposed(plan({ ...both, prefix_cache_hit_rate: null }), 'schedule_policy')).toBeUndefined();
    expect(proposed(plan({ ...TTFT, prefix_cache_hit_rate: 0.5 }), 'schedule_policy')).toBeUndefined(); // no queue to reorder
    expect(proposed(plan({ ...QUEUE, prefix_cache_hit_rate: 0.5 }), 'schedule_policy')).toBeUndefined(); // TTFT fine
    expect(proposed(plan(both, { ...DEFAULTS, schedule_policy: 'lpm' }), 'schedule_policy')).toBeUndefined();
    expect(proposed(plan(both, { ...DEFAULTS, disable_radix_cache: true }), 'schedule_policy')).toBeUndefined();
  });

  it('sglang.bigger_prefill_chunks: doubles chunked_prefill_size for high TTFT with memory and ITL to spare, up to 16384', () => {
    expect(changes(plan(TTFT))).toEqual({ chunked_prefill_size: 16384 });
    expect(proposed(plan(TTFT, { ...DEFAULTS, chunked_prefill_size: 2048 }), 'chunked_prefill_size')).toBe(4096);
    expect(proposed(plan(TTFT, { ...DEFAULTS, chunked_prefill_size: 16384 }), 'chunked_prefill_size')).toBeUndefined();
    expect(proposed(plan(TTFT, { ...DEFAULTS, chunked_prefill_size: -1 }), 'chunked_prefill_size')).toBeUndefined(); // chunking off
    for (const blocker of [ITL, KV, RETRACT]) expect(proposed(plan({ ...TTFT, ...blocker }), 'chunked_prefill_size')).toBeUndefined();
    // With mem_fraction_static raised, a larger chunk's activations would no longer fit beside it.
    expect(proposed(plan(TTFT, { ...DEFAULTS, mem_fraction_static: 0.9 }), 'chunked_prefill_size')).toBeUndefined();
    expect(proposed(plan(TTFT, { chunked_prefill_size: 4096 }), 'chunked_prefill_size')).toBe(8192);
  });

  it('sglang.mixed_chunk: mixes prefill chunks into decode batches for high ITL, when chunked prefill is on', () => {
    expect(changes(plan(ITL))).toEqual({ enable_mixed_chunk: true });
    expect(proposed(plan(ITL, { ...DEFAULTS, enable_mixed_chunk: true }), 'enable_mixed_chunk')).toBeUndefined();
    expect(proposed(plan(ITL, { ...DEFAULTS, chunked_prefill_size: -1 }), 'enable_mixed_chunk')).toBeUndefined();
    expect(proposed(plan(TTFT), 'enable_mixed_chunk')).toBeUndefined();
  });

  it('cites its source with a quoted phrase for every rule', () => {
    const rules = rulesFor('sglang');
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.id).toMatch(/^sglang\./);
      expect(rule.source).toMatch(/^SGLang docs, "[^"]+" \(docs\.sglang\.ai\/[^)]+\), (section )?"[^"]+".*"[^"]{20,}/);
      expect(rule.expected_improvement_pct[0]).toBeLessThan(rule.expected_improvement_pct[1]);
    }
  });
});
