import type { EngineArgs, Snapshot } from '../../models';

export type ArgValue = string | number | boolean;

/** One piece of engine tuning knowledge: when a bottleneck shows, which flag to move and how far. */
export interface TuningRule {
  id: string;
  /** Bottleneck kinds this rule addresses; it fires when any of them is present. */
  addresses: string[];
  /** The engine's own CLI flag name, in snake_case. */
  parameter: string;
  /**
   * The engine's default, used when the replica does not report the flag. `null` when the engine
   * derives the value at startup (from GPU memory, the model, other flags): the rule then has no
   * number to step from unless the replica reports one, or it reads one from the snapshot.
   */
  defaultValue: ArgValue | null;
  /**
   * The new value, or null when the rule does not apply (already at its limit, or conditions unmet).
   * `args` are the replica's reported args, for rules whose condition depends on another flag.
   */
  propose(current: ArgValue | null, snapshot: Snapshot, bottlenecks: Set<string>, args: EngineArgs): ArgValue | null;
  reason: string;
  expected_improvement_pct: [number, number];
  /** Where the knowledge comes from: the engine's guide, its section, and a quoted phrase. */
  source: string;
  /**
   * Why the flag has no effect on this replica, or null when it may have one. A rule whose flag does
   * nothing where the engine runs (gpu_memory_utilization once the KV cache size is fixed in bytes,
   * as on vLLM's CPU backend) must not fire: a rollout of it would change nothing but restart engines.
   */
  noEffect?(facts: EngineFacts): string | null;
}

/** What is known about where and how a replica's engine runs, beyond its flags (read from its page). */
export interface EngineFacts {
  /** vLLM's KV cache size in bytes when fixed (--kv-cache-memory-bytes, or VLLM_CPU_KVCACHE_SPACE on CPU); null when sized from memory utilization. */
  kv_cache_memory_bytes?: number | null;
}

export function currentValue(args: EngineArgs, rule: TuningRule): ArgValue | null {
  const v = args[rule.parameter];
  return v === undefined || v === null ? rule.defaultValue : v;
}

/** A numeric flag's reported value, else `fallback` (its default). */
export function numberArg(args: EngineArgs, name: string, fallback: number): number {
  const v = args[name];
  return typeof v === 'number' ? v : fallback;
}

const round = (v: number, decimals: number) => Math.round(v * 10 ** decimals) / 10 ** decimals;

/** current + step, capped at max; null when that is no move up (already at or past the cap). */
export function stepUp(current: ArgValue | null, step: number, max: number, decimals = 2): number | null {
  if (typeof current !== 'number') return null;
  const next = Math.min(max, round(current + step, decimals));
  return next > current ? next : null;
}

/** current − step, floored at min; null when that is no move down. */
export function stepDown(current: ArgValue | null, step: number, min: number, decimals = 2): number | null {
  if (typeof current !== 'number') return null;
  const next = Math.max(min, round(current - step, decimals));
  return next < current ? next : null;
}

/** round(current × factor) for factor > 1, capped at max; null when that is no move up. */
export function scaleUp(current: ArgValue | null, factor: number, max: number): number | null {
  if (typeof current !== 'number') return null;
  const next = Math.min(max, Math.round(current * factor));
  return next > current ? next : null;
}

/** round(current × factor) for factor < 1, floored at min; null when that is no move down. */
export function scaleDown(current: ArgValue | null, factor: number, min: number): number | null {
  if (typeof current !== 'number') return null;
  const next = Math.max(min, Math.round(current * factor));
  return next < current ? next : null;
}

/** Requests running per replica in the snapshot, or null when unknown. */
export function runningPerReplica(snapshot: Snapshot): number | null {
  return snapshot.requests_running === null || snapshot.replicas === 0 ? null : snapshot.requests_running / snapshot.replicas;
}
