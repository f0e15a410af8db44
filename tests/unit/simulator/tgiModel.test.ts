import type { EngineArgs, Load } from '../../../models';
import { degradePerformance } from '../../../simulator/degrade';
import {
  TGI_DEFAULT_ARGS,
  TGI_DEFAULT_LOAD,
  tgiMaxBatchTotalTokens,
  tgiMemoryCapacityTokens,
  tgiPerformance,
  validateTgiArgs,
} from '../../../simulator/engines/tgi';
import { figuresOf } from '../../../simulator/figures';

/** Per-replica share of the default load on the default 10 replicas. */
const LOAD: Load = { ...TGI_DEFAULT_LOAD, requests_per_second: TGI_DEFAULT_LOAD.requests_per_second / 10 };
const DEFAULT: EngineArgs = { ...TGI_DEFAULT_ARGS };
/** The launcher docs' fix for a queue that waits on prefills: a bigger prefill budget, joins more often. */
const TUNED: EngineArgs = { ...TGI_DEFAULT_ARGS, max_batch_prefill_tokens: 8192, max_waiting_tokens: 8 };

const perf = (args: EngineArgs, load: Load = LOAD) => tgiPerformance({ ...DEFAULT, ...args }, load);
const fig = (args: EngineArgs, load: Load = LOAD) => figuresOf(perf(args, load));

