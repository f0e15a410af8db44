import type { EngineArgs, EngineType, FlagChange, TuningConstraint } from '../models';
import type { EngineFacts } from './knowledge/rule';
import { SGLANG_LIMITS } from './knowledge/sglang';
import { TGI_LIMITS } from './knowledge/tgi';
import { VLLM_LIMITS } from './knowledge/vllm';
import { rulesFor } from './planner';
import { applyChanges, configKey } from './tuningSearch';

/**
 * The "corner" of a tuning run's bounds: the configuration that gives the engine the most capacity the
 * declared bounds allow. Only flags whose served throughput grows (or stays) with the value are set:
 * memory for the KV cache, a cache that saves prefill work, a token budget per step, work mixed into
 * decode steps. Flags that trade one thing for another (admission caution, chunk sizes that cost
 * memory, a router's queue length that turns 429s into timeouts) are left as they are; the verdict's
 * margin covers them (core/capacityVerdict.ts, docs/tuning.md#capacity-verdict).
 */
export interface CornerFlag {
  flag: string;
  /** The value with the most capacity, inside the rules' own hard limits. */
  value: number | boolean;
  /** Set only when the replica already reports a number (an unset flag means the engine sizes it itself, to the most the memory allows). */
  onlyWhenSet?: boolean;
}

const CORNERS: Record<EngineType, CornerFlag[]> = {
  vllm: [
    { flag: 'gpu_memory_utilization', value: VLLM_LIMITS.gpu_memory_utilization.max },
    { flag: 'enable_prefix_caching', value: true },
    { flag: 'max_num_batched_tokens', value: VLLM_LIMITS.max_num_batched_tokens.max },
  ],
  sglang: [
    { flag: 'mem_fraction_static', value: SGLANG_LIMITS.mem_fraction_static.max },
    { flag: 'enable_mixed_chunk', value: true },
    { flag: 'max_running_requests', value: SGLANG_LIMITS.max_running_requests.max, onlyWhenSet: true },
  ],
  tgi: [{ flag: 'cuda_memory_fraction', value: TGI_LIMITS.cuda_memory_fraction.max }],
};

export function cornerFlags(engine: EngineType): CornerFlag[] {
  return CORNERS[engine];
}

export type Corner = { changes: FlagChange[]; args: EngineArgs };

/**
 * The moves from `currentArgs` to the corner (none when the fleet already runs it), or null when the
 * corner is ruled out (a constraint: it was refused, reverted or rejected before). A flag that a rule
 * says does nothing where the engine runs is left alone.
 */
export function capacityCorner(engine: EngineType, currentArgs: EngineArgs, facts: EngineFacts | undefined, constraints: TuningConstraint[]): Corner | null {
  const rules = rulesFor(engine);
  const changes: FlagChange[] = [];
  for (const c of cornerFlags(engine)) {
    const reported = currentArgs[c.flag];
    if (c.onlyWhenSet && typeof reported !== 'number') continue;
    const rule = rules.find((r) => r.parameter === c.flag);
    if (rule?.noEffect?.(facts ?? {})) continue;
    const current = reported ?? rule?.defaultValue ?? null;
    if (current === c.value) continue;
    // Never below what the fleet already runs: a corner does not take capacity away.
    if (typeof current === 'number' && typeof c.value === 'number' && current > c.value) continue;
    changes.push({ flag: c.flag, from: reported ?? null, to: c.value });
  }
  const args = applyChanges(currentArgs, changes);
  const ruledOut = new Set(constraints.map((k) => configKey(k.engine_args)));
  return ruledOut.has(configKey(args)) ? null : { changes, args };
}
