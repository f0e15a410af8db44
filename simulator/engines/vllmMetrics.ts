import type { EngineArgs } from '../../models';
import { familyHeader, histogramLines, pyFloat, sample, type Labels } from '../prom';
import type { Accumulated, ObservationStream, Performance } from './types';

/** vLLM V1's `/metrics` page for the simulated replica: real names, HELP texts, types and buckets. */

export const VLLM_MODEL_NAME = 'meta-llama/Llama-3.1-8B-Instruct';
const LABELS: Labels = { model_name: VLLM_MODEL_NAME, engine: '0' };

/** vllm/v1/metrics/loggers.py bucket boundaries. */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

export const VLLM_HISTOGRAM_BUCKETS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  'vllm:time_to_first_token_seconds': TTFT_BUCKETS,
  'vllm:inter_token_latency_seconds': ITL_BUCKETS,
  'vllm:e2e_request_latency_seconds': REQUEST_LATENCY_BUCKETS,
  'vllm:request_queue_time_seconds': REQUEST_LATENCY_BUCKETS,
});

const HISTOGRAM_HELP: Readonly<Record<string, string>> = {
  'vllm:time_to_first_token_seconds': 'Histogram of time to first token in seconds.',
  'vllm:inter_token_latency_seconds': 'Histogram of inter-token latency in seconds.',
  'vllm:e2e_request_latency_seconds': 'Histogram of e2e request latency in seconds.',
  'vllm:request_queue_time_seconds': 'Histogram of time spent in WAITING phase for request.',
};

/** Counters: accumulator key → [exposed name, extra labels, HELP]. */
const COUNTERS: ReadonlyArray<[string, string, Labels, string]> = [
  ['prefix_cache_queries', 'vllm:prefix_cache_queries_total', {}, 'Prefix cache queries, in terms of number of queried tokens.'],
  ['prefix_cache_hits', 'vllm:prefix_cache_hits_total', {}, 'Prefix cache hits, in terms of number of cached tokens.'],
  ['num_preemptions', 'vllm:num_preemptions_total', {}, 'Cumulative number of preemption from the engine.'],
  ['prompt_tokens', 'vllm:prompt_tokens_total', {}, 'Number of prefill tokens processed.'],
  ['generation_tokens', 'vllm:generation_tokens_total', {}, 'Number of generation tokens processed.'],
];
const FINISHED_REASONS = ['stop', 'length', 'abort'] as const;
/** Of the requests that finish without error, the share that hit a stop token (the rest hit max_tokens). */
const STOP_SHARE = 0.7;

export function vllmCounterRates(perf: Performance): Record<string, number> {
  const ok = perf.offered_rps * (1 - perf.error_fraction);
  return {
    prefix_cache_queries: perf.prefix_cache_queries_per_second,
    prefix_cache_hits: perf.prefix_cache_hits_per_second,
    num_preemptions: perf.preemptions_per_second,
    prompt_tokens: perf.prompt_tokens_per_second,
    generation_tokens: perf.generation_tokens_per_second,
    'request_success:stop': ok * STOP_SHARE,
    'request_success:length': ok * (1 - STOP_SHARE),
    'request_success:abort': perf.offered_rps * perf.error_fraction,
  };
}

export function vllmObservations(perf: Performance): Record<string, ObservationStream> {
  const tokensPerRequest = perf.served_rps > 0 ? perf.generation_tokens_per_second / perf.served_rps : 0;
  return {
    'vllm:time_to_first_token_seconds': { ...perf.ttft, rate: perf.served_rps },
    // One observation per gap between consecutive output tokens.
    'vllm:inter_token_latency_seconds': { ...perf.itl, rate: perf.served_rps * Math.max(0, tokensPerRequest - 1) },
    'vllm:e2e_request_latency_seconds': { ...perf.e2e, rate: perf.served_rps },
    'vllm:request_queue_time_seconds': { ...perf.queue, rate: perf.served_rps },
  };
}

export interface VllmCacheConfig {
  blockSize: number;
  cacheDtype: string;
  gpuMemoryUtilization: number;
  enablePrefixCaching: boolean;
  numGpuBlocks: number;
}

const pyBool = (b: boolean) => (b ? 'True' : 'False');

export function renderVllmMetrics(acc: Accumulated, perf: Performance, _args: EngineArgs, cache: VllmCacheConfig): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number) => {
    lines.push(...familyHeader(name, 'gauge', help), sample(name, LABELS, value));
  };
  gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', perf.running);
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', perf.waiting);
  gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', perf.kv_cache_usage);
  for (const [key, name, extra, help] of COUNTERS) {
    lines.push(...familyHeader(name, 'counter', help), sample(name, { ...LABELS, ...extra }, acc.counters[key] ?? 0));
  }
  lines.push(...familyHeader('vllm:request_success_total', 'counter', 'Count of successfully processed requests.'));
  for (const reason of FINISHED_REASONS) {
    lines.push(sample('vllm:request_success_total', { ...LABELS, finished_reason: reason }, acc.counters[`request_success:${reason}`] ?? 0));
  }
  for (const [name, bounds] of Object.entries(VLLM_HISTOGRAM_BUCKETS)) {
    const h = acc.histograms[name];
    lines.push(...histogramLines(name, HISTOGRAM_HELP[name], LABELS, bounds, h.buckets, h.count, h.sum));
  }
  lines.push(...familyHeader('vllm:cache_config_info', 'gauge', 'Information of the LLMEngine CacheConfig'));
  lines.push(
    sample(
      'vllm:cache_config_info',
      {
        block_size: String(cache.blockSize),
        cache_dtype: cache.cacheDtype,
        calculate_kv_scales: 'False',
        cpu_offload_gb: '0',
        enable_prefix_caching: pyBool(cache.enablePrefixCaching),
        engine: '0',
        gpu_memory_utilization: pyFloat(cache.gpuMemoryUtilization),
        is_attention_free: 'False',
        num_cpu_blocks: 'None',
        num_gpu_blocks: String(cache.numGpuBlocks),
        num_gpu_blocks_override: 'None',
        prefix_caching_hash_algo: 'builtin',
        sliding_window: 'None',
        swap_space: '4',
        swap_space_bytes: '4294967296',
      },
      1,
    ),
  );
  return `${lines.join('\n')}\n`;
}
