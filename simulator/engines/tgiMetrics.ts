import type { EngineArgs } from '../../models';
import { rustFloat, rustHistogramSamples, rustSample, type Labels } from '../prom';
import type { Accumulated, ObservationStream, Performance } from './types';
import type { TgiArgs } from './tgi';

/**
 * TGI's `/metrics` page for the simulated replica, as the router (text-generation-router 3.x,
 * `router/src/server.rs` + `backends/v3`) exposes it through metrics-exporter-prometheus: names without
 * `_total`, no global labels (only `method`/`err`/`reason`), `le` after the other labels, Rust float
 * formatting, histogram lines as buckets → `_sum` → `_count`, and a blank line after every family.
 * Families without a `describe_*` call have no HELP line (tgi_request_failure, tgi_batch_concat,
 * tgi_batch_concat_duration, tgi_batch_max_total_tokens). Counts are fluid floats (real TGI prints integers).
 */

export const TGI_MODEL_ID = 'meta-llama/Llama-3.1-8B-Instruct';
export const TGI_VERSION = '3.3.5';

/** server.rs: every `*_duration` histogram has 35 buckets 1e-4 × 1.5^k, k = 1..35 (computed by repeated ×1.5). */
export const TGI_DURATION_BUCKETS: readonly number[] = (() => {
  const out: number[] = [];
  let v = 0.0001;
  for (let i = 0; i < 35; i++) {
    v *= 1.5;
    out.push(v);
  }
  return out;
})();

/** server.rs: `max_tokens / 100 × (x + 1)` for x in 0..100. */
function lengthBuckets(maxTokens: number): number[] {
  return Array.from({ length: 100 }, (_, x) => (maxTokens / 100) * (x + 1));
}

/** server.rs: batch sizes 1..=1024. */
const BATCH_SIZE_BUCKETS: readonly number[] = Array.from({ length: 1024 }, (_, i) => i + 1);

/** max_input_tokens / max_total_tokens of a freshly launched replica (TGI_DEFAULT_ARGS uses these). */
export const TGI_LAUNCH_MAX_INPUT_TOKENS = 4095;
export const TGI_LAUNCH_MAX_TOTAL_TOKENS = 4096;

/**
 * Token-length buckets are fixed at launch from max_input_tokens / max_total_tokens. The simulator keeps
 * the launch defaults' buckets across config pushes (a real restart would re-bucket and reset counters).
 */
const INPUT_LENGTH_BUCKETS = lengthBuckets(TGI_LAUNCH_MAX_INPUT_TOKENS);
const TOTAL_TOKENS_BUCKETS = lengthBuckets(TGI_LAUNCH_MAX_TOTAL_TOKENS);

const METHODS = ['prefill', 'decode'] as const;
type Method = (typeof METHODS)[number];

/** Histograms with a `method` label are accumulated per method under `<name>|<method>`. */
const key = (name: string, method?: Method) => (method ? `${name}|${method}` : name);

const DURATION_FAMILIES_PLAIN = [
  'tgi_request_inference_duration',
  'tgi_request_duration',
  'tgi_request_validation_duration',
  'tgi_request_queue_duration',
  'tgi_request_mean_time_per_token_duration',
] as const;
const DURATION_FAMILIES_BY_METHOD = [
  'tgi_batch_forward_duration',
  'tgi_batch_filter_duration',
  'tgi_batch_inference_duration',
  'tgi_batch_decode_duration',
] as const;

export const TGI_HISTOGRAM_BUCKETS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  tgi_request_input_length: INPUT_LENGTH_BUCKETS,
  tgi_request_max_new_tokens: TOTAL_TOKENS_BUCKETS,
  tgi_request_generated_tokens: TOTAL_TOKENS_BUCKETS,
  tgi_batch_next_size: BATCH_SIZE_BUCKETS,
  ...Object.fromEntries(DURATION_FAMILIES_PLAIN.map((n) => [n, TGI_DURATION_BUCKETS])),
  ...Object.fromEntries(DURATION_FAMILIES_BY_METHOD.flatMap((n) => METHODS.map((mt) => [key(n, mt), TGI_DURATION_BUCKETS]))),
  [key('tgi_batch_concat_duration', 'decode')]: TGI_DURATION_BUCKETS,
});

/** `tgi_request_failure{err}` values the model produces. */
const FAILURE_KINDS = ['validation', 'overloaded', 'dropped', 'generation'] as const;

