import type { EngineArgs, Load } from '../../../models';
import { degradePerformance } from '../../../simulator/degrade';
import {
  SGLANG_DEFAULT_ARGS,
  SGLANG_DEFAULT_LOAD,
  sglangKvPoolTokens,
  sglangMaxMemFractionStatic,
  sglangMaxRunningRequests,
  sglangPerformance,
  validateSglangArgs,
} from '../../../simulator/engines/sglang';
import { figuresOf } from '../../../simulator/figures';

/** Per-replica share of the default load on the default 10 replicas. */
const LOAD: Load = { ...SGLANG_DEFAULT_LOAD, requests_per_second: SGLANG_DEFAULT_LOAD.requests_per_second / 10 };
const DEFAULT: EngineArgs = { ...SGLANG_DEFAULT_ARGS };
/** The tuning guide's first step: a bigger KV pool, within what activations and CUDA graphs leave. */
const TUNED: EngineArgs = { ...SGLANG_DEFAULT_ARGS, mem_fraction_static: 0.93 };

const perf = (args: EngineArgs, load: Load = LOAD) => sglangPerformance({ ...DEFAULT, ...args }, load);
const fig = (args: EngineArgs, load: Load = LOAD) => figuresOf(perf(args, load));

describe('SGLang performance model: calibration under the default load', () => {
  const d = fig(DEFAULT);

  it('the default KV pool is too small: queueing, retractions, high TTFT', () => {
    expect(d.ttft_p95_ms).toBeGreaterThan(700);
    expect(d.ttft_p95_ms).toBeLessThan(2000);
    expect(d.itl_p95_ms).toBeGreaterThan(40);
    expect(d.itl_p95_ms).toBeLessThan(90);
    expect(d.waiting).toBeGreaterThan(0.1);
    expect(d.preemptions_per_second).toBeGreaterThan(0.005);
    expect(d.kv_cache_usage).toBeGreaterThan(0.55);
    expect(d.error_rate).toBeGreaterThan(0.002);
    expect(d.error_rate).toBeLessThan(0.005);
    // Retractions push new_token_ratio above its floor (0.7 × 0.14 at conservativeness 1).
    expect(perf(DEFAULT).extra!.new_token_ratio).toBeGreaterThan(0.098 + 0.05);
  });

  it('mem_fraction_static 0.93 (within its limit) removes the queue and the retractions', () => {
    const t = fig(TUNED);
    expect(t.ttft_p95_ms).toBeLessThan(0.4 * d.ttft_p95_ms);
    expect(t.preemptions_per_second).toBeLessThan(0.1 * d.preemptions_per_second);
    expect(t.waiting).toBeLessThan(0.1 * d.waiting);
    expect(t.error_rate).toBeLessThan(d.error_rate);
    expect(t.kv_cache_usage).toBeLessThan(d.kv_cache_usage);
    expect(t.itl_p95_ms).toBeLessThanOrEqual(d.itl_p95_ms);
    expect(t.e2e_p95_ms).toBeLessThan(d.e2e_p95_ms);
    expect(sglangKvPoolTokens(TUNED)).toBeGreaterThan(1.2 * sglangKvPoolTokens(DEFAULT));
    expect(0.93).toBeLessThanOrEqual(sglangMaxMemFractionStatic(DEFAULT));
  });

  it('schedule_conservativeness trades admissions for retractions, as the tuning guide says', () => {
    const low = fig({ schedule_conservativeness: 0.3 });
    const high = fig({ schedule_conservativeness: 1.3 });
    expect(low.preemptions_per_second).toBeGreaterThan(d.preemptions_per_second);
    expect(low.ttft_p95_ms).toBeLessThan(d.ttft_p95_ms);
    expect(high.preemptions_per_second).toBeLessThan(d.preemptions_per_second);
    expect(high.ttft_p95_ms).toBeGreaterThan(d.ttft_p95_ms);
  });

  it('a smaller pool makes it worse; fp8 KV doubles the pool', () => {
    expect(fig({ mem_fraction_static: 0.85 }).ttft_p95_ms).toBeGreaterThan(3 * d.ttft_p95_ms);
    expect(sglangKvPoolTokens({ ...DEFAULT, kv_cache_dtype: 'fp8_e5m2' })).toBeCloseTo(2 * sglangKvPoolTokens(DEFAULT), -1);
    expect(fig({ kv_cache_dtype: 'fp8_e5m2' }).ttft_p95_ms).toBeLessThan(0.4 * d.ttft_p95_ms);
  });

  it('the radix cache (on by default) lowers TTFT on shared prefixes; disabling it overloads the pool', () => {
    const noRadix = perf({ disable_radix_cache: true });
    expect(noRadix.prefix_cache_hits_per_second).toBe(0);
    expect(figuresOf(noRadix).ttft_p95_ms).toBeGreaterThan(5 * d.ttft_p95_ms);
    const p = perf(DEFAULT);
    expect(p.prefix_cache_hits_per_second / p.prefix_cache_queries_per_second).toBeCloseTo(LOAD.shared_prefix_fraction, 2);
    const noShare = { ...LOAD, shared_prefix_fraction: 0 };
    expect(fig({ disable_radix_cache: true }, noShare).ttft_p95_ms).toBeCloseTo(fig(DEFAULT, noShare).ttft_p95_ms, 6);
  });

  it('under pool pressure the radix cache loses hits to eviction, less so with schedule_policy lpm', () => {
    const heavy = { ...LOAD, requests_per_second: 2.5 };
    const fcfs = perf(DEFAULT, heavy);
    const lpm = perf({ schedule_policy: 'lpm' }, heavy);
    const hitRate = (p: typeof fcfs) => p.prefix_cache_hits_per_second / p.prefix_cache_queries_per_second;
    expect(hitRate(fcfs)).toBeLessThan(LOAD.shared_prefix_fraction);
    expect(hitRate(lpm)).toBeGreaterThan(hitRate(fcfs));
  });

  it('too large a batch for cuda_graph_max_bs raises ITL; max_running_requests far too low queues', () => {
    const light = { ...LOAD, requests_per_second: 0.8 };
    expect(fig({ cuda_graph_max_bs: 4 }, light).itl_p95_ms).toBeGreaterThan(1.15 * fig(DEFAULT, light).itl_p95_ms);
    expect(fig({ disable_cuda_graph: true }, light).itl_p95_ms).toBeGreaterThan(1.15 * fig(DEFAULT, light).itl_p95_ms);
    const capped = perf({ max_running_requests: 16 });
    expect(capped.running).toBeLessThanOrEqual(16);
    expect(figuresOf(capped).ttft_p95_ms).toBeGreaterThan(5 * d.ttft_p95_ms);
    expect(sglangMaxRunningRequests(DEFAULT)).toBeGreaterThan(1000);
  });

  it('mixed chunking lets prefill ride along decode: lower ITL', () => {
    expect(fig({ enable_mixed_chunk: true }).itl_p95_ms).toBeLessThan(d.itl_p95_ms);
  });

  it('degrade severity 0.4 on a tuned replica is clearly worse than the default', () => {
    const base = perf(DEFAULT);
    const bad = figuresOf(degradePerformance(perf(TUNED), base, 0.4));
    expect(bad.ttft_p95_ms).toBeCloseTo(1.4 * d.ttft_p95_ms, 6);
    expect(bad.itl_p95_ms).toBeCloseTo(1.4 * d.itl_p95_ms, 6);
    expect(bad.e2e_p95_ms).toBeCloseTo(1.4 * d.e2e_p95_ms, 6);
    expect(bad.error_rate).toBeCloseTo(d.error_rate + 0.1, 9);
    expect(bad.preemptions_per_second).toBeCloseTo(d.preemptions_per_second, 9);
  });

  it('TTFT p95 and error rate never improve as offered load grows', () => {
    for (const args of [DEFAULT, TUNED]) {
      let prev = fig(args, { ...LOAD, requests_per_second: 0.1 });
      for (let rps = 0.2; rps <= 4; rps += 0.1) {
        const f = fig(args, { ...LOAD, requests_per_second: rps });
        // Once saturated, the queue sits at its timeout and only the (slightly faster, smaller) batch
        // moves TTFT: allow a relative 1e-5.
        expect(f.ttft_p95_ms).toBeGreaterThanOrEqual(prev.ttft_p95_ms * (1 - 1e-5));
        expect(f.error_rate).toBeGreaterThanOrEqual(prev.error_rate - 1e-9);
        prev = f;
      }
    }
  });

  it('stays finite at the extremes and is deterministic', () => {
    for (const rps of [0, 1e5]) {
      const p = perf(DEFAULT, { ...LOAD, requests_per_second: rps });
      for (const v of Object.values(figuresOf(p))) expect(Number.isFinite(v)).toBe(true);
      for (const v of Object.values(p.extra!)) expect(Number.isFinite(v)).toBe(true);
      expect(p.error_fraction).toBeGreaterThanOrEqual(0);
      expect(p.error_fraction).toBeLessThanOrEqual(1);
    }
    expect(perf(DEFAULT, { ...LOAD, requests_per_second: 0 }).served_rps).toBe(0);
    expect(perf(TUNED)).toEqual(perf(TUNED));
  });
});

