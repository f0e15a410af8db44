import type { EngineArgs, Load } from '../../../models';
import { degradePerformance } from '../../../simulator/degrade';
import {
  validateVllmArgs,
  vllmKvCapacityTokens,
  vllmPerformance,
  VLLM_DEFAULT_ARGS,
  VLLM_DEFAULT_LOAD,
} from '../../../simulator/engines/vllm';
import { figuresOf } from '../../../simulator/figures';

/** Per-replica share of the default load on the default 10 replicas. */
const LOAD: Load = { ...VLLM_DEFAULT_LOAD, requests_per_second: VLLM_DEFAULT_LOAD.requests_per_second / 10 };
const DEFAULT: EngineArgs = { ...VLLM_DEFAULT_ARGS };
const TUNED: EngineArgs = { ...VLLM_DEFAULT_ARGS, gpu_memory_utilization: 0.95, enable_prefix_caching: true };

const fig = (args: EngineArgs, load: Load = LOAD) => figuresOf(vllmPerformance(args, load));

describe('vLLM performance model: calibration under the default load', () => {
  const d = fig(DEFAULT);

  it('default args give a middling picture', () => {
    expect(d.ttft_p95_ms).toBeGreaterThanOrEqual(600);
    expect(d.ttft_p95_ms).toBeLessThanOrEqual(1500);
    expect(d.itl_p95_ms).toBeGreaterThanOrEqual(30);
    expect(d.itl_p95_ms).toBeLessThanOrEqual(60);
    expect(d.kv_cache_usage).toBeGreaterThan(0.9);
    expect(d.kv_cache_usage).toBeLessThan(1);
    expect(d.preemptions_per_second).toBeGreaterThan(0.05);
    expect(d.error_rate).toBeGreaterThan(0.003);
    expect(d.error_rate).toBeLessThan(0.008);
  });

  it('the obvious tuning (gmu 0.95 + prefix caching) is clearly better', () => {
    const t = fig(TUNED);
    expect(t.ttft_p95_ms).toBeLessThanOrEqual(0.75 * d.ttft_p95_ms);
    expect(t.preemptions_per_second).toBeLessThan(d.preemptions_per_second);
    expect(t.error_rate).toBeLessThan(d.error_rate);
    expect(t.kv_cache_usage).toBeLessThan(d.kv_cache_usage);
    expect(t.itl_p95_ms).toBeLessThanOrEqual(d.itl_p95_ms);
    expect(t.e2e_p95_ms).toBeLessThan(d.e2e_p95_ms);
  });

  it('more KV memory alone lowers KV usage and preemption', () => {
    const g = fig({ ...DEFAULT, gpu_memory_utilization: 0.95 });
    expect(g.kv_cache_usage).toBeLessThan(d.kv_cache_usage);
    expect(g.preemptions_per_second).toBeLessThan(d.preemptions_per_second);
    expect(g.ttft_p95_ms).toBeLessThan(d.ttft_p95_ms);
  });

  it('prefix caching alone lowers TTFT on shared prefixes, and only when there is a shared prefix', () => {
    const pc = vllmPerformance({ ...DEFAULT, enable_prefix_caching: true }, LOAD);
    expect(figuresOf(pc).ttft_p95_ms).toBeLessThan(0.75 * d.ttft_p95_ms);
    expect(pc.prefix_cache_hits_per_second / pc.prefix_cache_queries_per_second).toBeCloseTo(LOAD.shared_prefix_fraction, 6);
    const noShare = { ...LOAD, shared_prefix_fraction: 0 };
    expect(fig({ ...DEFAULT, enable_prefix_caching: true }, noShare).ttft_p95_ms).toBeCloseTo(fig(DEFAULT, noShare).ttft_p95_ms, 6);
    expect(vllmPerformance(DEFAULT, LOAD).prefix_cache_queries_per_second).toBe(0);
  });

  it('fp8 KV cache doubles capacity', () => {
    expect(vllmKvCapacityTokens({ ...DEFAULT, kv_cache_dtype: 'fp8' })).toBeCloseTo(2 * vllmKvCapacityTokens(DEFAULT), 6);
    expect(fig({ ...DEFAULT, kv_cache_dtype: 'fp8' }).kv_cache_usage).toBeLessThan(0.6);
  });

  it('degrade severity 0.4 on a tuned replica is clearly worse than the default', () => {
    const base = vllmPerformance(DEFAULT, LOAD);
    const own = vllmPerformance(TUNED, LOAD);
    const bad = degradePerformance(own, base, 0.4);
    const b = figuresOf(bad);
    expect(b.ttft_p95_ms).toBeCloseTo(1.4 * d.ttft_p95_ms, 6);
    expect(b.itl_p95_ms).toBeCloseTo(1.4 * d.itl_p95_ms, 6);
    expect(b.e2e_p95_ms).toBeCloseTo(1.4 * d.e2e_p95_ms, 6);
    expect(b.error_rate).toBeCloseTo(d.error_rate + 0.1, 9);
    expect(degradePerformance(own, base, 0)).toBe(own);
  });

  it('max_num_seqs far too high raises ITL (and KV pressure)', () => {
    const hi = fig({ ...DEFAULT, max_num_seqs: 1024 });
    expect(hi.itl_p95_ms).toBeGreaterThan(1.1 * d.itl_p95_ms);
    expect(hi.preemptions_per_second).toBeGreaterThan(d.preemptions_per_second);
  });

  it('max_num_seqs far too low raises queueing and TTFT', () => {
    const lo = vllmPerformance({ ...DEFAULT, max_num_seqs: 8 }, LOAD);
    const base = vllmPerformance(DEFAULT, LOAD);
    expect(lo.running).toBe(8);
    expect(lo.waiting).toBeGreaterThan(10 * base.waiting);
    expect(lo.queue.median).toBeGreaterThan(10 * base.queue.median);
    expect(figuresOf(lo).ttft_p95_ms).toBeGreaterThan(5 * d.ttft_p95_ms);
    expect(lo.error_fraction).toBeGreaterThan(base.error_fraction);
  });

  it('TTFT p95 and error rate never improve as offered load grows', () => {
    let prev = fig(DEFAULT, { ...LOAD, requests_per_second: 0.5 });
    for (let rps = 1; rps <= 12; rps += 0.5) {
      const f = fig(DEFAULT, { ...LOAD, requests_per_second: rps });
      expect(f.ttft_p95_ms).toBeGreaterThanOrEqual(prev.ttft_p95_ms - 1e-9);
      expect(f.error_rate).toBeGreaterThanOrEqual(prev.error_rate - 1e-12);
      prev = f;
    }
  });

  it('stays finite at the extremes and is deterministic', () => {
    for (const rps of [0, 1e5]) {
      const p = vllmPerformance(DEFAULT, { ...LOAD, requests_per_second: rps });
      for (const v of Object.values(figuresOf(p))) expect(Number.isFinite(v)).toBe(true);
      expect(p.error_fraction).toBeGreaterThanOrEqual(0);
      expect(p.error_fraction).toBeLessThanOrEqual(1);
    }
    expect(vllmPerformance(DEFAULT, { ...LOAD, requests_per_second: 0 }).served_rps).toBe(0);
    expect(vllmPerformance(TUNED, LOAD)).toEqual(vllmPerformance(TUNED, LOAD));
  });
});