const x = (perf: Performance, name: string) => perf.extra?.[name] ?? 0;

export function tgiCounterRates(perf: Performance): Record<string, number> {
  const lambda = perf.offered_rps;
  const fail = {
    validation: lambda * x(perf, 'validation_failure_fraction'),
    overloaded: lambda * x(perf, 'overloaded_fraction'),
    dropped: lambda * x(perf, 'dropped_fraction'),
    generation: 0,
  };
  // Whatever the components do not explain (a degraded build) fails in generation.
  fail.generation = Math.max(0, lambda * perf.error_fraction - fail.validation - fail.overloaded - fail.dropped);
  const prefills = x(perf, 'prefills_per_second');
  const decodes = x(perf, 'decode_steps_per_second');
  const bp = x(perf, 'backpressure_share');
  // A prefill joins a running batch (a concat) whenever one is running.
  const concat = perf.running > 0.5 ? prefills : prefills * perf.running * 2;
  return {
    tgi_request_count: lambda,
    tgi_request_success: lambda * (1 - perf.error_fraction),
    ...Object.fromEntries(FAILURE_KINDS.map((k) => [`tgi_request_failure|${k}`, fail[k]])),
    'tgi_batch_concat|backpressure': concat * bp,
    'tgi_batch_concat|wait_exceeded': concat * (1 - bp),
    'tgi_batch_concat|chunking': x(perf, 'chunking_per_second'),
    'tgi_batch_inference_count|prefill': prefills,
    'tgi_batch_inference_count|decode': decodes,
    'tgi_batch_inference_success|prefill': prefills,
    'tgi_batch_inference_success|decode': decodes,
    // Every generated token passes the speculation summary (0 skipped without --speculate).
    tgi_request_skipped_tokens_count: perf.generation_tokens_per_second,
  };
}

/** A log-normal whose mean is `mean`. */
const withMean = (mean: number, sigma: number) => ({ median: Math.max(mean, 1e-9) / Math.exp((sigma * sigma) / 2), sigma });

export function tgiObservations(perf: Performance): Record<string, ObservationStream> {
  const served = perf.served_rps;
  const accepted = x(perf, 'accepted_rps');
  const prefills = x(perf, 'prefills_per_second');
  const decodes = x(perf, 'decode_steps_per_second');
  const ok = perf.offered_rps * (1 - perf.error_fraction);
  const queueMean = perf.queue.median * Math.exp((perf.queue.sigma * perf.queue.sigma) / 2);
  const prefillBatch = x(perf, 'prefill_batch_seconds');
  const decodeStep = x(perf, 'decode_step_seconds');
  const outputTokens = served > 0 ? perf.generation_tokens_per_second / served : 0;
  const promptTokens = served > 0 ? perf.prompt_tokens_per_second / served : 0;
  const streams: Record<string, ObservationStream> = {
    tgi_request_input_length: { median: Math.max(promptTokens, 1), sigma: 0.15, rate: accepted },
    tgi_request_max_new_tokens: { median: Math.max(x(perf, 'max_new_tokens'), 1), sigma: 0.001, rate: accepted },
    tgi_request_generated_tokens: { ...withMean(Math.max(outputTokens, 1), 0.5), rate: ok },
    tgi_batch_next_size: { median: Math.max(x(perf, 'next_batch_size'), 0.5), sigma: 0.4, rate: prefills },
    tgi_request_duration: { ...perf.e2e, rate: ok },
    tgi_request_validation_duration: { median: 0.0008, sigma: 0.5, rate: accepted },
    tgi_request_queue_duration: { ...perf.queue, rate: served },
    tgi_request_inference_duration: { median: Math.max(perf.e2e.median - queueMean, 1e-4), sigma: perf.e2e.sigma, rate: ok },
    tgi_request_mean_time_per_token_duration: { ...perf.itl, rate: ok },
    [key('tgi_batch_inference_duration', 'prefill')]: { median: prefillBatch, sigma: 0.3, rate: prefills },
    [key('tgi_batch_inference_duration', 'decode')]: { median: decodeStep, sigma: 0.15, rate: decodes },
    [key('tgi_batch_forward_duration', 'prefill')]: { median: prefillBatch * 0.93, sigma: 0.3, rate: prefills },
    [key('tgi_batch_forward_duration', 'decode')]: { median: decodeStep * 0.93, sigma: 0.15, rate: decodes },
    [key('tgi_batch_decode_duration', 'prefill')]: { median: 0.0004, sigma: 0.4, rate: prefills },
    [key('tgi_batch_decode_duration', 'decode')]: { median: 0.00012, sigma: 0.4, rate: decodes },
    [key('tgi_batch_filter_duration', 'prefill')]: { median: 0.0003, sigma: 0.4, rate: prefills },
    [key('tgi_batch_filter_duration', 'decode')]: { median: 0.0002, sigma: 0.4, rate: decodes },
    [key('tgi_batch_concat_duration', 'decode')]: { median: 0.0015, sigma: 0.4, rate: perf.running > 0.5 ? prefills : 0 },
  };
  return streams;
}

