import type { Bottleneck, EngineArgs, EngineType, Optimization, OptimizationPlan, Snapshot } from '../models';
import { currentValue, type TuningRule } from './knowledge/rule';
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

export function planOptimizations(opts: {
  engine: EngineType;
  snapshot: Snapshot;
  bottlenecks: Bottleneck[];
  currentArgs: EngineArgs;
  revision: string;
}): OptimizationPlan {
  const kinds = new Set(opts.bottlenecks.map((b) => b.kind));
  const optimizations: Optimization[] = [];
  const changed = new Set<string>();
  // Rules run in order and the first that moves a flag wins it: one change per flag per plan.
  for (const rule of rulesFor(opts.engine)) {
    const addressed = rule.addresses.filter((k) => kinds.has(k));
    if (addressed.length === 0 || changed.has(rule.parameter)) continue;
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
  return {
    optimizations,
    estimated_total_improvement: optimizations.length === 0 ? '0%' : `${lo}-${hi}%`,
    engine_args,
    revision: opts.revision,
  };
}
