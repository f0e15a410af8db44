import type { Snapshot } from '../models';

/**
 * How far past its threshold a metric must be before a bottleneck fires, so a metric that sits right
 * at its target does not flip the plan from one run to the next.
 *
 * The rule: the baseline window is read per replica as well as for the whole fleet. For each metric the
 * replicas' values over the same window give a spread (sample standard deviation s over N replicas with
 * data). The fleet value is a pooled figure of those N replicas, so its own run-to-run noise is about
 * one standard error: s/√N for a metric that is a mean or a pooled quantile of the replicas, s·√N for one
 * that is their sum (a fleet-wide rate). A bottleneck fires only when the fleet value exceeds the
 * threshold by more than `MARGIN_STANDARD_ERRORS` standard errors: one-sided, about 97.7% under a normal
 * approximation. Fewer than two replicas with data give no spread and no margin (the old behaviour), and
 * the evidence says so. N is the number of replicas read one by one (at most SPREAD_REPLICAS of a large
 * fleet), not the whole fleet: for a larger fleet the margin is wider than the true standard error, never narrower.
 *
 * What this does not cover: noise common to every replica at once (a load swing during the window moves
 * them together and shows as no spread). The window is short, so that is the weaker of the two.
 */
export const MARGIN_STANDARD_ERRORS = 2;

/** Replicas of the baseline window read one by one as well (evenly spaced over a larger fleet). */
export const SPREAD_REPLICAS = 16;

/** The metrics bottlenecks are judged on, and how the fleet value is built from the replicas' values. */
export const MARGIN_METRICS = {
  kv_cache_usage: 'mean',
  preemptions_per_second: 'sum',
  /** Per replica: waiting per replica is the fleet's waiting gauge over N, the mean of the replicas'. */
  requests_waiting: 'mean',
  queue_time_mean_ms: 'mean',
  ttft_p95_ms: 'mean',
  itl_p95_ms: 'mean',
  error_rate: 'mean',
} as const satisfies Partial<Record<keyof Snapshot, 'mean' | 'sum'>>;

export type MarginMetric = keyof typeof MARGIN_METRICS;

export interface NoiseMargin {
  /** How far past the threshold the fleet value must be: MARGIN_STANDARD_ERRORS × standard error. */
  margin: number;
  /** Replicas with a value for the metric in the window. */
  replicas: number;
  /** Sample standard deviation of the replicas' values (0 with fewer than two). */
  spread: number;
}

export type NoiseMargins = Partial<Record<MarginMetric, NoiseMargin>>;

/** Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values. */
export function sampleStdDev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
}

/** The margin of each metric from the replicas' snapshots of the baseline window (one per replica). */
export function noiseMargins(perReplica: readonly Snapshot[]): NoiseMargins {
  const out: NoiseMargins = {};
  for (const [metric, kind] of Object.entries(MARGIN_METRICS) as Array<[MarginMetric, 'mean' | 'sum']>) {
    const values = perReplica.map((s) => s[metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const spread = sampleStdDev(values);
    const n = values.length;
    const standardError = n < 2 ? 0 : kind === 'sum' ? spread * Math.sqrt(n) : spread / Math.sqrt(n);
    out[metric] = { margin: MARGIN_STANDARD_ERRORS * standardError, replicas: n, spread };
  }
  return out;
}

/** Whether a value clears its threshold by more than the margin. */
export function clearsThreshold(value: number | null, threshold: number, margin: NoiseMargin | undefined): value is number {
  return value !== null && value > threshold + (margin?.margin ?? 0);
}

const fmt = (v: number) => Number(v.toPrecision(3)).toString();

/** The evidence sentence: "itl_p95_ms 62 > 50 threshold + 4.1 margin (2 × standard error of 3 replicas' spread 3.55)". */
export function describeMargin(metric: string, value: number, threshold: number, m: NoiseMargin | undefined): string {
  const head = `${metric} ${fmt(value)} > ${fmt(threshold)} threshold`;
  if (m === undefined) return `${head} (no per-replica baseline: no noise margin)`;
  if (m.replicas < 2) return `${head} + 0 margin (${m.replicas} replica with data: no spread to measure noise by)`;
  return `${head} + ${fmt(m.margin)} margin (${MARGIN_STANDARD_ERRORS} × standard error; spread ${fmt(m.spread)} over ${m.replicas} replicas)`;
}
