import type { EngineArgs } from '../../models';
import { familyHeader, multiprocessHistogramSamples, sample, type Labels } from '../prom';
import type { Accumulated, ObservationStream, Performance } from './types';
import type { SglangArgs } from './sglang';

/**
 * SGLang's `/metrics` page for the simulated replica (`--enable-metrics`), as
 * `python/sglang/srt/metrics/collector.py` (commit 00ae9c15, late 2025) registers it and prometheus_client's
 * multiprocess mode renders it: tokenizer-side metrics labelled `{model_name}`, scheduler-side metrics
 * labelled `{engine_type, model_name, moe_ep_rank, pp_rank, tp_rank}` (labels sorted by name), histograms
 * as `_sum` → buckets → `_count`, no process/python collectors, values via `floatToGoString`.
 */

export const SGLANG_MODEL_NAME = 'meta-llama/Llama-3.1-8B-Instruct';
export const SGLANG_VERSION = '0.5.6';
/** pid label of the `all`-mode gauge (prometheus_client multiprocess adds it). */
const SCHEDULER_PID = '4242';

const TOKENIZER_LABELS: Labels = { model_name: SGLANG_MODEL_NAME };
const SCHEDULER_LABELS: Labels = { engine_type: 'unified', model_name: SGLANG_MODEL_NAME, moe_ep_rank: '0', pp_rank: '0', tp_rank: '0' };

/** collector.py default buckets. */
const TTFT_BUCKETS = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400];
const E2E_BUCKETS = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400];
const ITL_BUCKETS = [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8];
const QUEUE_BUCKETS = [0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000];
const RETRACTION_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 75, 100];

export const SGLANG_HISTOGRAM_BUCKETS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  'sglang:time_to_first_token_seconds': TTFT_BUCKETS,
  'sglang:inter_token_latency_seconds': ITL_BUCKETS,
  'sglang:e2e_request_latency_seconds': E2E_BUCKETS,
  'sglang:num_retractions': RETRACTION_BUCKETS,
  'sglang:queue_time_seconds': QUEUE_BUCKETS,
});

const x = (perf: Performance, name: string) => perf.extra?.[name] ?? 0;

export function sglangCounterRates(perf: Performance): Record<string, number> {
  const retractions = perf.preemptions_per_second;
  return {
    prompt_tokens: perf.prompt_tokens_per_second,
    generation_tokens: perf.generation_tokens_per_second,
    cached_tokens: perf.prefix_cache_hits_per_second,
    num_requests: perf.offered_rps,
    num_aborted_requests: perf.offered_rps * perf.error_fraction,
    num_retracted_requests: retractions,
    num_retracted_input_tokens: retractions * x(perf, 'retracted_input_tokens_per_request'),
    num_retracted_output_tokens: retractions * x(perf, 'retracted_output_tokens_per_request'),
  };
}

/** P(X ≤ b) for a Poisson count with mean μ (retractions of one request). */
function poissonCdf(b: number, mu: number): number {
  if (b < 0) return 0;
  if (!(mu > 0)) return 1;
  let term = Math.exp(-mu);
  let total = term;
  for (let k = 1; k <= Math.floor(b); k++) {
    term *= mu / k;
    total += term;
    if (term < 1e-16 && k > mu) break;
  }
  return Math.min(1, total);
}

export function sglangObservations(perf: Performance): Record<string, ObservationStream> {
  const served = perf.served_rps;
  const tokensPerRequest = served > 0 ? perf.generation_tokens_per_second / served : 0;
  const mu = x(perf, 'retractions_per_request');
  return {
    'sglang:time_to_first_token_seconds': { ...perf.ttft, rate: served },
    // Observed in bulk: every new token counts once (the bucket count grows by num_new_tokens).
    'sglang:inter_token_latency_seconds': { ...perf.itl, rate: served * Math.max(0, tokensPerRequest - 1) },
    'sglang:e2e_request_latency_seconds': { ...perf.e2e, rate: served },
    'sglang:num_retractions': { median: 1, sigma: 1, rate: served, cdf: (b) => poissonCdf(b, mu), mean: mu },
    'sglang:queue_time_seconds': { ...perf.queue, rate: served },
  };
}

const COUNTERS: ReadonlyArray<[string, string, Labels, string]> = [
  ['prompt_tokens', 'sglang:prompt_tokens_total', TOKENIZER_LABELS, 'Number of prefill tokens processed.'],
  ['generation_tokens', 'sglang:generation_tokens_total', TOKENIZER_LABELS, 'Number of generation tokens processed.'],
  ['cached_tokens', 'sglang:cached_tokens_total', TOKENIZER_LABELS, 'Number of cached prompt tokens.'],
  ['num_requests', 'sglang:num_requests_total', TOKENIZER_LABELS, 'Number of requests processed.'],
  ['num_aborted_requests', 'sglang:num_aborted_requests_total', TOKENIZER_LABELS, 'Number of requests aborted.'],
  ['num_retracted_requests', 'sglang:num_retracted_requests_total', SCHEDULER_LABELS, 'Total number of retracted requests.'],
  ['num_retracted_input_tokens', 'sglang:num_retracted_input_tokens_total', SCHEDULER_LABELS, 'Total number of retracted input tokens.'],
  ['num_retracted_output_tokens', 'sglang:num_retracted_output_tokens_total', SCHEDULER_LABELS, 'Total number of retracted output tokens.'],
];

