/**
 * Did the change help? After the last stage, the changed replicas are judged against the old config on
 * the metrics the plan targeted, one-sided "canary better": the opposite question to the canary judge's
 * "canary worse" (core/canaryJudge.ts), with the same statistics. Pure: numbers in, verdict out.
 *
 * Two comparisons, because a 100% stage has no replicas left on the old config:
 * - `baseline_replicas` (used whenever a stage had both groups, the last such stage): the per-interval
 *   series of the canary and baseline replicas over the same window. Mann–Whitney U, H1 "baseline values
 *   higher than the canary's" (every judged metric is "higher is worse"); better when p < alpha and the
 *   canary median is lower. Groups too small for any p below alpha are judged on effect size alone: the
 *   canary median at least `min_improvement` (10%) below the baseline median.
 * - `pre_change_window` (no stage had both groups: `stages: [100]` or a single replica): the last
 *   stage's per-interval series against the one value the baseline window measured before any change.
 *   Sign test, H1 "intervals below the old value more often than not"; the same small-sample fallback.
 *   Weakness: the old value was measured at another time, so a change in load between the two windows
 *   reads as an improvement (or the lack of one); the state says which comparison was made.
 *
 * The change is kept ("better") when at least one targeted metric is significantly better AND it costs
 * nothing the SLO counts: no judged metric's median is worse by more than the canary judge's tolerance
 * (10% of the old median, or 0.005 for `error_rate`) AND past its SLO target. The canary judge has already
 * failed any stage where a metric was significantly worse; this catches the trade it lets through on small
 * groups (a queue fixed at the cost of an inter-token latency 23% higher and past its 50 ms target: the
 * changed replicas faster end to end, the health score lower). A metric that got worse but still meets its
 * target costs the health score nothing and is no reason to undo the change.
 */
import { CANARY_DEFAULTS, CANARY_METRICS, binomial, mannWhitneyU, median, smallestAttainableP } from './canaryJudge';

export type ImprovementVerdict = 'better' | 'not_better' | 'no_data';
export type ImprovementComparison = 'baseline_replicas' | 'pre_change_window';

/**
 * The judged metrics each bottleneck kind shows in: a queue or a full KV cache delays the first token
 * and so the whole request (TGI reports no TTFT at all: there a queue shows only end to end);
 * preemptions recompute, which lengthens the request.
 */
export const METRICS_BY_BOTTLENECK: Record<string, readonly string[]> = {
  high_ttft: ['ttft_p95_ms'],
  high_itl: ['itl_p95_ms'],
  errors: ['error_rate'],
  queue_backlog: ['ttft_p95_ms', 'e2e_p95_ms'],
  low_batch_utilisation: ['ttft_p95_ms', 'e2e_p95_ms'],
  kv_cache_pressure: ['ttft_p95_ms', 'e2e_p95_ms'],
  preemption: ['e2e_p95_ms'],
};

/**
 * The metrics a plan targeted, from its optimizations' `addresses` (comma-separated bottleneck kinds).
 * A plan that names no kind the judge can see is held to every judged metric.
 */
export function targetedMetrics(addresses: readonly string[]): string[] {
  const kinds = addresses.flatMap((a) => a.split(',').map((k) => k.trim()));
  const metrics = CANARY_METRICS.filter((m) => kinds.some((k) => METRICS_BY_BOTTLENECK[k]?.includes(m)));
  return metrics.length > 0 ? metrics : [...CANARY_METRICS];
}

export interface ImprovementInput {
  metrics: readonly string[];
  comparison: ImprovementComparison;
  /** Per-interval values of each metric on the changed replicas. */
  canary: Record<string, number[]>;
  /** `baseline_replicas`: the old-config replicas' series over the same window. */
  baseline?: Record<string, number[]>;
  /** `pre_change_window`: each metric's value over the baseline window before any change. */
  before?: Record<string, number | null>;
  alpha?: number;
  /** Relative improvement of the median required when the groups are too small for significance. Default 0.1. */
  min_improvement?: number;
  /** How much worse any judged metric's median may be, relative (default: the canary judge's tolerance, 10%). */
  max_regression?: number;
  /** SLO targets: a metric worse by more than the tolerance is a cost only past its target (none given: always). */
  targets?: Partial<Record<string, number>>;
}

export interface ImprovementMetric {
  metric: string;
  /** `targeted`: must be better (one is enough); `cost`: a judged metric the change made too much worse. */
  role: 'targeted' | 'cost';
  canary_value: number | null;
  baseline_value: number | null;
  p_value: number | null;
  verdict: ImprovementVerdict;
  reason: string;
}

export interface Improvement {
  verdict: ImprovementVerdict;
  comparison: ImprovementComparison;
  metrics: ImprovementMetric[];
  reason: string;
}

export const IMPROVEMENT_DEFAULTS = { alpha: 0.05, min_improvement: 0.1, max_regression: CANARY_DEFAULTS.tolerance };

const fmt = (v: number) => Number(v.toPrecision(4)).toString();

/** One-sided sign test: P(X ≥ k) for X ~ Binomial(n, ½). */
export function signTestP(k: number, n: number): number {
  let tail = 0;
  for (let i = k; i <= n; i++) tail += binomial(n, i);
  return tail / 2 ** n;
}

type Options = Required<Pick<ImprovementInput, 'alpha' | 'min_improvement' | 'max_regression'>> & ImprovementInput;

