/**
 * SGLang `/metrics` → `EngineSample`. Names and semantics: tests/fixtures/metrics/METRICS.md §2
 * and SGLang's `python/sglang/srt/metrics/collector.py`.
 *
 * | EngineSample               | SGLang metric (`sglang:` prefix)                                          |
 * |----------------------------|---------------------------------------------------------------------------|
 * | requests_total             | `num_requests_total`; before it existed, `e2e_request_latency_seconds_count` |
 * | request_errors_total       | `num_aborted_requests_total`                                              |
 * | preemptions_total          | `num_retracted_requests_total` (retraction = SGLang's preemption)          |
 * | generation_tokens_total    | `generation_tokens_total`                                                 |
 * | prompt_tokens_total        | `prompt_tokens_total`                                                     |
 * | prefix_cache_queries/hits  | `prompt_tokens_total` / `cached_tokens_total` (both in tokens)            |
 * | requests_running           | `num_running_reqs`                                                        |
 * | requests_waiting           | `num_queue_reqs`                                                          |
 * | kv_cache_usage             | `kv_cache_usage_perc` (2026 docs) else `token_usage` (fraction 0–1)       |
 * | prefix_cache_hit_rate (gauge) | `cache_hit_rate`                                                       |
 * | ttft_seconds               | `time_to_first_token_seconds`                                             |
 * | itl_seconds                | `inter_token_latency_seconds`; older: `time_per_output_token_seconds`    |
 * | e2e_seconds                | `e2e_request_latency_seconds`                                             |
 *
 * Label sets changed across versions (`name` → `model_name` → + `engine_type` → + `tp_rank`,
 * `pp_rank`, `moe_ep_rank`, `dp_rank`, optional `request_type`/`http_status`/`priority`). Series
 * are summed over labels, except that series differing only in a parallel-rank label
 * (`tp_rank`, `pp_rank`, `moe_ep_rank`, …) repeat one scheduler's reading (with
 * `--enable-metrics-for-all-schedulers` every TP rank reports the same batch), so they count once
 * (max). `dp_rank` is NOT collapsed: each data-parallel rank schedules its own requests. KV usage
 * is averaged over what remains (one value per data-parallel rank), as vLLM's is over engines.
 *
 * Judgement calls and gaps:
 * - requests_total counts FINISHED requests (`observe_one_finished_request`), like vLLM's
 *   `request_success_total`. Pages older than `num_requests_total` (SGLang PR #2859) fall back to
 *   the e2e histogram's `_count`, which the same code path increments once per finished request.
 * - request_errors_total is `num_aborted_requests_total`, SGLang's only failure signal. It counts
 *   abort DISPATCHES (client disconnects included; `abort_all` counts once), so it is approximate.
 *   Its series appears on the first abort only and older versions lack it, so when it is absent
 *   errors stay unknown (error_rate null), not 0.
 * - preemptions: older versions expose only the `num_retracted_reqs` gauge (retractions in the
 *   last step), which cannot be turned into a counter, so preemptions stay absent there.
 * - prefix cache: `cached_tokens_total` over `prompt_tokens_total` is the token hit ratio. SGLang
 *   increments `cached_tokens_total` only when a request hit the cache, so it is missing until
 *   the first hit and in versions before it existed; then the `cache_hit_rate` gauge is kept
 *   instead, as `prefix_cache_hit_rate`. That gauge is SGLang's own ratio for the LAST logged
 *   prefill batch (cumulative in 2024 versions), a point reading rather than a window ratio;
 *   snapshots use it only when the counters are missing.
 * - time_per_output_token_seconds (≤ early 2025) was observed per streamed chunk (≈ one per output
 *   token after the first), so it stands in for ITL on those versions.
 */
import type { MetricFamily, PromSample } from '../prometheusText';
import { samplesByName } from '../prometheusText';
import type { EngineSample } from '../sample';
import type { EngineAdapter } from './adapter';
import { collapseRanks, meanSeries, readHistogram, readLatencyHistograms, SampleIndex, sumSeries } from './series';

const PREFIX = 'sglang:';

/** Labels that only say which GPU rank repeated a scheduler's reading. */
export const SGLANG_RANK_LABELS: ReadonlySet<string> = new Set(['tp_rank', 'pp_rank', 'moe_ep_rank', 'attn_tp_rank', 'attn_cp_rank']);

function series(index: SampleIndex, metric: string): PromSample[] | undefined {
  return collapseRanks(index.get(PREFIX + metric), SGLANG_RANK_LABELS);
}

const counter = (index: SampleIndex, metric: string) => sumSeries(series(index, metric), true);

function fraction(index: SampleIndex, metric: string): number | undefined {
  const v = meanSeries(series(index, metric));
  return v !== undefined && v >= 0 && v <= 1 ? v : undefined;
}

/** First name in `candidates` (newest first) that the page carries as a histogram. */
function histogram(index: SampleIndex, candidates: readonly string[]) {
  for (const metric of candidates) {
    if ((index.get(`${PREFIX}${metric}_bucket`)?.length ?? 0) > 0) return readHistogram(index, PREFIX + metric);
  }
  return undefined;
}

export function sglangToSample(families: readonly MetricFamily[], at_ms: number): EngineSample {
  if (!Number.isFinite(at_ms)) throw new RangeError(`at_ms must be a finite number, got ${at_ms}`);
  const index = samplesByName(families);
  const sample: EngineSample = { at_ms, replicas: 1, counters: {}, gauges: {}, histograms: {} };
  const { counters, gauges, histograms } = sample;

  const finished = index.has(PREFIX + 'num_requests_total')
    ? counter(index, 'num_requests_total')
    : counter(index, 'e2e_request_latency_seconds_count');
  if (finished !== undefined) counters.requests_total = finished;
  const aborted = counter(index, 'num_aborted_requests_total');
  if (aborted !== undefined) counters.request_errors_total = aborted;
  const simple: Array<[keyof EngineSample['counters'], string]> = [
    ['preemptions_total', 'num_retracted_requests_total'],
    ['generation_tokens_total', 'generation_tokens_total'],
    ['prompt_tokens_total', 'prompt_tokens_total'],
  ];
  for (const [key, metric] of simple) {
    const v = counter(index, metric);
    if (v !== undefined) counters[key] = v;
  }
  const cached = counter(index, 'cached_tokens_total');
  if (cached !== undefined && counters.prompt_tokens_total !== undefined) {
    counters.prefix_cache_queries_total = counters.prompt_tokens_total;
    counters.prefix_cache_hits_total = cached;
  }

  const running = sumSeries(series(index, 'num_running_reqs'));
  if (running !== undefined) gauges.requests_running = running;
  const waiting = sumSeries(series(index, 'num_queue_reqs'));
  if (waiting !== undefined) gauges.requests_waiting = waiting;
  const kv = fraction(index, 'kv_cache_usage_perc') ?? fraction(index, 'token_usage');
  if (kv !== undefined) gauges.kv_cache_usage = kv;
  const hitRate = fraction(index, 'cache_hit_rate');
  if (hitRate !== undefined) gauges.prefix_cache_hit_rate = hitRate;

  readLatencyHistograms((candidates) => histogram(index, candidates), histograms);
  return sample;
}

export const sglangAdapter: EngineAdapter = { engine: 'sglang', toSample: sglangToSample };
