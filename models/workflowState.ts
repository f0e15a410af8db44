import { z } from 'zod';
import { AnalysisResultSchema, CanaryJudgementSchema, OptimizationPlanSchema } from './analysis';
import { LoadMeasurementSchema } from './capacity';
import { EngineTypeSchema } from './engine';
import { AuditEntrySchema } from './signals';

export const WorkflowStatusSchema = z.enum([
  'pending',
  'running',
  'awaiting_approval',
  'rolling_out',
  'completed',
  'rejected',
  'rolled_back',
  'failed',
]);
export type WorkflowStatus = z.infer<typeof WorkflowStatusSchema>;

export const StepSchema = z.enum([
  'pending',
  'collect_metrics',
  'analyze_performance',
  'generate_optimizations',
  'await_approval',
  'rollout_stage',
  'monitor_stage',
  'await_promotion',
  'rollback',
  'complete',
]);
export type Step = z.infer<typeof StepSchema>;

export const StageStatusSchema = z.enum(['in_progress', 'success', 'failed']);

/** One health reading taken during a stage's monitoring window. */
export const HealthSampleSchema = z.object({
  at: z.string(),
  health_score: z.number().nullable(),
});

export const StageRecordSchema = z.object({
  stage: z.string(),
  percentage: z.number(),
  status: StageStatusSchema,
  started_at: z.string(),
  completed_at: z.string().nullable(),
  health_score_before: z.number().nullable(),
  health_score_after: z.number().nullable(),
  replicas: z.array(z.string()),
  samples: z.array(HealthSampleSchema),
  /** The latest canary-versus-baseline judgement of this stage (null for a stage with no baseline replicas). */
  canary_judgement: CanaryJudgementSchema.nullable(),
  decision: z.string().nullable(),
  /** The changed replicas' load over the stage's window so far: offered and served (absent before it was recorded). */
  load: LoadMeasurementSchema.nullable().optional(),
});
export type StageRecord = z.infer<typeof StageRecordSchema>;

/** The check after the last stage: was the change better than the old config on what the plan targeted? */
export const ImprovementStateSchema = z.object({
  /** The request's `require_improvement`: false records the verdict but keeps the change anyway. */
  required: z.boolean(),
  verdict: z.enum(['better', 'not_better', 'no_data']),
  /** What the changed replicas were compared with (docs/rollout-and-gates.md). */
  comparison: z.enum(['baseline_replicas', 'pre_change_window']),
  /** The stage whose measurements were judged. */
  stage: z.string().nullable(),
  metrics: z.array(
    z.object({
      metric: z.string(),
      /** `targeted`: a metric the plan meant to improve; `cost`: a judged metric the change made too much worse. */
      role: z.enum(['targeted', 'cost']),
      canary_value: z.number().nullable(),
      baseline_value: z.number().nullable(),
      p_value: z.number().nullable(),
      verdict: z.enum(['better', 'not_better', 'no_data']),
      reason: z.string(),
    }),
  ),
  reason: z.string(),
});
export type ImprovementState = z.infer<typeof ImprovementStateSchema>;

/** `GET /api/v1/workflows/{id}` and the workflow's `getState` query answer exactly this. */
export const WorkflowStateSchema = z.object({
  workflow_id: z.string(),
  instance_id: z.string(),
  instance_type: EngineTypeSchema,
  status: WorkflowStatusSchema,
  current_step: StepSchema,
  current_stage: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  analysis_result: AnalysisResultSchema.nullable(),
  optimization_plan: OptimizationPlanSchema.nullable(),
  requires_approval: z.boolean(),
  auto_rollout: z.boolean(),
  approved: z.boolean().nullable(),
  approved_by: z.string().nullable(),
  approval_comment: z.string().nullable(),
  rejected_by: z.string().nullable(),
  rejection_reason: z.string().nullable(),
  monitoring_duration_seconds: z.number(),
  health_threshold: z.number(),
  stages: z.array(z.number()),
  replicas: z.array(z.string()),
  rollout_history: z.array(StageRecordSchema),
  final_health_score: z.number().nullable(),
  total_improvement: z.string().nullable(),
  error_message: z.string().nullable(),
  /** Absent for rollouts that never reached the check (or began before it existed). */
  improvement: ImprovementStateSchema.optional(),
  /** Who started, approved, rejected, promoted or aborted the rollout, when, and through which channel. */
  audit: z.array(AuditEntrySchema),
});
export type WorkflowState = z.infer<typeof WorkflowStateSchema>;