/** The changed replicas' values of a metric, and the old config's (its series, or the one value before the change). */
function valuesOf(metric: string, input: ImprovementInput): { canary: number[]; against: number[] } {
  const canary = (input.canary[metric] ?? []).filter(Number.isFinite);
  const against = input.comparison === 'baseline_replicas'
    ? (input.baseline?.[metric] ?? []).filter(Number.isFinite)
    : [input.before?.[metric]].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return { canary, against };
}

/** A judged metric whose changed median is worse than the old one by more than the tolerance; else null. */
function costOf(metric: string, input: Options): ImprovementMetric | null {
  const { canary, against } = valuesOf(metric, input);
  if (canary.length === 0 || against.length === 0) return null;
  const c = median(canary);
  const b = median(against);
  const allowed = Math.max(input.max_regression * Math.abs(b), CANARY_DEFAULTS.absolute_tolerance[metric] ?? 0);
  const target = input.targets?.[metric];
  if (!(c > b + allowed) || (target !== undefined && !(c > target))) return null;
  const past = target === undefined ? '' : `, past its ${fmt(target)} target`;
  const worse = b === 0 ? `${fmt(c - b)} above` : `+${fmt(((c - b) / Math.abs(b)) * 100)}%`;
  return {
    metric,
    role: 'cost',
    canary_value: c,
    baseline_value: b,
    p_value: null,
    verdict: 'not_better',
    reason: `${metric} got worse: changed ${fmt(c)} vs old ${fmt(b)} (${worse}, more than the allowed ${fmt(allowed)}${past})`,
  };
}

function judgeMetric(metric: string, input: Options): ImprovementMetric {
  const { canary, against } = valuesOf(metric, input);
  const canaryValue = canary.length > 0 ? median(canary) : null;
  const baselineValue = against.length > 0 ? median(against) : null;
  const base = { metric, role: 'targeted' as const, canary_value: canaryValue, baseline_value: baselineValue, p_value: null };
  if (canaryValue === null || baselineValue === null) {
    return { ...base, verdict: 'no_data', reason: `no ${canaryValue === null ? 'changed-replica' : 'old-config'} values for ${metric}` };
  }
  const lower = canaryValue < baselineValue;
  const effectOk = canaryValue < baselineValue * (1 - input.min_improvement);
  let p: number;
  let powered: boolean;
  let test: string;
  if (input.comparison === 'baseline_replicas') {
    // "Baseline greater than canary" is "canary better" for higher-is-worse metrics.
    p = mannWhitneyU(against, canary, 'greater').p_value;
    powered = smallestAttainableP(against.length, canary.length) < input.alpha;
    test = `Mann–Whitney, n=${canary.length} vs ${against.length}`;
  } else {
    const differing = canary.filter((v) => v !== baselineValue);
    const below = differing.filter((v) => v < baselineValue).length;
    p = differing.length === 0 ? 1 : signTestP(below, differing.length);
    powered = differing.length > 0 && 0.5 ** differing.length < input.alpha;
    test = `sign test, ${below} of ${differing.length} intervals below`;
  }
  const better = powered ? lower && p < input.alpha : effectOk;
  const how = powered
    ? `p=${fmt(p)} (${test}) ${p < input.alpha ? '<' : '≥'} alpha ${input.alpha}`
    : `too few values for significance (${test}): needs the median ${fmt(input.min_improvement * 100)}% lower`;
  return {
    ...base,
    p_value: p,
    verdict: better ? 'better' : 'not_better',
    reason: `${metric}: changed ${fmt(canaryValue)} vs old ${fmt(baselineValue)}, ${better ? 'better' : 'not better'}; ${how}`,
  };
}

/** Judges the changed replicas against the old config on the targeted metrics. */
export function judgeImprovement(input: ImprovementInput): Improvement {
  const opts: Options = {
    ...input,
    alpha: input.alpha ?? IMPROVEMENT_DEFAULTS.alpha,
    min_improvement: input.min_improvement ?? IMPROVEMENT_DEFAULTS.min_improvement,
    max_regression: input.max_regression ?? IMPROVEMENT_DEFAULTS.max_regression,
  };
  const targeted = input.metrics.map((m) => judgeMetric(m, opts));
  const costs = CANARY_METRICS.map((m) => costOf(m, opts)).filter((c): c is ImprovementMetric => c !== null);
  const improved = targeted.some((m) => m.verdict === 'better');
  const verdict: ImprovementVerdict = improved && costs.length === 0
    ? 'better'
    : improved || targeted.some((m) => m.verdict === 'not_better') || costs.length > 0
      ? 'not_better'
      : 'no_data';
  const against = input.comparison === 'baseline_replicas' ? 'the replicas still on the old config' : 'the window measured before the change';
  const head = verdict === 'better'
    ? `Improvement shown against ${against}`
    : improved
      ? `The change improved ${input.metrics.join(', ')} but cost more than it may against ${against}`
      : verdict === 'not_better'
        ? `The change did not improve ${input.metrics.join(', ')} against ${against}`
        : `No data to show an improvement of ${input.metrics.join(', ')} against ${against}`;
  const metrics = [...targeted, ...costs];
  return { verdict, comparison: input.comparison, metrics, reason: `${head}: ${metrics.map((m) => m.reason).join('; ')}` };
}
