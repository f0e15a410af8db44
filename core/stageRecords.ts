import type { StageRecord } from '../models';

/**
 * When a rollout ends, a stage it was still in (a push or a measurement failed, the rollout was
 * cancelled) is closed as `failed` with the reason the rollout ended: no finished rollout shows a stage
 * `in_progress`. Stages already closed keep their own outcome.
 */
export function closeOpenStages(history: StageRecord[], at: string, reason: string): void {
  for (const record of history) {
    if (record.status !== 'in_progress') continue;
    record.status = 'failed';
    record.completed_at = at;
    record.decision = `Stage interrupted: ${reason}`;
  }
}
