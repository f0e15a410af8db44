import type { Performance } from './engines/types';
import { lognormalQuantile } from './lognormal';

/** The headline figures of a steady state, as a health check would read them (p95s in ms). */
export interface Figures {
  ttft_p95_ms: number;
  itl_p95_ms: number;
  e2e_p95_ms: number;
  error_rate: number;
  kv_cache_usage: number;
  preemptions_per_second: number;
  running: number;
  waiting: number;
}

export function figuresOf(perf: Performance): Figures {
  return {
    ttft_p95_ms: lognormalQuantile(0.95, perf.ttft) * 1000,
    itl_p95_ms: lognormalQuantile(0.95, perf.itl) * 1000,
    e2e_p95_ms: lognormalQuantile(0.95, perf.e2e) * 1000,
    error_rate: perf.error_fraction,
    kv_cache_usage: perf.kv_cache_usage,
    preemptions_per_second: perf.preemptions_per_second,
    running: perf.running,
    waiting: perf.waiting,
  };
}
