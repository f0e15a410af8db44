import type { RolloutRequest, StageRecord, WorkflowState } from '../models';
import type { PlannedStage } from './stagePlan';

/** The state document of a rollout that has just been accepted. */
export function initialState(workflowId: string, req: RolloutRequest, now: string): WorkflowState {
  return {
    workflow_id: workflowId,
    instance_id: req.instance_id,
    instance_type: req.instance_type,
    status: 'pending',
    current_step: 'pending',
    current_stage: null,
    created_at: now,
    updated_at: now,
    analysis_result: null,
    optimization_plan: null,
    requires_approval: req.requires_approval,
    auto_rollout: req.auto_rollout,
    approved: null,
    approved_by: null,
    approval_comment: null,
    rejected_by: null,
    rejection_reason: null,
    monitoring_duration_seconds: req.monitoring_duration_seconds,
    health_threshold: req.health_threshold,
    stages: req.stages,
    replicas: [],
    rollout_history: [],
    final_health_score: null,
    total_improvement: null,
    error_message: null,
    audit: [],
  };
}

export function startedStage(stage: PlannedStage, before: number | null, now: string): StageRecord {
  return {
    stage: stage.label,
    percentage: stage.percentage,
    status: 'in_progress',
    started_at: now,
    completed_at: null,
    health_score_before: before,
    health_score_after: null,
    replicas: stage.replicas,
    samples: [],
    canary_judgement: null,
    decision: null,
  };
}

/** "+12.3% health score (75.0 → 84.2)", from the scores the rollout actually measured. */
export function describeImprovement(before: number | null, after: number | null, estimate: string | undefined): string | null {
  if (before === null || after === null) return null;
  const pct = before === 0 ? 0 : ((after - before) / before) * 100;
  const sign = pct >= 0 ? '+' : '';
  const measured = `${sign}${pct.toFixed(1)}% health score (${before.toFixed(1)} → ${after.toFixed(1)})`;
  return estimate ? `${measured}; planner estimated ${estimate}` : measured;
}