const GAUGES: ReadonlyArray<[string, string, (perf: Performance) => number, Labels?]> = [
  ['sglang:num_running_reqs', 'The number of running requests.', (p) => p.running],
  ['sglang:num_used_tokens', 'The number of used tokens.', (p) => x(p, 'used_tokens')],
  ['sglang:token_usage', 'The token usage.', (p) => p.kv_cache_usage],
  ['sglang:decode_sum_seq_lens', 'The sum of all sequence lengths in decode.', (p) => (p.served_rps > 0 ? p.running * (p.prompt_tokens_per_second / p.served_rps + p.generation_tokens_per_second / p.served_rps / 2) : 0)],
  ['sglang:gen_throughput', 'The generation throughput (token/s).', (p) => p.generation_tokens_per_second],
  ['sglang:num_queue_reqs', 'The number of requests in the waiting queue.', (p) => p.waiting],
  ['sglang:num_grammar_queue_reqs', 'The number of requests in the grammar waiting queue.', () => 0],
  ['sglang:cache_hit_rate', 'The prefix cache hit rate.', (p) => (p.prefix_cache_queries_per_second > 0 ? p.prefix_cache_hits_per_second / p.prefix_cache_queries_per_second : 0)],
  ['sglang:max_total_num_tokens', 'Maximum total number of tokens in the KV cache pool.', (p) => x(p, 'max_total_num_tokens')],
  ['sglang:num_retracted_reqs', 'The number of retracted requests.', (p) => x(p, 'retracted_waiting'), { pid: SCHEDULER_PID }],
  ['sglang:new_token_ratio', 'The new token ratio.', (p) => x(p, 'new_token_ratio')],
  ['sglang:is_cuda_graph', 'Whether the batch is using CUDA graph.', (p) => x(p, 'cuda_graph')],
];

const HISTOGRAMS: ReadonlyArray<[string, Labels, string]> = [
  ['sglang:time_to_first_token_seconds', TOKENIZER_LABELS, 'Histogram of time to first token in seconds.'],
  ['sglang:inter_token_latency_seconds', TOKENIZER_LABELS, 'Histogram of inter-token latency in seconds.'],
  ['sglang:e2e_request_latency_seconds', TOKENIZER_LABELS, 'Histogram of End-to-end request latency in seconds'],
  ['sglang:num_retractions', TOKENIZER_LABELS, 'Histogram of retraction counts per request.'],
  ['sglang:queue_time_seconds', SCHEDULER_LABELS, 'Histogram of queueing time in seconds.'],
];

export function renderSglangMetrics(acc: Accumulated, perf: Performance, _args: EngineArgs): string {
  const lines: string[] = [];
  // prometheus_client multiprocess mode only writes a labelled child once it has been used, so a
  // counter or histogram is absent until its first increment/observation (e.g. no retraction counters
  // before the first retraction); the scheduler's gauges are set at every log interval.
  for (const [k, name, labels, help] of COUNTERS) {
    const v = acc.counters[k] ?? 0;
    if (v > 0) lines.push(...familyHeader(name, 'counter', help), sample(name, labels, v));
  }
  for (const [name, help, value, extraLabels] of GAUGES) {
    lines.push(...familyHeader(name, 'gauge', help), sample(name, { ...SCHEDULER_LABELS, ...extraLabels }, value(perf)));
  }
  for (const [name, labels, help] of HISTOGRAMS) {
    const h = acc.histograms[name];
    if (!(h.count > 0)) continue;
    lines.push(...familyHeader(name, 'histogram', help), ...multiprocessHistogramSamples(name, labels, SGLANG_HISTOGRAM_BUCKETS[name], h.buckets, h.count, h.sum));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `GET /get_server_info`: the server args (as `dataclasses.asdict(server_args)`, a subset), the scheduler
 * info (`max_total_num_tokens`, `max_req_input_len`), `internal_states` and `version`.
 */
export function renderSglangServerInfo(a: SglangArgs, maxTotalNumTokens: number, maxRunningRequests: number, perf: Performance): Record<string, unknown> {
  const contextLength = a.contextLength ?? 131072;
  return {
    model_path: SGLANG_MODEL_NAME,
    tokenizer_path: SGLANG_MODEL_NAME,
    served_model_name: SGLANG_MODEL_NAME,
    host: '0.0.0.0',
    port: 30000,
    dtype: 'auto',
    kv_cache_dtype: a.kvCacheDtype,
    quantization: a.quantization,
    context_length: a.contextLength,
    mem_fraction_static: a.memFractionStatic,
    max_running_requests: a.maxRunningRequests,
    max_total_tokens: a.maxTotalTokens,
    chunked_prefill_size: a.chunkedPrefillSize,
    max_prefill_tokens: a.maxPrefillTokens,
    schedule_policy: a.schedulePolicy,
    schedule_conservativeness: a.scheduleConservativeness,
    page_size: a.pageSize,
    tp_size: 1,
    dp_size: 1,
    stream_interval: a.streamInterval,
    disable_radix_cache: a.disableRadixCache,
    cuda_graph_max_bs: a.cudaGraphMaxBs,
    disable_cuda_graph: a.disableCudaGraph,
    enable_mixed_chunk: a.enableMixedChunk,
    disable_overlap_schedule: a.disableOverlapSchedule,
    enable_torch_compile: a.enableTorchCompile,
    enable_metrics: true,
    max_total_num_tokens: maxTotalNumTokens,
    max_req_input_len: Math.min(contextLength - 1, maxTotalNumTokens - 1),
    internal_states: [
      {
        max_running_requests: maxRunningRequests,
        last_gen_throughput: perf.generation_tokens_per_second,
        memory_usage: { weight: 16.06, kvcache: +((maxTotalNumTokens * 131072) / 1e9).toFixed(2), token_capacity: maxTotalNumTokens, graph: +(a.disableCudaGraph ? 0 : 0.002 * a.cudaGraphMaxBs).toFixed(2) },
      },
    ],
    version: SGLANG_VERSION,
  };
}
