/**
 * Canary judge: during a stage, the replicas on the new config (canary) are compared with the replicas
 * still on the old config (baseline) over the same window, metric by metric, the way Kayenta's judge
 * does it. Pure: numbers in, verdict out.
 *
 * Method, per metric (every metric is "higher is worse"):
 * 1. Drop non-finite values. An empty side gives "no_data" (a 100% stage has no baseline replicas; the
 *    absolute health gate alone decides then).
 * 2. Compare medians. The canary may be worse by `tolerance` (default 10%) of the baseline median, or by
 *    the metric's `absolute_tolerance` if that is larger (error rates sit near 0, where a relative
 *    tolerance means nothing; default 0.005 = 0.5 percentage points for `error_rate`).
 * 3. Mann–Whitney U test on the per-replica values, one-sided "canary worse" by default (`alternative`
 *    'greater'; 'two-sided' is available). Ties get midranks. With at most EXACT_MAX_REPLICAS replicas in
 *    all the p-value is exact: the permutation distribution of the canary's rank sum, counted over every
 *    way of choosing the canary group, which is conditional on the observed ties (without ties it is the
 *    classic exact distribution, as scipy's method='exact'). Above that, the normal approximation with tie
 *    correction and continuity correction (scipy's method='asymptotic').
 * 4. Fail when the canary median is past the threshold AND the difference is significant (p < alpha).
 *    Small groups cannot be significant at all: 1 canary against 9 baseline replicas has a smallest
 *    attainable one-sided p of 1/10. When even the most extreme ranking could not reach alpha, the
 *    judge says so and falls back to the effect size alone, against a larger tolerance
 *    (`small_sample_tolerance`, default 2.5 × tolerance = 25%).
 * Effect sizes: `effect_size` is the relative difference of medians (null when the baseline median is
 * 0); `cliffs_delta` = P(canary > baseline) − P(canary < baseline), in [−1, 1], is recorded as well.
 */

export const CANARY_METRICS = ['ttft_p95_ms', 'itl_p95_ms', 'e2e_p95_ms', 'error_rate'] as const;

export type Alternative = 'greater' | 'two-sided';
export type CanaryVerdict = 'pass' | 'fail' | 'no_data';

export interface CanaryJudgeInput {
  /** Per-replica values of each metric for the canary replicas (new config). */
  canary: Record<string, number[]>;
  /** Per-replica values of each metric for the baseline replicas (old config), same window. */
  baseline: Record<string, number[]>;
  /** How much worse than the baseline median the canary median may be, relative. Default 0.1. */
  tolerance?: number;
  /** Significance level. Default 0.05. */
  alpha?: number;
  /** 'greater': H1 is "canary worse" (default). 'two-sided': H1 is "the groups differ". */
  alternative?: Alternative;
  /** Relative tolerance used when the groups are too small for significance. Default 2.5 × tolerance. */
  small_sample_tolerance?: number;
  /** Absolute tolerance per metric, used when larger than the relative one. Default { error_rate: 0.005 }. */
  absolute_tolerance?: Record<string, number>;
}

export interface CanaryDecision {
  metric: string;
  /** Canary median, or null without data. */
  canary_value: number | null;
  /** Baseline median, or null without data. */
  baseline_value: number | null;
  /** The canary median above which the metric fails (given significance, or on the fallback). */
  threshold: number | null;
  p_value: number | null;
  /** Relative difference of medians, (canary − baseline) / |baseline|; null when the baseline median is 0. */
  effect_size: number | null;
  cliffs_delta: number | null;
  /** Mann–Whitney U of the canary group (the number of canary/baseline pairs where the canary is higher, ties ½). */
  u_statistic: number | null;
  method: 'exact' | 'normal' | null;
  /** What decided: the significance test, or the effect size alone because the groups are too small. */
  decided_by: 'significance' | 'effect_size' | null;
  canary_n: number;
  baseline_n: number;
  verdict: CanaryVerdict;
  reason: string;
}

export interface CanaryJudgement {
  verdict: CanaryVerdict;
  decisions: CanaryDecision[];
}

/** Up to this many replicas in both groups together the p-value is exact (a small dynamic programme). */
export const EXACT_MAX_REPLICAS = 50;

