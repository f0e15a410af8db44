/**
 * `EngineSample`: a compact, engine-neutral, CUMULATIVE reading of one replica (or of a merged set
 * of replicas) at one instant. It is JSON-safe (finite numbers only, no Infinity/NaN) because it
 * travels through Temporal workflow history; `EngineSampleSchema` checks that.
 *
 * Absent key = the engine did not expose the metric (or exposed it unusably). Consumers turn that
 * into `null` in a `Snapshot`, never 0.
 */
import { z } from 'zod';
import type { Snapshot } from '../models/snapshot';
import { counterDelta } from './counters';
import { HistogramSample, histogramDelta, mergeHistograms, sampleQuantile } from './histogram';

export type { HistogramSample } from './histogram';

export const COUNTER_KEYS = [
  'requests_total',
  'request_errors_total',
  'preemptions_total',
  'generation_tokens_total',
  'prompt_tokens_total',
  'prefix_cache_queries_total',
  'prefix_cache_hits_total',
] as const;
/**
 * `prefix_cache_hit_rate` is for engines that expose only a hit-rate GAUGE, not hit/query
 * counters (SGLang's `sglang:cache_hit_rate`). It is the engine's own recent ratio, not a windowed
 * one, so snapshots use it only when the counter pair is missing (see `snapshotAcross`).
 */
/**
 * `kv_cache_fixed_bytes` is not a load figure but a fact about the engine: its KV cache has a fixed
 * size in bytes (vLLM's kv_cache_memory_bytes, always set on its CPU backend), so memory-utilization
 * flags do nothing there. Present only when every replica reports it, like every other key.
 */
export const GAUGE_KEYS = ['requests_running', 'requests_waiting', 'kv_cache_usage', 'prefix_cache_hit_rate', 'kv_cache_fixed_bytes'] as const;
/** `queue_seconds`: time requests wait before the scheduler admits them (vLLM V1's `request_queue_time_seconds`). */
export const HISTOGRAM_KEYS = ['ttft_seconds', 'itl_seconds', 'e2e_seconds', 'queue_seconds'] as const;
export type CounterKey = (typeof COUNTER_KEYS)[number];
export type GaugeKey = (typeof GAUGE_KEYS)[number];
export type HistogramKey = (typeof HISTOGRAM_KEYS)[number];

export interface EngineSample {
  /** Wall-clock time of the reading, ms since the epoch (max over members when merged). */
  at_ms: number;
  /** Number of replicas this reading covers (1 for a single scrape). */
  replicas: number;
  counters: Partial<Record<CounterKey, number>>;
  gauges: Partial<Record<GaugeKey, number>>;
  histograms: Partial<Record<HistogramKey, HistogramSample>>;
}

const finite = z.number().finite();
const nonNeg = finite.nonnegative();

export const HistogramSampleSchema = z
  .object({ bounds: z.array(finite), counts: z.array(nonNeg), count: nonNeg, sum: finite.nullable() })
  .strict()
  .superRefine((h, ctx) => {
    if (h.counts.length !== h.bounds.length) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'counts and bounds differ in length' });
    for (let i = 1; i < h.bounds.length; i++) {
      if (!(h.bounds[i] > h.bounds[i - 1])) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'bounds must be strictly ascending' });
      if (h.counts[i] < h.counts[i - 1]) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'cumulative counts must not decrease' });
    }
    if (h.counts.length > 0 && h.count < h.counts[h.counts.length - 1]) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'count is below the highest bucket' });
  });

const partialOf = <K extends string, S extends z.ZodTypeAny>(keys: readonly K[], schema: S) =>
  z.object(Object.fromEntries(keys.map((k) => [k, schema.optional()])) as { [P in K]: z.ZodOptional<S> }).strict();

export const EngineSampleSchema = z
  .object({
    at_ms: finite,
    replicas: z.number().int().nonnegative(),
    counters: partialOf(COUNTER_KEYS, nonNeg),
    gauges: partialOf(GAUGE_KEYS, finite),
    histograms: partialOf(HISTOGRAM_KEYS, HistogramSampleSchema),
  })
  .strict();

/** Validates an `EngineSample` that came back from JSON (e.g. out of workflow history). */
export function parseEngineSample(value: unknown): EngineSample {
  return EngineSampleSchema.parse(value) as EngineSample;
}

/** Gauges that are fractions of a whole: merged by mean, not by sum. */
const FRACTION_GAUGES: ReadonlySet<GaugeKey> = new Set<GaugeKey>(['kv_cache_usage', 'prefix_cache_hit_rate', 'kv_cache_fixed_bytes']);

