import { z } from 'zod';
import { CapacityVerdictSchema } from './capacity';
import { EngineArgsSchema, EngineTypeSchema } from './engine';
import { RolloutRequestSchema } from './rolloutRequest';

const ONE_YEAR_SECONDS = 365 * 24 * 3600;

/** Which of a tuning run's rollouts wait for a human approve: every one, only the first, or none. */
export const TuningApprovalSchema = z.enum(['each', 'first', 'none']);
export type TuningApproval = z.infer<typeof TuningApprovalSchema>;

/** One flag move a tuning iteration tried. */
export const FlagChangeSchema = z.object({
  flag: z.string(),
  from: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  to: z.union([z.string(), z.number(), z.boolean()]),
});
export type FlagChange = z.infer<typeof FlagChangeSchema>;

/** A configuration never to try again, and why (an engine refused it, it failed the gate, it was rejected). */
export const TuningConstraintSchema = z.object({
  engine_args: EngineArgsSchema,
  why: z.string(),
});
export type TuningConstraint = z.infer<typeof TuningConstraintSchema>;

/** The budget a tuning run may spend; it stops when any one is spent. */
export const TuningBudgetSchema = z
  .object({
    max_iterations: z.number().int().min(1).max(100).default(8),
    max_wall_seconds: z.number().finite().positive().max(ONE_YEAR_SECONDS).default(24 * 3600),
    /** Engine restarts: every replica a config push (or a rollback's push) restarted. */
    max_restarts: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict();
export type TuningBudget = z.infer<typeof TuningBudgetSchema>;

/**
 * Body of `POST /api/v1/tunings`: the rollout settings each iteration's rollout uses, plus the run's
 * goal, approvals and budget. Unknown fields are refused.
 */
export const TuningRequestSchema = RolloutRequestSchema.omit({ requires_approval: true, auto_rollout: true, plan_override: true })
  .extend({
    /** The health score that counts as "SLO met": the run stops once the fleet reaches it. */
    target_health: z.number().finite().gt(0).lte(100).default(80),
    approval: TuningApprovalSchema.default('none'),
    budget: TuningBudgetSchema.default({}),
  })
  .strict();
export type TuningRequestInput = z.input<typeof TuningRequestSchema>;
export type TuningRequest = z.output<typeof TuningRequestSchema>;

/**
 * What an iteration's rollout came to. `rejected`: a human rejected (or aborted) it before any change;
 * `approval_timeout`: no one answered its approval in time. Neither pushed anything.
 */
export const TuningVerdictSchema = z.enum(['kept', 'reverted', 'refused', 'rejected', 'approval_timeout', 'no_change', 'failed']);
export type TuningVerdict = z.infer<typeof TuningVerdictSchema>;

/** One iteration of a tuning run: what was tried, why, what the rollout measured and what became of it. */
export const DecisionLogEntrySchema = z.object({
  iteration: z.number(),
  rollout_id: z.string(),
  /**
   * `rules` when the engine's rule base proposed the step, `search` when the coordinate search did,
   * `capacity` when it was the corner of the bounds tried on a saturated fleet (docs/tuning.md#capacity-verdict).
   */
  source: z.enum(['rules', 'search', 'capacity']),
  changes: z.array(FlagChangeSchema),
  evidence: z.string(),
  verdict: TuningVerdictSchema,
  score_before: z.number().nullable(),
  score_after: z.number().nullable(),
  /** Engine restarts this iteration cost (pushes plus rollback pushes). */
  restarts: z.number(),
  /** The rollout's own words: its improvement, or why it ended otherwise. */
  message: z.string().nullable(),
  at: z.string(),
});
export type DecisionLogEntry = z.infer<typeof DecisionLogEntrySchema>;

export const TuningStatusSchema = z.enum(['pending', 'running', 'completed', 'failed']);
export type TuningStatus = z.infer<typeof TuningStatusSchema>;

export const StopReasonSchema = z.enum([
  'slo_met',
  'search_exhausted',
  'budget_iterations',
  'budget_wall_time',
  'budget_restarts',
  'stopped',
  'rollout_failed',
  /** An iteration's rollout was rejected (or aborted) while it awaited approval: the run ends there. */
  'rejected',
  /** No one answered an iteration's approval within its `approval_timeout_seconds`: the run ends there. */
  'approval_timeout',
  /** The fleet is past its capacity: `capacity_verdict` carries the measurements and the argument. */
  'capacity_bound',
]);
export type StopReason = z.infer<typeof StopReasonSchema>;

/** The iteration's rollout that waits for a human approve now, and until when; answer it as any rollout. */
export const AwaitingApprovalSchema = z.object({
  iteration: z.number(),
  rollout_id: z.string(),
  /** When it began to wait, and when it stops waiting (then it ends `rejected` and so does the run's iteration). */
  since: z.string(),
  until: z.string().nullable(),
});
export type AwaitingApproval = z.infer<typeof AwaitingApprovalSchema>;

/** `GET /api/v1/tunings/{id}` and the tuning workflow's `getTuningState` query answer exactly this. */
export const TuningStateSchema = z.object({
  tuning_id: z.string(),
  instance_id: z.string(),
  instance_type: EngineTypeSchema,
  status: TuningStatusSchema,
  stop_reason: StopReasonSchema.nullable(),
  /** Who asked the run to stop (it ends after the current iteration), or null. */
  stop_requested_by: z.string().nullable(),
  target_health: z.number(),
  approval: TuningApprovalSchema,
  budget: TuningBudgetSchema,
  started_by: z.string(),
  started_at: z.string(),
  updated_at: z.string(),
  iterations: z.number(),
  restarts_spent: z.number(),
  /** The rollout this iteration runs (approve it at /api/v1/workflows/{id}/approve), or null between iterations. */
  current_rollout_id: z.string().nullable(),
  /**
   * Set while the current iteration's rollout waits for an approve: approve or reject that rollout
   * (`POST /api/v1/workflows/{rollout_id}/approve|reject`); null otherwise.
   */
  awaiting_approval: AwaitingApprovalSchema.nullable(),
  /** The fleet's engine args as last read, and its health score then. */
  current_args: EngineArgsSchema.nullable(),
  current_score: z.number().nullable(),
  /** The score when the run began, and the best one a kept rollout reached. */
  initial_score: z.number().nullable(),
  best_score: z.number().nullable(),
  constraints: z.array(TuningConstraintSchema),
  decision_log: z.array(DecisionLogEntrySchema),
  error_message: z.string().nullable(),
  /** Consecutive probes that found the fleet saturated (absent in runs from before the capacity verdict). */
  saturated_probes: z.number().optional(),
  /** Set when the run ends `capacity_bound`: why no configuration in the flags' bounds serves the load. */
  capacity_verdict: CapacityVerdictSchema.nullable().optional(),
});
export type TuningState = z.infer<typeof TuningStateSchema>;

/** Body of `POST /api/v1/tunings/{id}/stop`. */
export const StopTuningSchema = z.object({ stopped_by: z.string().max(200).optional(), reason: z.string().max(1000).optional() }).strict();
export type StopTuningPayload = z.infer<typeof StopTuningSchema>;