describe('TGI performance model: calibration under the default load', () => {
  const d = fig(DEFAULT);

  it('default args queue behind the prefill budget: high TTFT, a standing queue, no preemption metric', () => {
    expect(d.ttft_p95_ms).toBeGreaterThan(3000);
    expect(d.ttft_p95_ms).toBeLessThan(8000);
    expect(d.itl_p95_ms).toBeGreaterThan(30);
    expect(d.itl_p95_ms).toBeLessThan(60);
    expect(d.waiting).toBeGreaterThan(4);
    expect(d.error_rate).toBeGreaterThan(0.002);
    expect(d.error_rate).toBeLessThan(0.005);
    expect(d.preemptions_per_second).toBe(0);
    const p = perf(DEFAULT);
    // Each prefill admits what fits in 4096 uncached tokens (1536 per request here), and the queue
    // mostly reaches the waiting_served_ratio threshold before max_waiting_tokens steps pass.
    expect(p.extra!.next_batch_size).toBeCloseTo(4096 / (2048 * 0.75), 6);
    expect(p.extra!.backpressure_share).toBeGreaterThan(0.8);
  });

  it('the tuned args (max_batch_prefill_tokens 8192, max_waiting_tokens 8) cut TTFT p95 by far more than half', () => {
    const t = fig(TUNED);
    expect(t.ttft_p95_ms).toBeLessThan(0.2 * d.ttft_p95_ms);
    expect(t.e2e_p95_ms).toBeLessThan(d.e2e_p95_ms);
    expect(t.error_rate).toBeLessThanOrEqual(d.error_rate);
    expect(t.waiting).toBeLessThan(0.2 * d.waiting);
    // Joining more often costs a little decode time (more prefills interrupt the batch).
    expect(t.itl_p95_ms).toBeGreaterThan(d.itl_p95_ms);
    expect(t.itl_p95_ms).toBeLessThan(1.25 * d.itl_p95_ms);
  });

  it('either flag alone already helps', () => {
    expect(fig({ max_batch_prefill_tokens: 8192 }).ttft_p95_ms).toBeLessThan(0.5 * d.ttft_p95_ms);
    expect(fig({ max_waiting_tokens: 8 }).ttft_p95_ms).toBeLessThan(0.5 * d.ttft_p95_ms);
  });

  it('max_waiting_tokens: 0 makes every step a join (lowest TTFT, highest ITL), 100 makes arrivals wait', () => {
    const zero = fig({ max_waiting_tokens: 0 });
    expect(zero.ttft_p95_ms).toBeLessThan(0.2 * d.ttft_p95_ms);
    expect(zero.itl_p95_ms).toBeGreaterThan(1.1 * d.itl_p95_ms);
    expect(fig({ max_waiting_tokens: 100 }).ttft_p95_ms).toBeGreaterThan(d.ttft_p95_ms);
  });

  it('waiting_served_ratio sets the backpressure threshold: higher waits longer', () => {
    expect(fig({ waiting_served_ratio: 1.2 }).ttft_p95_ms).toBeGreaterThan(1.5 * d.ttft_p95_ms);
    expect(fig({ waiting_served_ratio: 0.1 }).ttft_p95_ms).toBeLessThan(d.ttft_p95_ms);
  });

  it('max_concurrent_requests far too low refuses requests as overloaded', () => {
    const p = perf({ max_concurrent_requests: 16 });
    expect(p.error_fraction).toBeGreaterThan(0.1);
    expect(p.extra!.overloaded_fraction).toBeGreaterThan(0.9 * (p.error_fraction - 0.002));
    expect(p.running).toBeLessThanOrEqual(16);
  });

  it('a small token budget (max_batch_total_tokens, cuda_memory_fraction) queues for KV and raises usage', () => {
    for (const args of [{ max_batch_total_tokens: 30000 }, { cuda_memory_fraction: 0.7 }] as EngineArgs[]) {
      const f = fig(args);
      expect(f.ttft_p95_ms).toBeGreaterThan(d.ttft_p95_ms);
      expect(f.kv_cache_usage).toBeGreaterThan(0.9);
    }
    expect(tgiMaxBatchTotalTokens({ ...DEFAULT, max_batch_total_tokens: 30000 })).toBe(30000);
    expect(tgiMaxBatchTotalTokens(DEFAULT)).toBe(Math.floor(tgiMemoryCapacityTokens(DEFAULT)));
  });

  it('fp8 KV cache doubles the token budget; fp8 weights free memory and speed decoding', () => {
    expect(tgiMemoryCapacityTokens({ ...DEFAULT, kv_cache_dtype: 'fp8_e5m2' })).toBeCloseTo(2 * tgiMemoryCapacityTokens(DEFAULT), 6);
    expect(tgiMemoryCapacityTokens({ ...DEFAULT, quantize: 'fp8' })).toBeGreaterThan(tgiMemoryCapacityTokens(DEFAULT));
    expect(fig({ quantize: 'fp8' }).itl_p95_ms).toBeLessThan(d.itl_p95_ms);
    expect(fig({ quantize: 'bitsandbytes' }).itl_p95_ms).toBeGreaterThan(d.itl_p95_ms);
  });

  it('prompts that do not fit max_input_tokens / max_total_tokens fail validation', () => {
    const long = perf(DEFAULT, { ...LOAD, prompt_tokens: 4000 });
    expect(long.extra!.validation_failure_fraction).toBeGreaterThan(0.4);
    expect(long.error_fraction).toBeGreaterThan(0.4);
    expect(perf(DEFAULT).extra!.validation_failure_fraction).toBeLessThan(1e-3);
  });

  it('degrade severity 0.4 on a tuned replica is clearly worse than the default', () => {
    const base = perf(DEFAULT);
    const bad = figuresOf(degradePerformance(perf(TUNED), base, 0.4));
    expect(bad.ttft_p95_ms).toBeCloseTo(1.4 * d.ttft_p95_ms, 6);
    expect(bad.e2e_p95_ms).toBeCloseTo(1.4 * d.e2e_p95_ms, 6);
    expect(bad.itl_p95_ms).toBeCloseTo(1.4 * fig(TUNED).itl_p95_ms, 6);
    expect(bad.error_rate).toBeCloseTo(d.error_rate + 0.1, 9);
  });

  it('TTFT p95 and error rate never improve as offered load grows', () => {
    for (const args of [DEFAULT, TUNED]) {
      let prev = fig(args, { ...LOAD, requests_per_second: 0.25 });
      for (let rps = 0.5; rps <= 12; rps += 0.25) {
        const f = fig(args, { ...LOAD, requests_per_second: rps });
        expect(f.ttft_p95_ms).toBeGreaterThanOrEqual(prev.ttft_p95_ms - 1e-6);
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

describe('TGI engine args validation (launcher and warmup checks)', () => {
  it('accepts the defaults, the tuned args, null (= default) and other known flags', () => {
    expect(validateTgiArgs(DEFAULT)).toEqual([]);
    expect(validateTgiArgs(TUNED)).toEqual([]);
    expect(validateTgiArgs({ max_batch_total_tokens: null, max_waiting_tokens: 0, waiting_served_ratio: 1.2 })).toEqual([]);
    expect(validateTgiArgs({ quantize: 'fp8', kv_cache_dtype: 'fp8_e4m3fn', max_batch_total_tokens: 60000, max_batch_size: 64 })).toEqual([]);
  });

  it.each<[EngineArgs, string, RegExp]>([
    [{ max_batch_prefil_tokens: 8192 }, 'engine_args.max_batch_prefil_tokens', /unrecognized/],
    [{ max_concurrent_requests: 0 }, 'engine_args.max_concurrent_requests', /at least 1/],
    [{ max_waiting_tokens: 2.5 }, 'engine_args.max_waiting_tokens', /integer/],
    [{ cuda_memory_fraction: 0 }, 'engine_args.cuda_memory_fraction', /greater than 0/],
    [{ cuda_memory_fraction: 1.2 }, 'engine_args.cuda_memory_fraction', /at most 1/],
    [{ quantize: 'int3' }, 'engine_args.quantize', /one of/],
    [{ quantize: 'awq' }, 'engine_args.quantize', /quantized/],
    [{ quantize: 'fp8', dtype: 'bfloat16' }, 'engine_args.dtype', /cannot be used with `--quantize`/],
    [{ max_input_tokens: 4096 }, 'engine_args.max_input_tokens', /must be < `max_total_tokens`/],
    [{ max_batch_prefill_tokens: 2048 }, 'engine_args.max_batch_prefill_tokens', /must be >= `max_input_tokens`/],
    [{ max_batch_total_tokens: 4000 }, 'engine_args.max_batch_prefill_tokens', /must be <= `max_batch_total_tokens`/],
    [{ max_batch_total_tokens: 4100, max_total_tokens: 8192 }, 'engine_args.max_total_tokens', /`max_total_tokens` must be <= `max_batch_total_tokens`/],
    [{ max_batch_total_tokens: 500000 }, 'engine_args.max_batch_total_tokens', /Not enough memory to handle 500000 total tokens/],
    [{ max_batch_prefill_tokens: 300000 }, 'engine_args.max_batch_prefill_tokens', /Not enough memory to handle 300000 prefill tokens/],
    [{ cuda_memory_fraction: 0.52 }, 'engine_args.cuda_memory_fraction', /Not enough memory/],
  ])('refuses %j', (args, field, message) => {
    const issues = validateTgiArgs({ ...DEFAULT, ...args });
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0].field).toBe(field);
    expect(issues[0].message).toMatch(message);
  });
});
