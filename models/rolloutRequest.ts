import { z } from 'zod';
import { EngineTypeSchema } from './engine';
import { MetricSourceSchema } from './metricSource';
import { TargetAddressSchema } from './targetAddress';

const ONE_WEEK_SECONDS = 7 * 24 * 3600;

/** Stage percentages: strictly increasing, each in (0, 100], ending at 100. */
export const StagesSchema = z
  .array(z.number().finite().gt(0).lte(100), { invalid_type_error: 'stages must be an array of percentages' })
  .min(1)
  .max(20)
  .refine((s) => s.every((p, i) => i === 0 || p > s[i - 1]), { message: 'stages must be strictly increasing' })
  .refine((s) => s[s.length - 1] === 100, { message: 'stages must end at 100' });

/** SLO targets the health score is measured against; any subset overrides the defaults. */
export const SloSchema = z
  .object({
    ttft_p95_ms: z.number().finite().positive().max(3_600_000),
    itl_p95_ms: z.number().finite().positive().max(600_000),
    e2e_p95_ms: z.number().finite().positive().max(86_400_000),
    error_rate: z.number().finite().gt(0).lte(1),
  })
  .strict();
export type Slo = z.infer<typeof SloSchema>;

/** Flag values a rollout applies as its plan, with the reason recorded on each change. */
export const PlanOverrideSchema = z
  .object({
    engine_args: z
      .record(z.string().min(1).max(100).regex(/^[a-z][a-z0-9_]*$/, 'flag names are snake_case'), z.union([z.string().max(200), z.number().finite(), z.boolean()]))
      .refine((args) => Object.keys(args).length >= 1 && Object.keys(args).length <= 20, { message: 'engine_args must name 1 to 20 flags' }),
    reason: z.string().min(1).max(1000),
  })
  .strict();
export type PlanOverride = z.infer<typeof PlanOverrideSchema>;

/** Body of `POST /api/v1/workflows`; unknown fields are rejected so typos never pass silently. */
export const RolloutRequestSchema = z
  .object({
    /** The deployment; `localhost:8000`, `127.0.0.1:8000` and `http://localhost:8000` are one deployment (core/targetAddress.ts). */
    instance_id: TargetAddressSchema,
    instance_type: EngineTypeSchema,
    requires_approval: z.boolean().default(false),
    auto_rollout: z.boolean().default(true),
    monitoring_duration_seconds: z.number().finite().positive().max(ONE_WEEK_SECONDS).default(300),
    health_threshold: z.number().finite().gt(0).lte(1).default(0.9),
    stages: StagesSchema.default([10, 50, 100]),
    replicas: z.array(TargetAddressSchema).min(1).max(10_000).optional(),
    approval_timeout_seconds: z.number().finite().positive().max(30 * 24 * 3600).default(24 * 3600),
    slo: SloSchema.partial().optional(),
    /** Where metrics come from: scraping each replica (default) or a Prometheus server that scrapes them. */
    metrics_source: MetricSourceSchema.optional(),
    /**
     * An explicit step instead of the rule base's plan (a tuning run's candidate): these flags get these
     * values, every other flag keeps the replica's. Without it, the planner's rules decide.
     */
    plan_override: PlanOverrideSchema.optional(),
    /**
     * After the last stage, keep the change only if the changed replicas are better than the old config
     * on the metrics the plan targeted (core/improvementJudge.ts); false keeps any change that passed its gates.
     */
    require_improvement: z.boolean().default(true),
  })
  .strict();

/** What the client sends (defaults optional). */
export type RolloutRequestInput = z.input<typeof RolloutRequestSchema>;
/** What the workflow receives: validated, defaults applied. */
export type RolloutRequest = z.output<typeof RolloutRequestSchema>;
