/**
 * Where engine metrics come from. Every source returns the same merged, cumulative `EngineSample`
 * for a set of replicas, so analysis and monitoring do not care which one read it:
 * - `scrapeSource`: GET each replica's `/metrics` (activities/fleetSampler.ts).
 * - `prometheusSource`: one PromQL instant query to a Prometheus server that already scrapes the
 *   replicas (activities/prometheusSource.ts; label convention there).
 */
import type { AxiosInstance } from 'axios';
import type { EngineSample } from '../metrics';
import type { EngineType } from '../models/engine';
import type { MetricSourceConfig } from '../models/metricSource';
import { sampleReplicas } from './fleetSampler';
import { prometheusSource } from './prometheusSource';

export interface MetricSource {
  readonly kind: MetricSourceConfig['type'];
  /** One merged, cumulative reading of `replicas` (shape and semantics of `sampleReplicas`). */
  sample(engine: EngineType, replicas: string[], signal?: AbortSignal): Promise<EngineSample>;
}

export interface MetricSourceDeps {
  http: AxiosInstance;
  /** Parallel scrapes for the scrape source. */
  concurrency: number;
}

/** Today's path: scrape every replica's `/metrics` directly and merge. */
export function scrapeSource(deps: MetricSourceDeps): MetricSource {
  return {
    kind: 'scrape',
    sample: (engine, replicas, signal) => sampleReplicas(deps.http, engine, replicas, deps.concurrency, signal),
  };
}

/** The source a request (or the configuration) asks for; no config means scraping. */
export function metricSourceFor(config: MetricSourceConfig | undefined, deps: MetricSourceDeps): MetricSource {
  if (!config || config.type === 'scrape') return scrapeSource(deps);
  return prometheusSource({
    url: config.url,
    http: deps.http,
    replicaLabel: config.replica_label,
    jobSelector: config.job_selector,
  });
}

export { prometheusSource, PrometheusSourceError } from './prometheusSource';
export type { PrometheusSourceOptions, PrometheusSourceErrorKind } from './prometheusSource';