function keysPresentInAll<K extends string, V>(maps: ReadonlyArray<Partial<Record<K, V>>>, keys: readonly K[]): K[] {
  return keys.filter((k) => maps.every((m) => m[k] !== undefined));
}

/**
 * Merges cumulative readings of several replicas into one reading of the set. A key is present in
 * the result only if it is present in EVERY input (a replica that does not report a metric makes
 * the fleet value unknown, not smaller). Counters, histograms (same bounds required, else the
 * histogram is dropped), `requests_running` and `requests_waiting` are summed; the fractions
 * (`kv_cache_usage`, `prefix_cache_hit_rate`) are the mean; `at_ms` is the latest; `replicas` is summed.
 */
export function mergeSamples(samples: ReadonlyArray<EngineSample>): EngineSample {
  if (samples.length === 0) throw new Error('mergeSamples: no samples to merge');
  const out: EngineSample = {
    at_ms: Math.max(...samples.map((s) => s.at_ms)),
    replicas: samples.reduce((a, s) => a + s.replicas, 0),
    counters: {},
    gauges: {},
    histograms: {},
  };
  for (const k of keysPresentInAll(samples.map((s) => s.counters), COUNTER_KEYS)) {
    out.counters[k] = samples.reduce((a, s) => a + (s.counters[k] as number), 0);
  }
  for (const k of keysPresentInAll(samples.map((s) => s.gauges), GAUGE_KEYS)) {
    const total = samples.reduce((a, s) => a + (s.gauges[k] as number), 0);
    out.gauges[k] = FRACTION_GAUGES.has(k) ? total / samples.length : total;
  }
  for (const k of keysPresentInAll(samples.map((s) => s.histograms), HISTOGRAM_KEYS)) {
    const merged = tryMerge(samples.map((s) => s.histograms[k] as HistogramSample));
    if (merged) out.histograms[k] = merged;
  }
  return out;
}

function tryMerge(hs: HistogramSample[]): HistogramSample | null {
  try {
    return mergeHistograms(hs);
  } catch {
    return null;
  }
}

export interface SamplePair {
  prev: EngineSample;
  cur: EngineSample;
}

/**
 * Snapshot of one replica (or one already-merged set) over the window prev → cur:
 * rates per second over (cur.at_ms − prev.at_ms); latency quantiles (ms) from the histogram
 * increase over the window; error_rate = Δerrors / Δrequests; prefix_cache_hit_rate =
 * Δhits / Δqueries (or, only where the hit/query counters are missing, the engine's
 * `prefix_cache_hit_rate` gauge at `cur`); gauges from `cur`. A metric missing on either side → null; a ratio or
 * quantile with nothing in the window → null; a rate whose counter exists but did not move → 0.
 *
 * Note: with merged samples a single replica restart lowers the merged counters and is read as
 * a reset of the whole set. Prefer `snapshotAcross` with per-replica pairs.
 */
export function snapshotBetween(prev: EngineSample, cur: EngineSample): Snapshot {
  return snapshotAcross([{ prev, cur }]);
}

/**
 * Snapshot of a set of replicas from per-replica (prev, cur) pairs: each replica's increases are
 * computed on its own (so one replica's restart is one replica's reset), then summed; rates are
 * the sum of per-replica rates; quantiles come from the summed histogram increases; gauges come
 * from `mergeSamples` of the `cur` readings. `window_seconds` is the longest replica window.
 */
