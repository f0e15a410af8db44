import type { RolloutSummary, StageRecord, WorkflowState } from '../models';

/** The stage the rollout is on or finished last, if any. */
export function currentStage(s: WorkflowState): StageRecord | undefined {
  return s.rollout_history[s.rollout_history.length - 1];
}

/** The latest health reading: the current stage's result, else its last sample, else its score before; without a stage, the final or baseline score. */
export function currentHealth(s: WorkflowState): number | null {
  const stage = currentStage(s);
  if (stage) {
    if (stage.health_score_after !== null) return stage.health_score_after;
    const sampled = [...stage.samples].reverse().find((x) => x.health_score !== null)?.health_score;
    if (sampled !== undefined && sampled !== null) return sampled;
    return stage.health_score_before;
  }
  return s.final_health_score ?? s.analysis_result?.overall_health_score ?? null;
}

/** What the workflow keeps in its memo: enough for a list row and for a GET no worker answers. */
export function rolloutSummary(s: WorkflowState): RolloutSummary {
  return {
    workflow_id: s.workflow_id,
    instance_id: s.instance_id,
    instance_type: s.instance_type,
    status: s.status,
    current_step: s.current_step,
    current_stage: s.current_stage,
    created_at: s.created_at,
    updated_at: s.updated_at,
    requires_approval: s.requires_approval,
    health_score_baseline: s.analysis_result?.overall_health_score ?? null,
    health_score_current: currentHealth(s),
    final_health_score: s.final_health_score,
    total_improvement: s.total_improvement,
    error_message: s.error_message,
  };
}

/**
 * The fields whose change makes the workflow rewrite its memo: status, step, stage, scores and the
 * error. Not the time, nor each monitoring sample, so a rollout writes its memo a bounded number of
 * times (each write is a history event).
 */
export function summaryChangeKey(s: RolloutSummary): string {
  return JSON.stringify([s.status, s.current_step, s.current_stage, s.health_score_baseline, s.final_health_score, s.total_improvement, s.error_message]);
}
