import { z } from 'zod';
import { EngineTypeSchema } from './engine';
import { StepSchema, WorkflowStateSchema, WorkflowStatusSchema } from './workflowState';

/**
 * The compact summary a rollout keeps in its memo (key `summary`) at every status or stage change, so
 * visibility alone can list rollouts and describe one whose worker does not answer. A list row is
 * exactly this plus where it came from. Fields a row built without the memo cannot know are null.
 */
export const RolloutSummarySchema = z.object({
  workflow_id: z.string(),
  instance_id: z.string(),
  instance_type: EngineTypeSchema.nullable(),
  status: WorkflowStatusSchema,
  current_step: StepSchema.nullable(),
  current_stage: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  requires_approval: z.boolean().nullable(),
  /** The fleet's health before the rollout changed anything (the analysis' overall score). */
  health_score_baseline: z.number().nullable(),
  /** The latest health reading when the summary was written (see core/rolloutSummary.ts). */
  health_score_current: z.number().nullable(),
  final_health_score: z.number().nullable(),
  total_improvement: z.string().nullable(),
  error_message: z.string().nullable(),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

/**
 * Temporal's own status of the workflow (RUNNING, COMPLETED, FAILED, TERMINATED, CANCELLED,
 * TIMED_OUT, CONTINUED_AS_NEW): a rollout terminated from the Web UI reads `TERMINATED` here.
 */
export const ExecutionStatusSchema = z.string();

/** One row of `GET /api/v1/workflows`: a summary, Temporal's status, and where the summary came from. */
export const RolloutRowSchema = RolloutSummarySchema.extend({
  execution_status: ExecutionStatusSchema,
  /** `memo`: the rollout's own summary; `search_attributes`: a rollout started before it kept one; `claim`: accepted, not started yet. */
  summary_source: z.enum(['memo', 'search_attributes', 'claim']),
});
export type RolloutRow = z.infer<typeof RolloutRowSchema>;

export const WorkflowListSchema = z.object({ workflows: z.array(RolloutRowSchema) });

/** A GET answered by the rollout itself (its query, or its result once finished). */
export const LiveStateSchema = WorkflowStateSchema.extend({ live: z.literal(true) });

/** A GET no worker answered in time, or of a rollout that did not end by itself: the last summary and why. */
export const SummaryStateSchema = RolloutRowSchema.extend({
  live: z.literal(false),
  live_unavailable_reason: z.string(),
});
export type SummaryState = z.infer<typeof SummaryStateSchema>;

/** `GET /api/v1/workflows/{id}`: the full state (`live: true`) or the last summary (`live: false`). */
export const RolloutReadSchema = z.union([LiveStateSchema, SummaryStateSchema]);
export type RolloutRead = z.infer<typeof RolloutReadSchema>;