export function snapshotAcross(pairs: ReadonlyArray<SamplePair>): Snapshot {
  if (pairs.length === 0) throw new Error('snapshotAcross: no sample pairs');
  const windows = pairs.map(({ prev, cur }) => {
    const seconds = (cur.at_ms - prev.at_ms) / 1000;
    if (!(seconds >= 0)) throw new RangeError(`snapshot window is negative or invalid: prev.at_ms=${prev.at_ms}, cur.at_ms=${cur.at_ms}`);
    return seconds;
  });

  const increases = (k: CounterKey): number[] | null => {
    const out: number[] = [];
    for (const { prev, cur } of pairs) {
      const a = prev.counters[k];
      const b = cur.counters[k];
      if (a === undefined || b === undefined) return null;
      out.push(counterDelta(a, b));
    }
    return out;
  };
  const perSecond = (k: CounterKey): number | null => {
    const inc = increases(k);
    if (!inc || windows.some((w) => w <= 0)) return null;
    return inc.reduce((a, x, i) => a + x / windows[i], 0);
  };
  const ratio = (num: CounterKey, den: CounterKey): number | null => {
    const n = increases(num);
    const d = increases(den);
    if (!n || !d) return null;
    const dt = d.reduce((a, x) => a + x, 0);
    return dt > 0 ? n.reduce((a, x) => a + x, 0) / dt : null;
  };
  const windowHistogram = (k: HistogramKey): HistogramSample | null => {
    const deltas: HistogramSample[] = [];
    for (const { prev, cur } of pairs) {
      const a = prev.histograms[k];
      const b = cur.histograms[k];
      if (!a || !b) return null;
      deltas.push(histogramDelta(a, b));
    }
    return tryMerge(deltas);
  };

  const ttft = windowHistogram('ttft_seconds');
  const itl = windowHistogram('itl_seconds');
  const e2e = windowHistogram('e2e_seconds');
  const queue = windowHistogram('queue_seconds');
  const now = mergeSamples(pairs.map((p) => p.cur));
  return {
    ...queueTime(queue),
    window_seconds: Math.max(...windows),
    replicas: now.replicas,
    request_rate: perSecond('requests_total'),
    requests_running: now.gauges.requests_running ?? null,
    requests_waiting: now.gauges.requests_waiting ?? null,
    kv_cache_usage: now.gauges.kv_cache_usage ?? null,
    preemptions_per_second: perSecond('preemptions_total'),
    prefix_cache_hit_rate:
      increases('prefix_cache_hits_total') && increases('prefix_cache_queries_total')
        ? ratio('prefix_cache_hits_total', 'prefix_cache_queries_total')
        : now.gauges.prefix_cache_hit_rate ?? null,
    ttft_p50_ms: quantileMs(0.5, ttft),
    ttft_p95_ms: quantileMs(0.95, ttft),
    ttft_p99_ms: quantileMs(0.99, ttft),
    itl_p50_ms: quantileMs(0.5, itl),
    itl_p95_ms: quantileMs(0.95, itl),
    e2e_p95_ms: quantileMs(0.95, e2e),
    generation_tokens_per_second: perSecond('generation_tokens_total'),
    error_rate: ratio('request_errors_total', 'requests_total'),
  };
}

/**
 * Snapshot of a single cumulative reading, for one-off analysis: quantiles over everything since
 * process start, error_rate and prefix_cache_hit_rate as lifetime ratios (the hit rate falls back
 * to the engine's gauge where the counters are missing), every per-second rate null (there is no
 * window), `window_seconds` 0.
 */
export function snapshotOf(sample: EngineSample): Snapshot {
  const c = sample.counters;
  const h = sample.histograms;
  const ratio = (n: number | undefined, d: number | undefined) => (n === undefined || d === undefined || !(d > 0) ? null : n / d);
  return {
    ...queueTime(h.queue_seconds ?? null),
    window_seconds: 0,
    replicas: sample.replicas,
    request_rate: null,
    requests_running: sample.gauges.requests_running ?? null,
    requests_waiting: sample.gauges.requests_waiting ?? null,
    kv_cache_usage: sample.gauges.kv_cache_usage ?? null,
    preemptions_per_second: null,
    prefix_cache_hit_rate:
      c.prefix_cache_hits_total !== undefined && c.prefix_cache_queries_total !== undefined
        ? ratio(c.prefix_cache_hits_total, c.prefix_cache_queries_total)
        : sample.gauges.prefix_cache_hit_rate ?? null,
    ttft_p50_ms: quantileMs(0.5, h.ttft_seconds),
    ttft_p95_ms: quantileMs(0.95, h.ttft_seconds),
    ttft_p99_ms: quantileMs(0.99, h.ttft_seconds),
    itl_p50_ms: quantileMs(0.5, h.itl_seconds),
    itl_p95_ms: quantileMs(0.95, h.itl_seconds),
    e2e_p95_ms: quantileMs(0.95, h.e2e_seconds),
    generation_tokens_per_second: null,
    error_rate: ratio(c.request_errors_total, c.requests_total),
  };
}

function quantileMs(q: number, h: HistogramSample | null | undefined): number | null {
  if (!h) return null;
  const v = sampleQuantile(q, h);
  return v === null || !Number.isFinite(v) ? null : v * 1000;
}

/**
 * The mean queue time of the requests in a histogram, only for engines that have one (the key is
 * left out otherwise, so snapshots of other engines keep their shape). The mean, not a quantile:
 * vLLM's queue-time buckets start at 0.3 s, far too coarse to interpolate a p95 below that.
 */
function queueTime(h: HistogramSample | null | undefined): Pick<Snapshot, 'queue_time_mean_ms'> {
  if (!h) return {};
  return { queue_time_mean_ms: h.count > 0 && h.sum !== null ? (h.sum / h.count) * 1000 : null };
}
