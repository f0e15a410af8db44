import type { Snapshot } from '../../../models';

/** A snapshot with every metric present and healthy; tests override what they need. */
export function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    window_seconds: 10,
    replicas: 10,
    request_rate: 40,
    requests_running: 100,
    requests_waiting: 0,
    kv_cache_usage: 0.5,
    preemptions_per_second: 0,
    prefix_cache_hit_rate: null,
    ttft_p50_ms: 200,
    ttft_p95_ms: 400,
    ttft_p99_ms: 450,
    itl_p50_ms: 20,
    itl_p95_ms: 40,
    e2e_p95_ms: 10_000,
    generation_tokens_per_second: 10_000,
    error_rate: 0,
    ...overrides,
  };
}
