import type { Bottleneck, EngineArgs, EngineType, Optimization, OptimizationPlan, Snapshot } from '../models';
import { currentValue, type EngineFacts, type TuningRule } from './knowledge/rule';
import { sglangRules } from './knowledge/sglang';
import { tgiRules } from './knowledge/tgi';
import { vllmRules } from './knowledge/vllm';

const KNOWLEDGE: Record<EngineType, TuningRule[]> = {
  vllm: vllmRules,
  tgi: tgiRules,
  sglang: sglangRules,
};

export function rulesFor(engine: EngineType): TuningRule[] {
  return KNOWLEDGE[engine];
}

/** Independent improvements compound: 1 − Π(1 − e_i), for each end of the range. */
export function combineImprovements(ranges: Array<[number, number]>): [number, number] {
  const combine = (values: number[]) => 100 * (1 - values.reduce((p, v) => p * (1 - v / 100), 1));
  return [Math.round(combine(ranges.map((r) => r[0]))), Math.round(combine(ranges.map((r) => r[1])))];
}

/** A flag a rule would have moved, and why the plan leaves it alone. */
export interface SkippedParameter {
  parameter: string;
  rule: string;
  why: string;
}

export interface PlanInput {
  engine: EngineType;
  snapshot: Snapshot;
  bottlenecks: Bottleneck[];
  currentArgs: EngineArgs;
  revision: string;
  /**
   * True when `currentArgs` is the replica's whole command line (an agent's report), so a flag it
   * leaves out runs at the engine's default. False when they are only what a page happened to show:
   * a missing flag's value is then unknown, and no rule steps from a default it cannot see.
   * Default true.
   */
  argsComplete?: boolean;
  facts?: EngineFacts;
}

/** The plan and the flags it left alone because their current value is unknown or they do nothing here. */
export function planWithSkips(opts: PlanInput): { plan: OptimizationPlan; skipped: SkippedParameter[] } {
  const kinds = new Set(opts.bottlenecks.map((b) => b.kind));
  const optimizations: Optimization[] = [];
  const skipped: SkippedParameter[] = [];
  const changed = new Set<string>();
  const complete = opts.argsComplete ?? true;
  // Rules run in order and the first that moves a flag wins it: one change per flag per plan.
  for (const rule of rulesFor(opts.engine)) {
    const addressed = rule.addresses.filter((k) => kinds.has(k));
    if (addressed.length === 0 || changed.has(rule.parameter)) continue;
    const noEffect = rule.noEffect?.(opts.facts ?? {}) ?? null;
    if (noEffect !== null) {
      skipped.push({ parameter: rule.parameter, rule: rule.id, why: noEffect });
      continue;
    }
    const reported = opts.currentArgs[rule.parameter];
    if (!complete && (reported === undefined || reported === null)) {
      skipped.push({ parameter: rule.parameter, rule: rule.id, why: 'current value unknown (the replica does not report it): nothing proposed' });
      continue;
    }
    const current = currentValue(opts.currentArgs, rule);
    const proposed = rule.propose(current, opts.snapshot, kinds, opts.currentArgs);
    if (proposed === null || proposed === current) continue;
    changed.add(rule.parameter);
    optimizations.push({
      parameter: rule.parameter,
      current: opts.currentArgs[rule.parameter] ?? null,
      proposed,
      reason: rule.reason,
      addresses: addressed.join(', '),
      expected_improvement_pct: rule.expected_improvement_pct,
      source: rule.source,
    });
  }
  const engine_args: EngineArgs = { ...opts.currentArgs };
  for (const o of optimizations) engine_args[o.parameter] = o.proposed;
  const [lo, hi] = combineImprovements(optimizations.map((o) => o.expected_improvement_pct));
  // Several rules can move one flag: report each flag and reason once.
  const stillSkipped = skipped.filter((s, i) => skipped.findIndex((o) => o.parameter === s.parameter && o.why === s.why) === i);
  return {
    plan: {
      optimizations,
      estimated_total_improvement: optimizations.length === 0 ? '0%' : `${lo}-${hi}%`,
      engine_args,
      revision: opts.revision,
    },
    skipped: stillSkipped,
  };
}

export function planOptimizations(opts: PlanInput): OptimizationPlan {
  return planWithSkips(opts).plan;
}