export const CANARY_DEFAULTS = {
  tolerance: 0.1,
  alpha: 0.05,
  alternative: 'greater' as Alternative,
  small_sample_factor: 2.5,
  absolute_tolerance: { error_rate: 0.005 } as Record<string, number>,
};

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Midranks (1-based) of the values, and the sizes of the tie groups. */
export function rankWithTies(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const midrank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = midrank;
    ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/**
 * Upper tail of the standard normal, Q(z) = erfc(z/√2)/2, with the Chebyshev erfc approximation of
 * Numerical Recipes (fractional error below 1.2e-7 everywhere).
 */
export function normalSf(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const erfcAbs =
    t *
    Math.exp(
      -x * x - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return (x >= 0 ? erfcAbs : 2 - erfcAbs) / 2;
}

/** C(n, k) as a float (exact below 2^53). */
export function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

export interface MannWhitneyResult {
  /** U of the first sample. */
  u: number;
  p_value: number;
  method: 'exact' | 'normal';
}

/**
 * Mann–Whitney U test of x against y. 'greater' tests "x tends to be larger than y".
 * Exact (permutation distribution of x's midrank sum, conditional on ties) when x and y have at most
 * EXACT_MAX_REPLICAS values together, else the normal approximation with tie and continuity correction.
 * Both groups must be non-empty.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'greater'): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  const n = n1 + n2;
  const { ranks, ties } = rankWithTies([...x, ...y]);
  const r1 = ranks.slice(0, n1).reduce((s, r) => s + r, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  if (n <= EXACT_MAX_REPLICAS) {
    // Midranks are multiples of ½: count subsets of size n1 by their doubled rank sum. counts[k][s] is
    // the number of k-subsets of the values taken so far whose doubled rank sum is s. The loops skip only
    // cells that are zero (sums outside [low[k], high[k]], more values than taken) or that can no longer
    // grow into an n1-subset (too few values left), so counts[n1] gets the same additions in the same
    // order as the full table: the same p-value, several times faster. The judge runs at every
    // monitoring sample, and this table is nearly all of its time.
    const doubled = ranks.map((r) => Math.round(2 * r));
    const maxSum = doubled.reduce((s, r) => s + r, 0);
    const counts = Array.from({ length: n1 + 1 }, () => new Float64Array(maxSum + 1));
    counts[0][0] = 1;
    // The smallest and largest sum a k-subset of the values taken so far can have.
    const low = new Float64Array(n1 + 1).fill(Infinity);
    const high = new Float64Array(n1 + 1).fill(-Infinity);
    low[0] = high[0] = 0;
    for (let i = 0; i < n; i++) {
      const r = doubled[i];
      const kLow = Math.max(1, n1 - (n - 1 - i));
      for (let k = Math.min(n1, i + 1); k >= kLow; k--) {
        const from = counts[k - 1];
        const to = counts[k];
        for (let s = high[k - 1]; s >= low[k - 1]; s--) if (from[s] !== 0) to[s + r] += from[s];
        low[k] = Math.min(low[k], low[k - 1] + r);
        high[k] = Math.max(high[k], high[k - 1] + r);
      }
    }
    const dist = counts[n1];
    const total = binomial(n, n1);
    const observed = Math.round(2 * r1);
    let upper = 0;
    let lower = 0;
    for (let s = 0; s <= maxSum; s++) {
      if (s >= observed) upper += dist[s];
      if (s <= observed) lower += dist[s];
    }
    const pUpper = upper / total;
    const p = alternative === 'greater' ? pUpper : Math.min(1, 2 * Math.min(pUpper, lower / total));
    return { u, p_value: p, method: 'exact' };
  }
  const mu = (n1 * n2) / 2;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p_value: 1, method: 'normal' };
  const stat = alternative === 'greater' ? u : Math.max(u, n1 * n2 - u);
  const z = (stat - mu - 0.5) / sigma;
  const p = alternative === 'greater' ? normalSf(z) : Math.min(1, 2 * normalSf(z));
  return { u, p_value: p, method: 'normal' };
}

/**
 * The smallest p-value the test can give for groups of these sizes (the most extreme ranking, no ties).
 * When it is not below alpha, no data could make the difference significant.
 */
export function smallestAttainableP(n1: number, n2: number, alternative: Alternative = 'greater'): number {
  const n = n1 + n2;
  if (n <= EXACT_MAX_REPLICAS) return Math.min(1, (alternative === 'greater' ? 1 : 2) / binomial(n, n1));
  const extremeX = Array.from({ length: n1 }, (_, i) => n2 + i);
  const extremeY = Array.from({ length: n2 }, (_, i) => i);
  return mannWhitneyU(extremeX, extremeY, alternative).p_value;
}

/** Cliff's delta from U: P(x > y) − P(x < y) = 2U/(n1·n2) − 1. */
export function cliffsDelta(u: number, n1: number, n2: number): number {
  return (2 * u) / (n1 * n2) - 1;
}

const fmt = (v: number) => Number(v.toPrecision(4)).toString();
const pct = (v: number) => `${fmt(v * 100)}%`;

function decide(metric: string, canaryRaw: readonly number[] | undefined, baselineRaw: readonly number[] | undefined, opts: Required<CanaryJudgeInput>): CanaryDecision {
  const canary = (canaryRaw ?? []).filter(Number.isFinite);
  const baseline = (baselineRaw ?? []).filter(Number.isFinite);
  const base: CanaryDecision = {
    metric,
    canary_value: canary.length > 0 ? median(canary) : null,
    baseline_value: baseline.length > 0 ? median(baseline) : null,
    threshold: null,
    p_value: null,
    effect_size: null,
    cliffs_delta: null,
    u_statistic: null,
    method: null,
    decided_by: null,
    canary_n: canary.length,
    baseline_n: baseline.length,
    verdict: 'no_data',
    reason: '',
  };
  if (canary.length === 0 || baseline.length === 0) {
    const missing = [canary.length === 0 ? 'canary' : null, baseline.length === 0 ? 'baseline' : null].filter(Boolean).join(' and ');
    const note = baseline.length === 0 ? ' (a 100% stage has none; the absolute health gate decides)' : '';
    return { ...base, reason: `no ${missing} values for ${metric}${note}` };
  }
  const cMed = base.canary_value as number;
  const bMed = base.baseline_value as number;
  const test = mannWhitneyU(canary, baseline, opts.alternative);
  const minP = smallestAttainableP(canary.length, baseline.length, opts.alternative);
  const powered = minP < opts.alpha;
  const absTol = opts.absolute_tolerance[metric] ?? 0;
  const relTol = powered ? opts.tolerance : opts.small_sample_tolerance;
  const allowed = Math.max(relTol * Math.abs(bMed), absTol);
  const threshold = bMed + allowed;
  const effect = bMed === 0 ? null : (cMed - bMed) / Math.abs(bMed);
  const worse = cMed > threshold;
  const diff = effect === null ? `${fmt(cMed - bMed)} above` : `${pct(effect)} ${effect >= 0 ? 'above' : 'below'}`;
  const tolText = allowed === absTol && absTol > 0 ? `absolute tolerance ${fmt(absTol)}` : `tolerance ${pct(relTol)}`;
  const stats = `U=${fmt(test.u)}, p=${fmt(test.p_value)} (${test.method}, ${opts.alternative}), n=${canary.length} vs ${baseline.length}`;
  const record = {
    ...base,
    threshold,
    p_value: test.p_value,
    effect_size: effect,
    cliffs_delta: cliffsDelta(test.u, canary.length, baseline.length),
    u_statistic: test.u,
    method: test.method,
  };
  const summary = `canary median ${fmt(cMed)} is ${diff} baseline ${fmt(bMed)} (threshold ${fmt(threshold)}, ${tolText})`;
  if (powered) {
    const significant = test.p_value < opts.alpha;
    const verdict: CanaryVerdict = worse && significant ? 'fail' : 'pass';
    const why = !worse
      ? 'within tolerance'
      : significant
        ? `worse and significant at alpha ${opts.alpha}`
        : `worse but not significant at alpha ${opts.alpha}`;
    return { ...record, decided_by: 'significance', verdict, reason: `${summary}: ${why}; ${stats}` };
  }
  const note = `too few replicas for significance (smallest attainable p ${fmt(minP)} ≥ alpha ${opts.alpha}), judged on effect size alone`;
  return {
    ...record,
    decided_by: 'effect_size',
    verdict: worse ? 'fail' : 'pass',
    reason: `${summary}: ${worse ? 'worse beyond' : 'within'} the small-sample tolerance; ${note}; ${stats}`,
  };
}

/** Judge the canary group against the baseline group, metric by metric. Every decision is recorded. */
export function judgeCanary(input: CanaryJudgeInput): CanaryJudgement {
  const tolerance = input.tolerance ?? CANARY_DEFAULTS.tolerance;
  const opts: Required<CanaryJudgeInput> = {
    canary: input.canary,
    baseline: input.baseline,
    tolerance,
    alpha: input.alpha ?? CANARY_DEFAULTS.alpha,
    alternative: input.alternative ?? CANARY_DEFAULTS.alternative,
    small_sample_tolerance: input.small_sample_tolerance ?? CANARY_DEFAULTS.small_sample_factor * tolerance,
    absolute_tolerance: { ...CANARY_DEFAULTS.absolute_tolerance, ...input.absolute_tolerance },
  };
  const metrics = [...new Set<string>([...CANARY_METRICS, ...Object.keys(input.canary), ...Object.keys(input.baseline)])];
  const decisions = metrics.map((m) => decide(m, input.canary[m], input.baseline[m], opts));
  const verdict: CanaryVerdict = decisions.some((d) => d.verdict === 'fail')
    ? 'fail'
    : decisions.some((d) => d.verdict === 'pass')
      ? 'pass'
      : 'no_data';
  return { verdict, decisions };
}

/** The failure message of a stage the judge failed: each failing metric with its evidence. */
export function describeCanaryFailure(judgement: CanaryJudgement): string {
  const failing = judgement.decisions.filter((d) => d.verdict === 'fail');
  const fmt = (v: number | null) => (v === null ? 'n/a' : Number(v.toPrecision(3)).toString());
  const parts = failing.map((d) => `${d.metric} ${fmt(d.canary_value)} > ${fmt(d.threshold)} (baseline ${fmt(d.baseline_value)}${d.p_value === null ? '' : `, p=${fmt(d.p_value)}`})`);
  return `Canary worse than baseline: ${parts.join('; ')}`;
}
