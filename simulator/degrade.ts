import type { Fault } from '../models';
import type { Performance } from './engines/types';

/** The revision every replica starts on; anything else is a "new config" for `degrade_new_config`. */
export const INITIAL_REVISION = 'initial';

/**
 * Severity that applies to a replica: the largest severity among `degrade_new_config` faults whose
 * `min_fraction` the deployment has reached, if the replica itself runs a new revision; else 0.
 */
export function degradeSeverity(faults: readonly Fault[], onNewRevision: boolean, changedFraction: number): number {
  if (!onNewRevision) return 0;
  let severity = 0;
  for (const f of faults) {
    // Small tolerance so 1/3 of the replicas meets min_fraction 0.333….
    if (f.kind === 'degrade_new_config' && changedFraction + 1e-9 >= f.min_fraction) {
      severity = Math.max(severity, f.severity);
    }
  }
  return severity;
}

const worse = (a: number, b: number) => Math.max(a, b);

/**
 * A degraded replica behaves like a bad build of the new config: it loses whatever its args would have
 * gained over the baseline (the initial config under the same load), then every latency is ×(1 + severity)
 * and the error fraction is + severity × 0.25. So severity 0.4 is clearly worse than the untouched replicas
 * even when the new args would, on their own, be an improvement.
 */
export function degradePerformance(own: Performance, baseline: Performance, severity: number): Performance {
  if (!(severity > 0)) return own;
  const f = 1 + severity;
  const lat = (a: Performance['ttft'], b: Performance['ttft']) => ({ median: worse(a.median, b.median) * f, sigma: worse(a.sigma, b.sigma) });
  const errorFraction = Math.min(1, worse(own.error_fraction, baseline.error_fraction) + severity * 0.25);
  return {
    ...own,
    error_fraction: errorFraction,
    running: worse(own.running, baseline.running),
    waiting: worse(own.waiting, baseline.waiting),
    kv_cache_usage: worse(own.kv_cache_usage, baseline.kv_cache_usage),
    kv_demand_ratio: worse(own.kv_demand_ratio, baseline.kv_demand_ratio),
    preemptions_per_second: worse(own.preemptions_per_second, baseline.preemptions_per_second),
    ttft: lat(own.ttft, baseline.ttft),
    itl: lat(own.itl, baseline.itl),
    e2e: lat(own.e2e, baseline.e2e),
    queue: lat(own.queue, baseline.queue),
  };
}