describe('vLLM engine args validation', () => {
  it('accepts the defaults, the tuned args, null (= default) and other known flags', () => {
    expect(validateVllmArgs(DEFAULT)).toEqual([]);
    expect(validateVllmArgs(TUNED)).toEqual([]);
    expect(validateVllmArgs({ gpu_memory_utilization: null, max_num_seqs: 128 })).toEqual([]);
    expect(validateVllmArgs({ gpu_memory_utilization: 1, kv_cache_dtype: 'fp8_e4m3', enable_chunked_prefill: true, block_size: 32 })).toEqual([]);
  });

  it.each<[EngineArgs, string, RegExp]>([
    [{ no_such_flag: 1 }, 'engine_args.no_such_flag', /unrecognized/],
    [{ gpu_memory_utilization: 0 }, 'engine_args.gpu_memory_utilization', /greater than 0/],
    [{ gpu_memory_utilization: 1.2 }, 'engine_args.gpu_memory_utilization', /at most 1/],
    [{ gpu_memory_utilization: '0.9' }, 'engine_args.gpu_memory_utilization', /number/],
    [{ max_num_seqs: 0 }, 'engine_args.max_num_seqs', /at least 1/],
    [{ max_num_seqs: 2.5 }, 'engine_args.max_num_seqs', /integer/],
    [{ enable_prefix_caching: 'yes' }, 'engine_args.enable_prefix_caching', /boolean/],
    [{ kv_cache_dtype: 'int4' }, 'engine_args.kv_cache_dtype', /one of/],
    [{ block_size: 17 }, 'engine_args.block_size', /one of/],
    [{ max_num_seqs: 4096, max_num_batched_tokens: 2048 }, 'engine_args.max_num_batched_tokens', /greater than or equal to max_num_seqs/],
    [{ gpu_memory_utilization: 0.5 }, 'engine_args.gpu_memory_utilization', /No available memory/],
  ])('refuses %j', (args, field, message) => {
    const issues = validateVllmArgs(args);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0].field).toBe(field);
    expect(issues[0].message).toMatch(message);
  });
});
