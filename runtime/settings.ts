/** Settings shared by the processes, from the environment variables of DESIGN.md. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return {
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TASK_QUEUE || 'servetune-rollouts',
  };
}

/**
 * Default of WORKER_MAX_CACHED_WORKFLOWS: rollouts the worker keeps in memory between workflow tasks.
 * (Chosen in BENCHMARKS.md; the reason is in docs/performance.md.)
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 200;

export function intFromEnv(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isInteger(n) && n >= 0 ? n : fallback;
}
