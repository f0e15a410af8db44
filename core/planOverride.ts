import type { EngineArgs, OptimizationPlan, PlanOverride } from '../models';

/** Where an override's changes say they come from, on each optimization. */
export const OVERRIDE_SOURCE = 'plan_override (an explicit step, e.g. a tuning run\'s candidate)';

/**
 * The plan of a rollout given an explicit step: the replica's args with the override's values. A flag
 * already at the wanted value is no change, so an override that changes nothing is an empty plan (the
 * rollout then ends at once, as with no rule firing).
 */
export function planFromOverride(currentArgs: EngineArgs, override: PlanOverride, revision: string): OptimizationPlan {
  const optimizations = Object.entries(override.engine_args)
    .filter(([flag, value]) => currentArgs[flag] !== value)
    .map(([flag, value]) => ({
      parameter: flag,
      current: currentArgs[flag] ?? null,
      proposed: value,
      reason: override.reason,
      addresses: 'explicit step',
      expected_improvement_pct: [0, 0] as [number, number],
      source: OVERRIDE_SOURCE,
    }));
  const engine_args: EngineArgs = { ...currentArgs };
  for (const o of optimizations) engine_args[o.parameter] = o.proposed;
  return { optimizations, estimated_total_improvement: 'unknown (explicit step)', engine_args, revision };
}
