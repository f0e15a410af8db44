import { SGLANG_LIMITS } from '../../../core/knowledge/sglang';
import { TGI_LIMITS } from '../../../core/knowledge/tgi';
import { VLLM_LIMITS } from '../../../core/knowledge/vllm';
import { numberArg, runningPerReplica, scaleDown, scaleUp, stepDown, stepUp } from '../../../core/knowledge/rule';
import type { EngineArgs, EngineType, Snapshot } from '../../../models';
import { planFor } from './planFixture';
import { snapshot } from './snapshotFixture';

const SYMPTOMS: Array<Partial<Snapshot>> = [
  { kv_cache_usage: 0.97 },
  { preemptions_per_second: 2 },
  { ttft_p95_ms: 2000 },
  { itl_p95_ms: 120 },
  { requests_waiting: 400 },
  { error_rate: 0.2, requests_waiting: 2000 },
  { prefix_cache_hit_rate: 0.6 },
];

/** Every combination of the symptoms above. */
function* pictures(): Generator<Partial<Snapshot>> {
  for (let mask = 0; mask < 1 << SYMPTOMS.length; mask++) {
    yield Object.assign({}, ...SYMPTOMS.filter((_, i) => mask & (1 << i)));
  }
}

type Limits = Record<string, { min?: number; max?: number }>;
const LIMITS: Record<EngineType, Limits> = {
  vllm: VLLM_LIMITS,
  sglang: SGLANG_LIMITS as unknown as Limits,
  tgi: TGI_LIMITS as unknown as Limits,
};

/** Arg sets per engine: unreported, engine defaults, and values sitting at or past each limit. */
const ARGS: Record<EngineType, EngineArgs[]> = {
  vllm: [
    {},
    { max_num_seqs: 256, gpu_memory_utilization: 0.9, enable_prefix_caching: false, max_num_batched_tokens: 2048 },
    { max_num_seqs: 1024, gpu_memory_utilization: 0.95, enable_prefix_caching: true, max_num_batched_tokens: 16384 },
    { max_num_seqs: 8, gpu_memory_utilization: 0.95, enable_prefix_caching: true, max_num_batched_tokens: 2048 },
  ],
  sglang: [
    {},
    { mem_fraction_static: 0.88, schedule_conservativeness: 1, chunked_prefill_size: 8192, max_running_requests: 10 },
    { mem_fraction_static: 0.93, schedule_conservativeness: 1.5, chunked_prefill_size: 16384, max_running_requests: 4096 },
    { mem_fraction_static: 0.93, schedule_conservativeness: 0.3, chunked_prefill_size: 2048, max_running_requests: 16, disable_radix_cache: true },
  ],
  tgi: [
    {},
    { max_concurrent_requests: 128, max_batch_prefill_tokens: 4096, max_waiting_tokens: 20, waiting_served_ratio: 0.3, max_input_tokens: 4095, cuda_memory_fraction: 1 },
    { max_concurrent_requests: 1024, max_batch_prefill_tokens: 32768, max_batch_total_tokens: 1_048_576, max_waiting_tokens: 100, waiting_served_ratio: 1.2, cuda_memory_fraction: 1 },
    { max_concurrent_requests: 64, max_batch_prefill_tokens: 1024, max_input_tokens: 512, max_waiting_tokens: 5, cuda_memory_fraction: 0.5 },
  ],
};

describe('knowledge bases under every combination of symptoms', () => {
  for (const engine of ['vllm', 'sglang', 'tgi'] as const) {
    it(`${engine}: one change per flag, every number within the hard limits, no move past a limit`, () => {
      let planned = 0;
      for (const args of ARGS[engine]) {
        for (const picture of pictures()) {
          const p = planFor(engine, picture, args);
          const params = p.optimizations.map((o) => o.parameter);
          expect(new Set(params).size).toBe(params.length);
          for (const o of p.optimizations) {
            planned++;
            expect(o.proposed).not.toEqual(o.current);
            const limit = LIMITS[engine][o.parameter];
            if (typeof o.proposed !== 'number' || !limit) continue;
            // A limit bounds the direction of travel: a raise never ends above max, a cut never below min
            // (raising a value that sits below min, toward the range, is allowed).
            const from = typeof o.current === 'number' ? o.current : undefined;
            const raise = from === undefined || o.proposed > from;
            const cut = from === undefined || o.proposed < from;
            if (raise && limit.max !== undefined) expect(o.proposed).toBeLessThanOrEqual(limit.max);
            if (cut && limit.min !== undefined) expect(o.proposed).toBeGreaterThanOrEqual(limit.min);
          }
        }
      }
      expect(planned).toBeGreaterThan(0);
    });
  }
});

describe('rule helpers', () => {
  it('step and scale within bounds, and refuse non-numbers and non-moves', () => {
    expect(stepUp(0.9, 0.05, 0.95)).toBe(0.95);
    expect(stepUp(0.95, 0.05, 0.95)).toBeNull();
    expect(stepUp('x', 0.05, 1)).toBeNull();
    expect(stepDown(1, 0.3, 0.3)).toBe(0.7);
    expect(stepDown(0.3, 0.3, 0.3)).toBeNull();
    expect(stepDown(null, 0.3, 0.3)).toBeNull();
    expect(scaleUp(256, 1.5, 1024)).toBe(384);
    expect(scaleUp(true, 1.5, 1024)).toBeNull();
    expect(scaleDown(256, 0.75, 8)).toBe(192);
    expect(scaleDown(8, 0.75, 8)).toBeNull();
    expect(scaleDown('8', 0.75, 8)).toBeNull();
  });

  it('read numeric args and running requests per replica', () => {
    expect(numberArg({ a: 0.95 }, 'a', 0.9)).toBe(0.95);
    expect(numberArg({ a: null }, 'a', 0.9)).toBe(0.9);
    expect(runningPerReplica(snapshot({ requests_running: 50, replicas: 10 }))).toBe(5);
    expect(runningPerReplica(snapshot({ requests_running: null }))).toBeNull();
    expect(runningPerReplica(snapshot({ replicas: 0 }))).toBeNull();
  });
});
