import { z } from 'zod';

/**
 * Engine-neutral view of a set of replicas over a window. A metric the engine does not expose
 * (or that had no traffic in the window) is `null`, never 0, so a missing signal cannot pass a gate.
 */
export const SnapshotSchema = z.object({
  window_seconds: z.number().nonnegative(),
  replicas: z.number().int().nonnegative(),
  request_rate: z.number().nullable(),
  requests_running: z.number().nullable(),
  requests_waiting: z.number().nullable(),
  kv_cache_usage: z.number().nullable(),
  preemptions_per_second: z.number().nullable(),
  prefix_cache_hit_rate: z.number().nullable(),
  ttft_p50_ms: z.number().nullable(),
  ttft_p95_ms: z.number().nullable(),
  ttft_p99_ms: z.number().nullable(),
  itl_p50_ms: z.number().nullable(),
  itl_p95_ms: z.number().nullable(),
  e2e_p95_ms: z.number().nullable(),
  generation_tokens_per_second: z.number().nullable(),
  error_rate: z.number().nullable(),
  /** Mean time requests waited to be scheduled; present only for engines that report it (vLLM V1). */
  queue_time_mean_ms: z.number().nullable().optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;
export type SnapshotMetric = Exclude<keyof Snapshot, 'window_seconds' | 'replicas'>;
