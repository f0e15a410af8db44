import { detectBottlenecks } from '../../../core/bottlenecks';
import { DEFAULT_SLO } from '../../../core/healthScore';
import { planOptimizations } from '../../../core/planner';
import type { EngineArgs, EngineType, OptimizationPlan, Snapshot } from '../../../models';
import { snapshot } from './snapshotFixture';

/** Plan for `engine` from a fixture snapshot with `overrides`, through bottleneck detection as in production. */
export function planFor(engine: EngineType, overrides: Partial<Snapshot>, args: EngineArgs): OptimizationPlan {
  const s = snapshot(overrides);
  return planOptimizations({ engine, snapshot: s, bottlenecks: detectBottlenecks(s, DEFAULT_SLO), currentArgs: args, revision: 'rev-test' });
}

/** The proposed value for `parameter`, or undefined when the plan leaves it alone. */
export function proposed(plan: OptimizationPlan, parameter: string) {
  return plan.optimizations.find((o) => o.parameter === parameter)?.proposed;
}

/** The ids-free summary of a plan: parameter → proposed value. */
export function changes(plan: OptimizationPlan): Record<string, unknown> {
  return Object.fromEntries(plan.optimizations.map((o) => [o.parameter, o.proposed]));
}
