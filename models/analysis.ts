import { z } from 'zod';
import { EngineArgsSchema } from './engine';
import { SnapshotSchema } from './snapshot';

export const HealthComponentSchema = z.object({
  name: z.string(),
  metric: z.string(),
  value: z.number().nullable(),
  target: z.number(),
  weight: z.number(),
  score: z.number().nullable(),
});
export type HealthComponent = z.infer<typeof HealthComponentSchema>;

export const HealthScoreSchema = z.object({
  /** 0–100, or null when too few components had data to judge ("no data"). */
  score: z.number().nullable(),
  components: z.array(HealthComponentSchema),
});
export type HealthScore = z.infer<typeof HealthScoreSchema>;

export const BottleneckSchema = z.object({
  kind: z.string(),
  metric: z.string(),
  value: z.number(),
  threshold: z.number(),
  description: z.string(),
  /** How far past the threshold the value had to be (the baseline's per-replica noise); absent when not measured. */
  margin: z.number().optional(),
});
export type Bottleneck = z.infer<typeof BottleneckSchema>;

export const AnalysisResultSchema = z.object({
  bottlenecks: z.array(BottleneckSchema),
  overall_health_score: z.number().nullable(),
  health_components: z.array(HealthComponentSchema),
  metrics: SnapshotSchema,
  /** What the samples say about where the engines run (core/knowledge/rule.ts EngineFacts); absent when nothing is known. */
  engine_facts: z.object({ kv_cache_memory_bytes: z.number().nullable().optional() }).optional(),
});
export type AnalysisResult = z.infer<typeof AnalysisResultSchema>;

export const OptimizationSchema = z.object({
  parameter: z.string(),
  current: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  proposed: z.union([z.string(), z.number(), z.boolean()]),
  reason: z.string(),
  addresses: z.string(),
  expected_improvement_pct: z.tuple([z.number(), z.number()]),
  source: z.string(),
});
export type Optimization = z.infer<typeof OptimizationSchema>;

export const OptimizationPlanSchema = z.object({
  optimizations: z.array(OptimizationSchema),
  estimated_total_improvement: z.string(),
  /** The full engine args the new revision runs: current args with the proposed changes applied. */
  engine_args: EngineArgsSchema,
  revision: z.string(),
});
export type OptimizationPlan = z.infer<typeof OptimizationPlanSchema>;

/** One metric's canary-versus-baseline decision, as the canary judge recorded it. */
export const CanaryDecisionSchema = z.object({
  metric: z.string(),
  canary_value: z.number().nullable(),
  baseline_value: z.number().nullable(),
  threshold: z.number().nullable(),
  p_value: z.number().nullable(),
  effect_size: z.number().nullable(),
  cliffs_delta: z.number().nullable(),
  u_statistic: z.number().nullable(),
  method: z.enum(['exact', 'normal']).nullable(),
  decided_by: z.enum(['significance', 'effect_size']).nullable(),
  canary_n: z.number(),
  baseline_n: z.number(),
  verdict: z.enum(['pass', 'fail', 'no_data']),
  reason: z.string(),
});

export const CanaryJudgementSchema = z.object({
  verdict: z.enum(['pass', 'fail', 'no_data']),
  decisions: z.array(CanaryDecisionSchema),
});
export type CanaryJudgementState = z.infer<typeof CanaryJudgementSchema>;
