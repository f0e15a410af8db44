/**
 * Stage sizing. Replicas keep their identity across stages: stage n moves a prefix of the
 * replica list, so the 50% stage contains the 10% stage's replicas and the changed set only grows.
 */
import type { ReplicaRange } from './fleetRef';

export interface PlannedStage {
  label: string;
  percentage: number;
  /** Every replica that runs the new config once this stage is applied. */
  replicas: string[];
  /** The replicas this stage changes (not changed by an earlier stage). */
  added: string[];
  /** The same two sets as index ranges into the replica list, which is what activities are given. */
  range: ReplicaRange;
  addedRange: ReplicaRange;
}

/** ceil(p/100 × N), at least 1, never fewer than the stage before, never more than N. */
export function replicasForStage(percentage: number, total: number, previousCount = 0): number {
  if (total <= 0) return 0;
  const wanted = Math.ceil((percentage / 100) * total - 1e-9);
  return Math.min(total, Math.max(wanted, 1, previousCount));
}

export function stageLabel(percentage: number): string {
  return `${Number.isInteger(percentage) ? percentage : Number(percentage.toFixed(2))}%`;
}

export function planStages(stages: number[], replicas: string[]): PlannedStage[] {
  const planned: PlannedStage[] = [];
  let previousCount = 0;
  for (const percentage of stages) {
    const count = replicasForStage(percentage, replicas.length, previousCount);
    planned.push({
      label: stageLabel(percentage),
      percentage,
      replicas: replicas.slice(0, count),
      added: replicas.slice(previousCount, count),
      range: { from: 0, to: count },
      addedRange: { from: previousCount, to: count },
    });
    previousCount = count;
  }
  return planned;
}

/**
 * Whether stage `index` is the last one that leaves replicas on the old config: a later stage exists and
 * every later stage moves the whole fleet. After it, the evidence comparing both groups is complete.
 */
export function isLastComparedStage(stages: readonly PlannedStage[], index: number, fleetCount: number): boolean {
  if (stages[index] === undefined || stages[index].range.to >= fleetCount) return false;
  const later = stages.slice(index + 1);
  return later.length > 0 && later.every((s) => s.range.to >= fleetCount);
}
