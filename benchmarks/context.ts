import type { RolloutWorkflowInput } from '../workflows/rollout';
import type { Embedded } from './embedded';

export interface BenchContext {
  embedded: Embedded;
  /** `--quick`: fewer repetitions and shorter load phases, same figures. */
  quick: boolean;
  /** `--profile`: run the processes behind missed figures under `node --cpu-prof` into this directory. */
  profileDir?: string;
  log(line: string): void;
}

let counter = 0;
/** Unique ids per run, so benchmarks never collide on a workflow ID. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** A rollout request with every field given, as the gateway would pass it after validation. */
export function rolloutInput(over: Partial<RolloutWorkflowInput> & Pick<RolloutWorkflowInput, 'instance_id'>): RolloutWorkflowInput {
  return {
    instance_type: 'vllm',
    requires_approval: false,
    auto_rollout: true,
    // The minimum the gate can work with: windows are simulated work and are taken out of the figures.
    monitoring_duration_seconds: 0.001,
    health_threshold: 0.9,
    stages: [10, 50, 100],
    approval_timeout_seconds: 24 * 3600,
    require_improvement: true,
    ...over,
  };
}
