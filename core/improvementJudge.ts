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
 * The change is kept ("better") when at least one targeted metric is significantly better; a metric the
 * change made worse is the canary judge's business, which has already failed the stage if it was.
 */
import { CANARY_METRICS, binomial, mannWhitneyU, median, smallestAttainableP } from './canaryJudge';

export type ImprovementVerdict = 'better' | 'not_better' | 'no_data';
export type ImprovementComparison = 'baseline_replicas' | 'pre_change_window';

/** The judged metrics each bottleneck kind shows in (a queue or a full KV cache delays the first token; preemptions recompute). */
export const METRICS_BY_BOTTLENECK: Record<string, readonly string[]> = {
  high_ttft: ['ttft_p95_ms'],
  high_itl: ['itl_p95_ms'],
  errors: ['error_rate'],
  queue_backlog: ['ttft_p95_ms'],
  low_batch_utilisation: ['ttft_p95_ms'],
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
}

export interface ImprovementMetric {
  metric: string;
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

export const IMPROVEMENT_DEFAULTS = { alpha: 0.05, min_improvement: 0.1 };

const fmt = (v: number) => Number(v.toPrecision(4)).toString();

/** One-sided sign test: P(X ≥ k) for X ~ Binomial(n, ½). */
export function signTestP(k: number, n: number): number {
  let tail = 0;
  for (let i = k; i <= n; i++) tail += binomial(n, i);
  return tail / 2 ** n;
}

function judgeMetric(metric: string, input: Required<Pick<ImprovementInput, 'alpha' | 'min_improvement'>> & ImprovementInput): ImprovementMetric {
  const canary = (input.canary[metric] ?? []).filter(Number.isFinite);
  const against = input.comparison === 'baseline_replicas'
    ? (input.baseline?.[metric] ?? []).filter(Number.isFinite)
    : [input.before?.[metric]].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const canaryValue = canary.length > 0 ? median(canary) : null;
  const baselineValue = against.length > 0 ? median(against) : null;
  const base = { metric, canary_value: canaryValue, baseline_value: baselineValue, p_value: null };
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
  const opts = { ...input, alpha: input.alpha ?? IMPROVEMENT_DEFAULTS.alpha, min_improvement: input.min_improvement ?? IMPROVEMENT_DEFAULTS.min_improvement };
  const metrics = input.metrics.map((m) => judgeMetric(m, opts));
  const verdict: ImprovementVerdict = metrics.some((m) => m.verdict === 'better')
    ? 'better'
    : metrics.some((m) => m.verdict === 'not_better')
      ? 'not_better'
      : 'no_data';
  const against = input.comparison === 'baseline_replicas' ? 'the replicas still on the old config' : 'the window measured before the change';
  const head = verdict === 'better'
    ? `Improvement shown against ${against}`
    : verdict === 'not_better'
      ? `The change did not improve ${input.metrics.join(', ')} against ${against}`
      : `No data to show an improvement of ${input.metrics.join(', ')} against ${against}`;
  return { verdict, comparison: input.comparison, metrics, reason: `${head}: ${metrics.map((m) => m.reason).join('; ')}` };
}
