/**
 * One-line summaries of a rollout's activities and timers, which the Temporal Web UI shows on each
 * event of the timeline instead of a bare activity type. Pure, so their wording is tested in one place.
 */
import type { ReplicaRange } from './fleetRef';

/** Where a stage stands among the rollout's: `stage 2/3 (50%)`. */
export interface StagePosition {
  label: string;
  /** 1-based. */
  number: number;
  count: number;
}

export function stageName(p: StagePosition): string {
  return `stage ${p.number}/${p.count} (${p.label})`;
}

/** `replica 3` or `replicas 2–5`, 1-based as an operator counts them, with the fleet's size. */
export function replicasText(range: ReplicaRange, fleetSize: number): string {
  const count = range.to - range.from;
  const which = count === 1 ? `replica ${range.from + 1}` : `replicas ${range.from + 1}–${range.to}`;
  return `${which} of ${fleetSize}`;
}

/** Whole seconds as they are, fractions to one decimal: `7.5 s`, `60 s`. */
function secondsText(seconds: number): string {
  return `${Number(seconds.toFixed(1))} s`;
}

export const summaries = {
  discover: (deployment: string) => `discover the replicas of ${deployment}`,
  readConfigs: (fleetSize: number) => `read the engine config of ${fleetSize} replicas`,
  baselineSample: (which: 'start' | 'end', fleetSize: number) => `baseline sample (${which}) of ${fleetSize} replicas`,
  baselineWindow: (seconds: number) => `baseline window: ${secondsText(seconds)}`,
  analyze: () => 'analyze the baseline: health score and bottlenecks',
  plan: (engine: string) => `plan ${engine} engine-flag changes`,
  approvalWait: (seconds: number) => `wait for approval (times out after ${secondsText(seconds)})`,
  push: (revision: string, range: ReplicaRange, fleetSize: number, stage: StagePosition) =>
    `push revision ${revision} to ${replicasText(range, fleetSize)} (${stageName(stage)})`,
  windowStartSample: (group: 'canary' | 'baseline', range: ReplicaRange, fleetSize: number, stage: StagePosition) =>
    `${stageName(stage)}: ${group} sample at window start, ${replicasText(range, fleetSize)}`,
  monitoringTick: (stage: StagePosition, seconds: number, tick: number, ticks: number) =>
    `monitoring window ${stageName(stage)}: ${secondsText(seconds)} until sample ${tick}/${ticks}`,
  measure: (stage: StagePosition, tick: number, ticks: number) => `${stageName(stage)}: measure and judge, sample ${tick}/${ticks}`,
  promotionWait: (stage: StagePosition, seconds: number) => `wait for promotion after ${stageName(stage)} (times out after ${secondsText(seconds)})`,
  rollback: (replicaCount: number) => `roll back ${replicaCount} replica${replicaCount === 1 ? '' : 's'} to the config each had before`,
  releaseLeases: (replicaCount: number) => `release the leases on ${replicaCount} replica${replicaCount === 1 ? '' : 's'}`,
};
