/**
 * What a stage's monitoring keeps and decides per sample. Pure: the workflow calls it at each tick.
 *
 * History bound: every monitoring tick costs the workflow a timer, an activity and workflow tasks
 * (about 11 history events) plus the activity's input and result. A rollout's history must stay well
 * under Temporal's limits (51,200 events, 50 MB) for every request the schema accepts, so the number of
 * ticks of a whole rollout is capped at `MONITORING_TICK_BUDGET`: long windows are sampled less often
 * instead of more times, and the series each tick carries keeps only the latest `SERIES_INTERVALS`.
 */
import { describeCanaryFailure, type CanaryJudgement } from './canaryJudge';
import { healthGate } from './healthGate';
import { samplingIntervalSeconds, shouldStopMonitoring } from './transitions';

/**
 * Intervals per metric and group the canary judge sees: the latest ones. 25 + 25 keeps the judge's
 * p-value exact (EXACT_MAX_REPLICAS = 50) and bounds what every tick carries.
 */
export const SERIES_INTERVALS = 25;

/** Monitoring ticks of one rollout, all stages together. */
export const MONITORING_TICK_BUDGET = 1200;

/**
 * The sampling interval of a stage's window when the rollout has `stageCount` stages: about five
 * samples per window, never closer than 1 s, never further apart than 60 s unless the budget needs it.
 */
export function budgetedSamplingIntervalSeconds(windowSeconds: number, stageCount: number): number {
  const ticksPerStage = Math.max(1, Math.floor(MONITORING_TICK_BUDGET / Math.max(1, stageCount)));
  return Math.max(samplingIntervalSeconds(windowSeconds), windowSeconds / ticksPerStage);
}

export interface SampleInput {
  /** The health score before the stage, and the canary's over the window so far. */
  before: number | null;
  after: number | null;
  threshold: number;
  judgement: CanaryJudgement;
  /** Failing samples in a row before this one. */
  consecutiveFailures: number;
  isFinalSample: boolean;
}

export interface SampleDecision {
  /** Failing samples in a row including this one. */
  consecutiveFailures: number;
  /** `fail`: the stage failed; `pass`: the window ended and the stage passed; `continue`: keep sampling. */
  outcome: 'continue' | 'pass' | 'fail';
  /** Why: the failing gate's reason, or the passing gate's. */
  reason: string;
}

/**
 * One sample's decision. Two gates: the absolute one of DESIGN.md (health after ≥ threshold × before)
 * and the canary judged against the old config. A failing sample counts toward a stop; two in a row
 * stop the stage early, and at the end of the window one is enough (see `shouldStopMonitoring`).
 */
export function decideSample(input: SampleInput): SampleDecision {
  const gate = healthGate({ before: input.before, after: input.after, threshold: input.threshold });
  const canaryWorse = input.judgement.verdict === 'fail';
  const failing = !gate.passed || canaryWorse;
  const consecutiveFailures = failing ? input.consecutiveFailures + 1 : 0;
  const reason = !gate.passed ? gate.reason : canaryWorse ? describeCanaryFailure(input.judgement) : gate.reason;
  if (shouldStopMonitoring({ consecutiveFailures, isFinalSample: input.isFinalSample })) return { consecutiveFailures, outcome: 'fail', reason };
  return { consecutiveFailures, outcome: input.isFinalSample ? 'pass' : 'continue', reason };
}
