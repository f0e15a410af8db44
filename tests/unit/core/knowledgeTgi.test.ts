import { rulesFor } from '../../../core/planner';
import { TGI_LIMITS } from '../../../core/knowledge/tgi';
import type { EngineArgs, Snapshot } from '../../../models';
import { changes, planFor, proposed } from './planFixture';

// What `text-generation-launcher` reports on the simulated fleet (simulator/engines/tgi.ts TGI_DEFAULT_ARGS).
const DEFAULTS: EngineArgs = {
  max_concurrent_requests: 128,
  max_batch_prefill_tokens: 4096,
  max_batch_total_tokens: null,
  max_waiting_tokens: 20,
  waiting_served_ratio: 0.3,
  max_input_tokens: 4095,
  max_total_tokens: 4096,
  cuda_memory_fraction: 1.0,
  quantize: null,
};
// TGI's metrics have no TTFT, KV-usage or preemption series (metrics/engines/tgiAdapter.ts).
const TGI_SNAPSHOT: Partial<Snapshot> = {
  ttft_p50_ms: null,
  ttft_p95_ms: null,
  ttft_p99_ms: null,
  kv_cache_usage: null,
  preemptions_per_second: null,
  prefix_cache_hit_rate: null,
};
const plan = (overrides: Partial<Snapshot>, args: EngineArgs = DEFAULTS) => planFor('tgi', { ...TGI_SNAPSHOT, ...overrides }, args);

/** High ITL with an empty queue (the fixture has 0 waiting). */
const ITL = { itl_p95_ms: 80 };
const QUEUE = { requests_waiting: 50 };
/** Refusals at the concurrency limit: 10 running + 120 queued per replica against max_concurrent_requests 128. */
const OVERLOADED = { error_rate: 0.05, requests_running: 100, requests_waiting: 1200 };

