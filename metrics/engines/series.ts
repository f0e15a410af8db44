/**
 * Helpers shared by engine adapters: reduce the series of one metric on one page to a single
 * number or histogram. Every helper returns `undefined` when the metric is absent or unusable
 * (non-finite values, incomplete or inconsistent histograms), never 0.
 */
import { Bucket, HistogramSample, histogramFromBuckets, mergeHistograms } from '../histogram';
import { PromSample, parsePromFloat } from '../prometheusText';
import { HistogramSampleSchema } from '../sample';

export type SampleIndex = Map<string, PromSample[]>;

/** Sum over every series; undefined if there is none or any is not finite (or negative when `nonNegative`). */
export function sumSeries(series: readonly PromSample[] | undefined, nonNegative = false): number | undefined {
  if (!series || series.length === 0) return undefined;
  let total = 0;
  for (const s of series) {
    if (!Number.isFinite(s.value) || (nonNegative && s.value < 0)) return undefined;
    total += s.value;
  }
  return total;
}

/** Mean over every series; undefined if there is none or any is not finite. */
export function meanSeries(series: readonly PromSample[] | undefined): number | undefined {
  const total = sumSeries(series);
  return total === undefined ? undefined : total / (series as PromSample[]).length;
}

function groupKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== 'le')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/**
 * The histogram `base` (its `_bucket`, `_sum`, `_count` series) summed over all label sets, as
 * PromQL `sum by (le)` would. Each label set must have buckets and a total (`+Inf` bucket, else
 * `_count`); all label sets must share the same bounds. Otherwise undefined.
 */
export function readHistogram(index: SampleIndex, base: string): HistogramSample | undefined {
  const bucketSeries = index.get(`${base}_bucket`) ?? [];
  if (bucketSeries.length === 0) return undefined;
  const groups = new Map<string, { buckets: Bucket[]; sum?: number; count?: number }>();
  const group = (labels: Record<string, string>) => {
    const key = groupKey(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    return g;
  };
  for (const s of bucketSeries) {
    const le = parsePromFloat(s.labels.le ?? '');
    if (le === undefined || Number.isNaN(le) || !Number.isFinite(s.value)) return undefined;
    group(s.labels).buckets.push([le, s.value]);
  }
  for (const s of index.get(`${base}_sum`) ?? []) group(s.labels).sum = s.value;
  for (const s of index.get(`${base}_count`) ?? []) group(s.labels).count = s.value;

  const hs: HistogramSample[] = [];
  for (const g of groups.values()) {
    if (g.buckets.length === 0) return undefined; // _sum/_count without buckets
    const sum = g.sum !== undefined && Number.isFinite(g.sum) ? g.sum : null;
    const total = g.count !== undefined && Number.isFinite(g.count) ? g.count : undefined;
    const h = histogramFromBuckets(g.buckets, { sum, total });
    if (!h || !HistogramSampleSchema.safeParse(h).success) return undefined;
    hs.push(h);
  }
  try {
    return mergeHistograms(hs);
  } catch {
    return undefined;
  }
}

/**
 * Collapses series that repeat one reading per parallel rank (e.g. SGLang's scheduler metrics,
 * emitted once per `tp_rank` when every scheduler reports): series that differ only in
 * `rankLabels` are one reading, so each such group becomes one sample holding the group's max.
 * Series that differ in any other label (model, data-parallel rank, …) stay separate, ready for
 * `sumSeries`/`meanSeries`. A non-finite value spoils its group, which those helpers then reject.
 */
export function collapseRanks(series: readonly PromSample[] | undefined, rankLabels: ReadonlySet<string>): PromSample[] | undefined {
  if (!series || series.length === 0) return undefined;
  const groups = new Map<string, PromSample>();
  for (const s of series) {
    const labels = Object.fromEntries(Object.entries(s.labels).filter(([k]) => !rankLabels.has(k)));
    const key = groupKey(labels);
    const prev = groups.get(key);
    // Math.max propagates NaN and ±Infinity, which sumSeries/meanSeries then reject.
    groups.set(key, { name: s.name, labels, value: prev === undefined ? s.value : Math.max(prev.value, s.value) });
  }
  return [...groups.values()];
}

/**
 * vLLM and SGLang name their latency histograms alike (newest name first where versions differ):
 * both adapters read the three engine-neutral histograms with this one table.
 */
export const COMMON_LATENCY_HISTOGRAMS = {
  ttft_seconds: ['time_to_first_token_seconds'],
  itl_seconds: ['inter_token_latency_seconds', 'time_per_output_token_seconds'],
  e2e_seconds: ['e2e_request_latency_seconds'],
} as const;

/** Fills `into` with each latency histogram the page has, found by the adapter's own name lookup. */
export function readLatencyHistograms(
  find: (candidates: readonly string[]) => HistogramSample | undefined,
  into: Partial<Record<keyof typeof COMMON_LATENCY_HISTOGRAMS, HistogramSample>>,
): void {
  for (const [key, candidates] of Object.entries(COMMON_LATENCY_HISTOGRAMS) as Array<[keyof typeof COMMON_LATENCY_HISTOGRAMS, readonly string[]]>) {
    const h = find(candidates);
    if (h) into[key] = h;
  }
}