const HELP: Readonly<Record<string, string>> = {
  tgi_request_success: 'Number of successful requests',
  tgi_request_count: 'Total number of requests',
  tgi_batch_inference_success: 'Number of successful inference calls per method (prefill or decode)',
  tgi_batch_inference_count: 'Inference calls per method (prefill or decode)',
  tgi_queue_size: 'Current queue size',
  tgi_batch_current_max_tokens: 'Maximum tokens for the current batch',
  tgi_batch_current_size: 'Current batch size',
  tgi_request_input_length: 'Input token length per request',
  tgi_request_max_new_tokens: 'Maximum new tokens per request',
  tgi_request_inference_duration: 'Request inference duration',
  tgi_request_skipped_tokens: 'Speculated tokens per request',
  tgi_batch_forward_duration: 'Batch forward duration per method (prefill or decode)',
  tgi_request_duration: 'Request duration',
  tgi_request_validation_duration: 'Request validation duration',
  tgi_request_queue_duration: 'Request queue duration',
  tgi_batch_filter_duration: 'Time spent filtering batches and sending generated tokens per method (prefill or decode)',
  tgi_batch_inference_duration: 'Batch inference duration',
  tgi_request_mean_time_per_token_duration: 'Mean time per token per request',
  tgi_request_generated_tokens: 'Generated tokens per request',
  tgi_batch_decode_duration: 'Time spent decoding a batch per method (prefill or decode)',
  tgi_batch_next_size: 'Batch size of the next batch',
};

type Family =
  | { kind: 'counter'; name: string; series: Array<[Labels, string]> }
  | { kind: 'gauge'; name: string; value: (perf: Performance) => number }
  | { kind: 'histogram'; name: string; methods?: readonly Method[] }
  | { kind: 'summary'; name: string };

/** Family order as in the TGI capture (fixtures/metrics/tgi-datadog-integrations-core.prom), plus v3's total-tokens gauge. */
const FAMILIES: readonly Family[] = [
  { kind: 'counter', name: 'tgi_request_success', series: [[{}, 'tgi_request_success']] },
  { kind: 'counter', name: 'tgi_batch_concat', series: (['backpressure', 'wait_exceeded', 'chunking'] as const).map((r) => [{ reason: r }, `tgi_batch_concat|${r}`]) },
  { kind: 'counter', name: 'tgi_request_count', series: [[{}, 'tgi_request_count']] },
  { kind: 'counter', name: 'tgi_request_failure', series: FAILURE_KINDS.map((k) => [{ err: k }, `tgi_request_failure|${k}`]) },
  { kind: 'counter', name: 'tgi_batch_inference_success', series: METHODS.map((mt) => [{ method: mt }, `tgi_batch_inference_success|${mt}`]) },
  { kind: 'counter', name: 'tgi_batch_inference_count', series: METHODS.map((mt) => [{ method: mt }, `tgi_batch_inference_count|${mt}`]) },
  { kind: 'gauge', name: 'tgi_queue_size', value: (p) => p.waiting },
  { kind: 'gauge', name: 'tgi_batch_current_max_tokens', value: (p) => x(p, 'reserved_tokens') },
  { kind: 'gauge', name: 'tgi_batch_current_size', value: (p) => p.running },
  { kind: 'gauge', name: 'tgi_batch_max_total_tokens', value: (p) => x(p, 'max_batch_total_tokens') },
  { kind: 'histogram', name: 'tgi_request_input_length' },
  { kind: 'histogram', name: 'tgi_request_max_new_tokens' },
  { kind: 'histogram', name: 'tgi_request_inference_duration' },
  { kind: 'summary', name: 'tgi_request_skipped_tokens' },
  { kind: 'histogram', name: 'tgi_batch_forward_duration', methods: METHODS },
  { kind: 'histogram', name: 'tgi_request_duration' },
  { kind: 'histogram', name: 'tgi_request_validation_duration' },
  { kind: 'histogram', name: 'tgi_request_queue_duration' },
  { kind: 'histogram', name: 'tgi_batch_filter_duration', methods: METHODS },
  { kind: 'histogram', name: 'tgi_batch_inference_duration', methods: METHODS },
  { kind: 'histogram', name: 'tgi_request_mean_time_per_token_duration' },
  { kind: 'histogram', name: 'tgi_batch_concat_duration', methods: ['decode'] },
  { kind: 'histogram', name: 'tgi_request_generated_tokens' },
  { kind: 'histogram', name: 'tgi_batch_decode_duration', methods: METHODS },
  { kind: 'histogram', name: 'tgi_batch_next_size' },
];