describe('TGI knowledge base', () => {
  it('plans max_batch_prefill_tokens 4096→8192 and max_waiting_tokens 20→10 for the simulator default picture', () => {
    // simulator/MODEL.md, TGI default args at default load, per replica: 18.7 running / 8.33 queued,
    // mean-time-per-token p95 43.3 ms, errors 0.25 %; no TTFT or KV series (a snapshot sums gauges over 10 replicas).
    const picture = { requests_running: 187, requests_waiting: 83.3, itl_p95_ms: 43.3, e2e_p95_ms: 9690, error_rate: 0.0025 };
    expect(changes(plan(picture))).toEqual({ max_batch_prefill_tokens: 8192, max_waiting_tokens: 10 });
    // The documented fix (8192 and 8) leaves 0.66 queued per replica and ITL p95 54.4 ms from the buckets:
    // above its SLO, but inside the dead band, so no ITL rule undoes the fix.
    const fixed = { ...DEFAULTS, max_batch_prefill_tokens: 8192, max_waiting_tokens: 8 };
    expect(plan({ requests_running: 204, requests_waiting: 6.6, itl_p95_ms: 54.4, e2e_p95_ms: 7860, error_rate: 0.002 }, fixed).optimizations).toEqual([]);
  });

  it('tgi.more_concurrent_requests: raises the limit when requests are refused at it, up to 1024', () => {
    expect(proposed(plan(OVERLOADED), 'max_concurrent_requests')).toBe(192);
    expect(proposed(plan({ ...OVERLOADED, ...ITL }), 'max_concurrent_requests')).toBeUndefined(); // decode saturated: keep the backpressure
    expect(proposed(plan({ error_rate: 0.05 }), 'max_concurrent_requests')).toBeUndefined(); // 10 in flight per replica: errors come from elsewhere
    expect(proposed(plan({ ...OVERLOADED, requests_waiting: null }), 'max_concurrent_requests')).toBeUndefined();
    expect(proposed(plan({ ...OVERLOADED, requests_waiting: 9500 }, { ...DEFAULTS, max_concurrent_requests: 1000 }), 'max_concurrent_requests')).toBe(TGI_LIMITS.max_concurrent_requests.max);
    expect(proposed(plan({ ...OVERLOADED, requests_waiting: 9500 }, { ...DEFAULTS, max_concurrent_requests: 1024 }), 'max_concurrent_requests')).toBeUndefined();
    expect(proposed(plan(OVERLOADED, { ...DEFAULTS, max_concurrent_requests: 'many' }), 'max_concurrent_requests')).toBeUndefined();
  });

  it('tgi.memory_fraction: undoes a lowered cuda_memory_fraction for a queue while TGI infers the token budget', () => {
    expect(proposed(plan(QUEUE, { ...DEFAULTS, cuda_memory_fraction: 0.85 }), 'cuda_memory_fraction')).toBe(0.9);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, cuda_memory_fraction: 0.98 }), 'cuda_memory_fraction')).toBe(TGI_LIMITS.cuda_memory_fraction.max);
    expect(proposed(plan(QUEUE), 'cuda_memory_fraction')).toBeUndefined(); // 1.0, the default, is the limit
    expect(proposed(plan(QUEUE, { ...DEFAULTS, cuda_memory_fraction: 0.85, max_batch_total_tokens: 100_000 }), 'cuda_memory_fraction')).toBeUndefined();
  });

  it('tgi.batch_total_tokens: raises an explicit max_batch_total_tokens for a queue, up to its limit', () => {
    const explicit = { ...DEFAULTS, max_batch_total_tokens: 100_000 };
    expect(proposed(plan(QUEUE, explicit), 'max_batch_total_tokens')).toBe(125_000);
    expect(proposed(plan(QUEUE), 'max_batch_total_tokens')).toBeUndefined(); // inferred from memory already
    expect(proposed(plan({ ...QUEUE, ...ITL }, explicit), 'max_batch_total_tokens')).toBeUndefined();
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_batch_total_tokens: 1_000_000 }), 'max_batch_total_tokens')).toBe(TGI_LIMITS.max_batch_total_tokens.max);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_batch_total_tokens: 1_048_576 }), 'max_batch_total_tokens')).toBeUndefined();
  });

  it('tgi.more_prefill_tokens: doubles max_batch_prefill_tokens for a queue, within max_batch_total_tokens and 32768', () => {
    expect(proposed(plan(QUEUE), 'max_batch_prefill_tokens')).toBe(8192);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_batch_total_tokens: 5000 }), 'max_batch_prefill_tokens')).toBe(5000);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_batch_prefill_tokens: 30_000 }), 'max_batch_prefill_tokens')).toBe(TGI_LIMITS.max_batch_prefill_tokens.max);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_batch_prefill_tokens: 32_768 }), 'max_batch_prefill_tokens')).toBeUndefined();
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_batch_prefill_tokens: null }), 'max_batch_prefill_tokens')).toBeUndefined(); // derived
    expect(proposed(plan({ ...QUEUE, ...ITL }), 'max_batch_prefill_tokens')).toBeUndefined();
  });

  it('tgi.fewer_prefill_tokens: halves max_batch_prefill_tokens for high ITL, never below max_input_tokens', () => {
    expect(proposed(plan(ITL, { ...DEFAULTS, max_batch_prefill_tokens: 8192, max_input_tokens: 2048 }), 'max_batch_prefill_tokens')).toBe(4096);
    expect(proposed(plan(ITL, { ...DEFAULTS, max_batch_prefill_tokens: 1500, max_input_tokens: 512 }), 'max_batch_prefill_tokens')).toBe(TGI_LIMITS.max_batch_prefill_tokens.min);
    expect(proposed(plan(ITL), 'max_batch_prefill_tokens')).toBeUndefined(); // 4096 against max_input_tokens 4095: no real step
    expect(proposed(plan(ITL, { ...DEFAULTS, max_input_tokens: null }), 'max_batch_prefill_tokens')).toBeUndefined();
    expect(proposed(plan(ITL, { ...DEFAULTS, max_batch_prefill_tokens: 1024, max_input_tokens: 512 }), 'max_batch_prefill_tokens')).toBeUndefined();
    // Only with the queue about empty (≤ 0.1 per replica): 0.5 waiting per replica is inside the dead band.
    expect(proposed(plan({ ...ITL, requests_waiting: 5 }, { ...DEFAULTS, max_batch_prefill_tokens: 8192, max_input_tokens: 2048 }), 'max_batch_prefill_tokens')).toBeUndefined();
    expect(proposed(plan({ ...ITL, requests_waiting: null }, { ...DEFAULTS, max_batch_prefill_tokens: 8192, max_input_tokens: 2048 }), 'max_batch_prefill_tokens')).toBeUndefined();
  });

  it('tgi.wait_less: halves max_waiting_tokens for a queue, down to 5', () => {
    expect(proposed(plan(QUEUE), 'max_waiting_tokens')).toBe(10);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_waiting_tokens: 8 }), 'max_waiting_tokens')).toBe(TGI_LIMITS.max_waiting_tokens.min);
    expect(proposed(plan(QUEUE, { ...DEFAULTS, max_waiting_tokens: 5 }), 'max_waiting_tokens')).toBeUndefined();
    expect(proposed(plan({ ...QUEUE, ...ITL }), 'max_waiting_tokens')).toBeUndefined();
  });

  it('tgi.wait_more: raises max_waiting_tokens for high ITL with the queue about empty, up to 100', () => {
    expect(proposed(plan(ITL), 'max_waiting_tokens')).toBe(30);
    expect(proposed(plan({ ...ITL, requests_waiting: 1 }), 'max_waiting_tokens')).toBe(30); // 0.1 per replica
    expect(proposed(plan({ ...ITL, requests_waiting: 5 }), 'max_waiting_tokens')).toBeUndefined();
    expect(proposed(plan(ITL, { ...DEFAULTS, max_waiting_tokens: 90 }), 'max_waiting_tokens')).toBe(TGI_LIMITS.max_waiting_tokens.max);
    expect(proposed(plan(ITL, { ...DEFAULTS, max_waiting_tokens: 100 }), 'max_waiting_tokens')).toBeUndefined();
  });

  it('cites its source with a quoted phrase for every rule', () => {
    const rules = rulesFor('tgi');
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.id).toMatch(/^tgi\./);
      expect(rule.source).toMatch(/^TGI docs, "Text-generation-launcher arguments" \(huggingface\.co\/docs\/text-generation-inference\/reference\/launcher\), [A-Z_]+.*"[^"]{20,}/);
      expect(rule.expected_improvement_pct[0]).toBeLessThan(rule.expected_improvement_pct[1]);
    }
  });
});
