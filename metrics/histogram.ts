/**
 * Classic (bucketed) Prometheus histograms: quantile estimation with PromQL `histogram_quantile`
 * semantics, window deltas and merging.
 */
import { counterDelta } from './counters';

/** `[upper bound, cumulative count]`; the +Inf bucket has `le === Infinity`. */
export type Bucket = [le: number, cumulative: number];

/**
 * Cumulative histogram in a JSON-safe shape (no Infinity, no NaN).
 * `bounds` are the FINITE upper bounds, strictly ascending; `counts[i]` is the cumulative count
 * of observations <= bounds[i]; `count` is the total (the +Inf bucket, = `_count`).
 * `sum` is `_sum`, or null when the page did not carry it.
 */
export interface HistogramSample {
  bounds: number[];
  counts: number[];
  count: number;
  sum: number | null;
}

export class HistogramMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistogramMismatchError';
  }
}

/**
 * PromQL `histogram_quantile(q, …)` over one set of classic buckets (Prometheus
 * promql/quantile.go `bucketQuantile`): buckets are sorted, equal bounds coalesced (summed),
 * counts forced monotonic; linear interpolation inside the target bucket, from 0 for the lowest
 * bucket when its bound is > 0 (else that bound is returned); a rank falling in the +Inf bucket
 * returns the highest finite bound. Returns null where Prometheus returns NaN: q is NaN, fewer
 * than two buckets, no +Inf bucket, or zero observations. q < 0 → -Infinity, q > 1 → +Infinity.
 */
export function histogramQuantile(q: number, buckets: ReadonlyArray<Bucket>): number | null {
  if (Number.isNaN(q)) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (buckets.length === 0) return null;
  const sorted = buckets.map(([le, c]) => [le, c] as Bucket).sort((a, b) => a[0] - b[0]);
  if (sorted[sorted.length - 1][0] !== Infinity) return null;

  // coalesce equal bounds
  const bs: Bucket[] = [];
  for (const b of sorted) {
    const last = bs[bs.length - 1];
    if (last && last[0] === b[0]) last[1] += b[1];
    else bs.push([b[0], b[1]]);
  }
  // ensure monotonic
  let max = bs[0][1];
  for (const b of bs) {
    if (b[1] > max) max = b[1];
    else if (b[1] < max) b[1] = max;
  }
  if (bs.length < 2) return null;
  const observations = bs[bs.length - 1][1];
  if (!(observations > 0)) return null;

  let rank = q * observations;
  let b = bs.length - 1;
  for (let i = 0; i < bs.length - 1; i++) {
    if (bs[i][1] >= rank) {
      b = i;
      break;
    }
  }
  if (b === bs.length - 1) return bs[bs.length - 2][0];
  if (b === 0 && bs[0][0] <= 0) return bs[0][0];
  let bucketStart = 0;
  const bucketEnd = bs[b][0];
  let count = bs[b][1];
  if (b > 0) {
    bucketStart = bs[b - 1][0];
    count -= bs[b - 1][1];
    rank -= bs[b - 1][1];
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** The buckets of a `HistogramSample`, with the +Inf bucket appended. */
export function toBuckets(h: HistogramSample): Bucket[] {
  const out: Bucket[] = h.bounds.map((le, i) => [le, h.counts[i]] as Bucket);
  out.push([Infinity, h.count]);
  return out;
}

/** Quantile of a `HistogramSample`; null when it holds no observations. */
export function sampleQuantile(q: number, h: HistogramSample): number | null {
  return histogramQuantile(q, toBuckets(h));
}

/**
 * Builds a `HistogramSample` from buckets (must include +Inf unless `total` is given).
 * Returns null when the total cannot be known.
 */
export function histogramFromBuckets(buckets: ReadonlyArray<Bucket>, opts: { sum?: number | null; total?: number } = {}): HistogramSample | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const bounds: number[] = [];
  const counts: number[] = [];
  let inf: number | undefined;
  for (const [le, c] of sorted) {
    if (le === Infinity) inf = c;
    else if (bounds.length > 0 && bounds[bounds.length - 1] === le) counts[counts.length - 1] += c;
    else {
      bounds.push(le);
      counts.push(c);
    }
  }
  const count = inf ?? opts.total;
  if (count === undefined) return null;
  return { bounds, counts, count, sum: opts.sum ?? null };
}

function sameBounds(a: HistogramSample, b: HistogramSample): boolean {
  return a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i]);
}

/**
 * Increase of a cumulative histogram over a window. Reset-aware for the histogram as a whole:
 * if the total or any bucket went down, or the bucket layout changed, the process restarted and
 * the increase is `cur` itself (what PromQL `increase` does per series on a reset).
 */
export function histogramDelta(prev: HistogramSample, cur: HistogramSample): HistogramSample {
  const reset = !sameBounds(prev, cur) || cur.count < prev.count || cur.counts.some((c, i) => c < prev.counts[i]);
  if (reset) return { bounds: [...cur.bounds], counts: [...cur.counts], count: cur.count, sum: cur.sum };
  return {
    bounds: [...cur.bounds],
    counts: cur.counts.map((c, i) => counterDelta(prev.counts[i], c)),
    count: counterDelta(prev.count, cur.count),
    sum: prev.sum === null || cur.sum === null ? null : cur.sum - prev.sum,
  };
}

/** Sum of histograms with identical bounds (PromQL `sum by (le)`). Throws `HistogramMismatchError` otherwise. */
export function mergeHistograms(hs: ReadonlyArray<HistogramSample>): HistogramSample {
  if (hs.length === 0) throw new HistogramMismatchError('cannot merge zero histograms');
  const first = hs[0];
  for (const h of hs) {
    if (!sameBounds(first, h)) throw new HistogramMismatchError(`bucket bounds differ: [${first.bounds.join(',')}] vs [${h.bounds.join(',')}]`);
  }
  return {
    bounds: [...first.bounds],
    counts: first.bounds.map((_, i) => hs.reduce((acc, h) => acc + h.counts[i], 0)),
    count: hs.reduce((acc, h) => acc + h.count, 0),
    sum: hs.some((h) => h.sum === null) ? null : hs.reduce((acc, h) => acc + (h.sum as number), 0),
  };
}