const SUMMARY_QUANTILES = ['0', '0.5', '0.9', '0.95', '0.99', '0.999', '1'];

/**
 * Gauges are steady-state means and counts are fluid, so even short windows give the modelled rates.
 * As with the `metrics` crate, a counter or histogram series appears only once it has been updated (a
 * fresh replica shows no `tgi_request_failure` until something fails); the gauges are always set.
 */
export function renderTgiMetrics(acc: Accumulated, perf: Performance, _args: EngineArgs): string {
  const blocks: string[] = [];
  for (const fam of FAMILIES) {
    const lines: string[] = [];
    const help = HELP[fam.name];
    if (help) lines.push(`# HELP ${fam.name} ${help}`);
    lines.push(`# TYPE ${fam.name} ${fam.kind}`);
    switch (fam.kind) {
      case 'counter': {
        const present = fam.series.filter(([, k]) => (acc.counters[k] ?? 0) > 0);
        if (present.length === 0) continue;
        for (const [labels, k] of present) lines.push(rustSample(fam.name, labels, acc.counters[k] ?? 0));
        break;
      }
      case 'gauge':
        lines.push(rustSample(fam.name, {}, fam.value(perf)));
        break;
      case 'summary': {
        const count = acc.counters[`${fam.name}_count`] ?? 0;
        if (!(count > 0)) continue;
        for (const qv of SUMMARY_QUANTILES) lines.push(`${fam.name}{quantile="${qv}"} 0`);
        lines.push(`${fam.name}_sum 0`, `${fam.name}_count ${rustFloat(count)}`);
        break;
      }
      case 'histogram': {
        const present = (fam.methods ?? [undefined]).filter((method) => acc.histograms[key(fam.name, method)].count > 0);
        if (present.length === 0) continue;
        for (const method of present) {
          const k = key(fam.name, method);
          const h = acc.histograms[k];
          lines.push(...rustHistogramSamples(fam.name, method ? { method } : {}, TGI_HISTOGRAM_BUCKETS[k], h.buckets, h.count, h.sum));
        }
        break;
      }
    }
    blocks.push(`${lines.join('\n')}\n`);
  }
  // metrics-exporter-prometheus ends every family, the last one included, with a blank line.
  return blocks.map((b) => `${b}\n`).join('');
}

/**
 * `GET /info` of text-generation-router 3.x (`Info`), with the v3 backend's `BackendInfo` fields flattened in
 * (TGI 2.x returned them in `/info` itself; v3 builds them from the same launcher flags).
 */
export function renderTgiInfo(a: TgiArgs, maxBatchTotalTokens: number): Record<string, unknown> {
  return {
    model_id: TGI_MODEL_ID,
    model_sha: null,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: a.maxConcurrentRequests,
    max_best_of: a.maxBestOf,
    max_stop_sequences: a.maxStopSequences,
    max_input_tokens: a.maxInputTokens,
    max_total_tokens: a.maxTotalTokens,
    validation_workers: a.validationWorkers,
    max_client_batch_size: a.maxClientBatchSize,
    router: 'text-generation-router',
    version: TGI_VERSION,
    sha: null,
    docker_label: null,
    model_device_type: 'cuda',
    model_dtype: a.dtype === 'float16' ? 'torch.float16' : 'torch.bfloat16',
    speculate: 0,
    waiting_served_ratio: a.waitingServedRatio,
    max_batch_total_tokens: maxBatchTotalTokens,
    max_waiting_tokens: a.maxWaitingTokens,
    max_batch_size: a.maxBatchSize,
    support_chunking: true,
    prefix_caching: true,
    attention_impl: 'flashinfer',
    block_size: 1,
  };
}
