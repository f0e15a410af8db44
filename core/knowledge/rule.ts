import type { EngineArgs, Snapshot } from '../../models';

export type ArgValue = string | number | boolean;

/** One piece of engine tuning knowledge: when a bottleneck shows, which flag to move and how far. */
export interface TuningRule {
  id: string;
  /** Bottleneck kinds this rule addresses; it fires when any of them is present. */
  addresses: string[];
  parameter: string;
  /** The engine's default, used when the replica does not report the flag. */
  defaultValue: ArgValue;
  /** The new value, or null when the rule does not apply (already at its limit, or conditions unmet). */
  propose(current: ArgValue, snapshot: Snapshot, bottlenecks: Set<string>): ArgValue | null;
  reason: string;
  expected_improvement_pct: [number, number];
  source: string;
}

export function currentValue(args: EngineArgs, rule: TuningRule): ArgValue {
  const v = args[rule.parameter];
  return v === undefined || v === null ? rule.defaultValue : v;
}
