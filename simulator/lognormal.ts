/**
 * Log-normal latency distributions, used to spread a modelled median over a histogram's buckets
 * analytically (CDF at each bound × count), so bucket counts are smooth floats and any window,
 * however short, has a correctly shaped distribution.
 */

export interface LatencyDist {
  /** Median, in seconds (> 0). */
  median: number;
  /** Standard deviation of ln(latency). */
  sigma: number;
}

/** Smallest median we model: keeps ln() finite for "no queueing at all". */
export const MIN_MEDIAN_SECONDS = 1e-5;

/** erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). Deterministic, no dependencies. */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** P(latency ≤ x) for a log-normal with the given median and sigma. */
export function lognormalCdf(x: number, d: LatencyDist): number {
  if (x <= 0) return 0;
  if (!Number.isFinite(x)) return 1;
  const median = Math.max(d.median, MIN_MEDIAN_SECONDS);
  if (d.sigma <= 0) return x >= median ? 1 : 0;
  return normalCdf((Math.log(x) - Math.log(median)) / d.sigma);
}

/** Mean of a log-normal: median × exp(σ²/2). */
export function lognormalMean(d: LatencyDist): number {
  return Math.max(d.median, MIN_MEDIAN_SECONDS) * Math.exp((d.sigma * d.sigma) / 2);
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The exact q-quantile of the modelled distribution (what an infinitely fine histogram would give). */
export function lognormalQuantile(q: number, d: LatencyDist): number {
  return Math.max(d.median, MIN_MEDIAN_SECONDS) * Math.exp(d.sigma * normalQuantile(q));
}

/**
 * Prometheus `histogram_quantile` on cumulative buckets (linear interpolation inside a bucket, the
 * lower bound of the first bucket taken as 0). `bounds` excludes +Inf; `cumulative` has one more
 * entry, the +Inf bucket (= count). Returns NaN for an empty histogram.
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number {
  const total = cumulative[cumulative.length - 1];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : cumulative[i - 1];
      const inBucket = cumulative[i] - below;
      return inBucket > 0 ? lower + ((bounds[i] - lower) * (rank - below)) / inBucket : bounds[i];
    }
  }
  // Rank falls in the +Inf bucket: Prometheus answers the highest finite bound.
  return bounds[bounds.length - 1];
}
