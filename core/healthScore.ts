import type { HealthComponent, HealthScore, Slo, Snapshot } from '../models';

export type { Slo };

/**
 * The health score is a weighted mean of SLO components, each scoring 100 while its metric meets
 * the target and falling in proportion past it (twice the target → 50). Ratios rather than
 * thresholds keep the score continuous, so the stage gate's relative comparison stays meaningful.
 */

export function withDefaults(slo: Partial<Slo> | undefined): Slo {
  return { ...DEFAULT_SLO, ...slo };
}
/** Targets used where a request sets none (`slo` in the request overrides any of them). */
export const DEFAULT_SLO: Slo = {
  ttft_p95_ms: 500,
  itl_p95_ms: 50,
  e2e_p95_ms: 15_000,
  error_rate: 0.01,
};

interface ComponentSpec {
  name: string;
  metric: keyof Slo & keyof Snapshot;
  weight: number;
}

const COMPONENTS: ComponentSpec[] = [
  { name: 'time_to_first_token', metric: 'ttft_p95_ms', weight: 0.3 },
  { name: 'inter_token_latency', metric: 'itl_p95_ms', weight: 0.25 },
  { name: 'end_to_end_latency', metric: 'e2e_p95_ms', weight: 0.2 },
  { name: 'errors', metric: 'error_rate', weight: 0.25 },
];

export function componentScore(value: number, target: number): number {
  if (value <= target) return 100;
  return (100 * target) / value;
}

export function healthScore(snapshot: Snapshot, slo: Slo = DEFAULT_SLO): HealthScore {
  const components: HealthComponent[] = COMPONENTS.map(({ name, metric, weight }) => {
    const value = snapshot[metric];
    const target = slo[metric];
    return { name, metric, value, target, weight, score: value === null ? null : componentScore(value, target) };
  });
  const withData = components.filter((c) => c.score !== null);
  // With half or more of the components silent the verdict is "no data", which fails a gate.
  if (withData.length * 2 <= components.length) return { score: null, components };
  const weightSum = withData.reduce((s, c) => s + c.weight, 0);
  const score = withData.reduce((s, c) => s + (c.score as number) * c.weight, 0) / weightSum;
  return { score: Math.round(score * 10) / 10, components };
}

/**
 * The highest score any window can reach while `metric` reads `value`: every other component at 100
 * and present. (A silent component only raises this metric's share of the weight, so it can only lower
 * the score.) What the capacity verdict uses to turn a least error rate into "the SLO cannot be met".
 */
export function healthCeiling(metric: ComponentSpec['metric'], value: number, slo: Slo = DEFAULT_SLO): number {
  const spec = COMPONENTS.find((c) => c.metric === metric);
  if (!spec) return 100;
  const total = COMPONENTS.reduce((s, c) => s + c.weight, 0);
  const own = componentScore(value, slo[metric]);
  return (100 * (total - spec.weight) + own * spec.weight) / total;
}
