/**
 * Hugging Face text-generation-inference (TGI) `/metrics` → `EngineSample`.
 * Names and semantics: tests/fixtures/metrics/METRICS.md §3 and TGI's `router/src/server.rs`.
 * TGI's Rust exporter writes counters WITHOUT `_total` and registers a series on its first
 * update, so a fresh server shows no `tgi_request_failure` until something fails.
 *
 * | EngineSample              | TGI metric                                                       |
 * |---------------------------|------------------------------------------------------------------|
 * | requests_total            | `tgi_request_success` + Σ `tgi_request_failure{err}` (finished)  |
 * | request_errors_total      | Σ `tgi_request_failure{err}` (validation, overloaded, generation…)|
 * | generation_tokens_total   | `tgi_request_generated_tokens_sum`                               |
 * | prompt_tokens_total       | `tgi_request_input_length_sum`                                   |
 * | requests_running          | `tgi_batch_current_size`                                         |
 * | requests_waiting          | `tgi_queue_size`                                                 |
 * | itl_seconds               | `tgi_request_mean_time_per_token_duration` (per-request mean)    |
 * | e2e_seconds               | `tgi_request_duration`                                           |
 *
 * Deliberately ABSENT (TGI exposes no equivalent; absent ≠ 0):
 * - ttft_seconds: TGI has no time-to-first-token metric. Its Grafana dashboard shows
 *   p50(`tgi_request_queue_duration`) + p50(`tgi_batch_inference_duration{method="prefill"}`),
 *   i.e. the sum of quantiles of two different populations (per-request queue time, per-BATCH
 *   prefill time). That is not a per-request TTFT distribution and cannot be turned into a
 *   histogram, so it is not reported as one.
 * - kv_cache_usage: TGI has no KV-usage gauge. `tgi_batch_current_max_tokens` /
 *   `tgi_batch_max_total_tokens` (the latter only from backend v3) is the batch's token
 *   RESERVATION against the token budget, not cache occupancy.
 * - preemptions_total: TGI does not report preemptions (it has no equivalent counter).
 * - prefix_cache_*: TGI 3.x caches prefixes but exposes no hit/query metric.
 *
 * Caveats of the mapped fields:
 * - requests_total counts FINISHED requests (like vLLM's `request_success_total`), not
 *   `tgi_request_count`, which counts arrivals (and also `/chat_tokenize` calls).
 *   Either half of the success/failure pair may be absent because it has not been incremented
 *   yet; it is 0 then, but only when the other half is on the page.
 * - The token counts are sums of per-request histograms, credited when a request completes
 *   (generated tokens: successful requests only; input length: every validated request), so they
 *   move in steps rather than per engine step.
 * - itl_seconds: TGI observes inference_time / generated_tokens once per successful request
 *   (a TPOT that includes the request's own prefill). Its p95 is over requests' means, which
 *   smooths per-token stalls: it reads lower than a per-token ITL p95 would.
 */
import type { MetricFamily } from '../prometheusText';
import { samplesByName } from '../prometheusText';
import type { EngineSample } from '../sample';
import type { EngineAdapter } from './adapter';
import { SampleIndex, readHistogram, sumSeries } from './series';

const has = (index: SampleIndex, name: string) => (index.get(name)?.length ?? 0) > 0;

export function tgiToSample(families: readonly MetricFamily[], at_ms: number): EngineSample {
  if (!Number.isFinite(at_ms)) throw new RangeError(`at_ms must be a finite number, got ${at_ms}`);
  const index = samplesByName(families);
  const sample: EngineSample = { at_ms, replicas: 1, counters: {}, gauges: {}, histograms: {} };
  const { counters, gauges, histograms } = sample;

  const success = sumSeries(index.get('tgi_request_success'), true);
  const failure = sumSeries(index.get('tgi_request_failure'), true);
  // A series that is on the page but unusable (NaN, negative) spoils the pair; a missing one is 0
  // only next to its present partner (lazy registration), never on its own.
  const unusable = (has(index, 'tgi_request_success') && success === undefined) || (has(index, 'tgi_request_failure') && failure === undefined);
  if (!unusable && (success !== undefined || failure !== undefined)) {
    counters.requests_total = (success ?? 0) + (failure ?? 0);
    counters.request_errors_total = failure ?? 0;
  }
  const generated = sumSeries(index.get('tgi_request_generated_tokens_sum'), true);
  if (generated !== undefined) counters.generation_tokens_total = generated;
  const prompt = sumSeries(index.get('tgi_request_input_length_sum'), true);
  if (prompt !== undefined) counters.prompt_tokens_total = prompt;

  const running = sumSeries(index.get('tgi_batch_current_size'));
  if (running !== undefined) gauges.requests_running = running;
  const waiting = sumSeries(index.get('tgi_queue_size'));
  if (waiting !== undefined) gauges.requests_waiting = waiting;

  const itl = readHistogram(index, 'tgi_request_mean_time_per_token_duration');
  if (itl) histograms.itl_seconds = itl;
  const e2e = readHistogram(index, 'tgi_request_duration');
  if (e2e) histograms.e2e_seconds = e2e;
  return sample;
}

export const tgiAdapter: EngineAdapter = { engine: 'tgi', toSample: tgiToSample };