describe('SGLang server args validation (start-up checks)', () => {
  it('accepts the defaults, the tuned args, null (= auto) and other known args', () => {
    expect(validateSglangArgs(DEFAULT)).toEqual([]);
    expect(validateSglangArgs(TUNED)).toEqual([]);
    expect(validateSglangArgs({ max_running_requests: null, schedule_policy: 'lpm', schedule_conservativeness: 0.3 })).toEqual([]);
    // A smaller prefill chunk leaves room for a larger static fraction.
    expect(validateSglangArgs({ mem_fraction_static: 0.94, chunked_prefill_size: 4096 })).toEqual([]);
    expect(validateSglangArgs({ quantization: 'fp8', kv_cache_dtype: 'fp8_e4m3', enable_mixed_chunk: true })).toEqual([]);
  });

  it.each<[EngineArgs, string, RegExp]>([
    [{ mem_fraction: 0.9 }, 'engine_args.mem_fraction', /unrecognized/],
    [{ mem_fraction_static: 0 }, 'engine_args.mem_fraction_static', /greater than 0/],
    [{ mem_fraction_static: 1.1 }, 'engine_args.mem_fraction_static', /at most 1/],
    [{ mem_fraction_static: 0.94 }, 'engine_args.mem_fraction_static', /CUDA out of memory.*at most 0\.93/],
    [{ mem_fraction_static: 0.93, cuda_graph_max_bs: 512 }, 'engine_args.mem_fraction_static', /cuda-graph-max-bs/],
    [{ mem_fraction_static: 0.6 }, 'engine_args.mem_fraction_static', /Not enough memory\. Please try to increase --mem-fraction-static/],
    [{ schedule_conservativeness: 0 }, 'engine_args.schedule_conservativeness', /greater than 0/],
    [{ schedule_policy: 'sjf' }, 'engine_args.schedule_policy', /one of/],
    [{ max_running_requests: 0 }, 'engine_args.max_running_requests', /at least 1/],
    [{ chunked_prefill_size: 0 }, 'engine_args.chunked_prefill_size', /positive, or -1/],
    [{ disable_radix_cache: 'yes' }, 'engine_args.disable_radix_cache', /boolean/],
    [{ quantization: 'awq' }, 'engine_args.quantization', /quantized/],
    [{ context_length: 200000 }, 'engine_args.context_length', /greater than the derived context_length \(131072\)/],
    [{ enable_mixed_chunk: true, chunked_prefill_size: -1 }, 'engine_args.enable_mixed_chunk', /requires chunked prefill/],
  ])('refuses %j', (args, field, message) => {
    const issues = validateSglangArgs({ ...DEFAULT, ...args });
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0].field).toBe(field);
    expect(issues[0].message).toMatch(message);
  });
});
