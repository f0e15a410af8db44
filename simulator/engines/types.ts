import type { EngineArgs, EngineType, Load } from '../../models';
import type { LatencyDist } from '../lognormal';

/** Deployment size the engines' default loads are stated for. */
export const REFERENCE_REPLICAS = 10;

/** A field-level problem with a config push, in the error body's `details` shape. */
export interface ArgIssue {
  field: string;
  message: string;
}

/**
 * Engine-neutral steady state of one replica under its args and its share of the load. Rates are per
 * second; latencies are log-normal distributions in seconds. Engines map this onto their own metric
 * names in their exposition module.
 */
export interface Performance {
  /** Requests offered to this replica per second. */
  offered_rps: number;
  /** Requests that get a first token (offered minus those dropped by overload). */
  served_rps: number;
  /** Fraction of offered requests that end in an error (abort). */
  error_fraction: number;
  /** Requests in the running batch (gauge). */
  running: number;
  /** Requests waiting for admission (gauge). */
  waiting: number;
  /** KV-cache usage, 0–1 (gauge). */
  kv_cache_usage: number;
  /** Demand over capacity before capping (diagnostic; may exceed 1). */
  kv_demand_ratio: number;
  /** KV-cache capacity in tokens. */
  kv_capacity_tokens: number;
  preemptions_per_second: number;
  prompt_tokens_per_second: number;
  generation_tokens_per_second: number;
  prefix_cache_queries_per_second: number;
  prefix_cache_hits_per_second: number;
  ttft: LatencyDist;
  itl: LatencyDist;
  e2e: LatencyDist;
  queue: LatencyDist;
  /**
   * Engine-specific steady-state figures its exposition needs beyond the neutral ones (e.g. TGI's
   * prefill batch time, SGLang's new_token_ratio). A degraded replica keeps its own.
   */
  extra?: Readonly<Record<string, number>>;
}

/**
 * Observations per second of one histogram, and their distribution: log-normal (`median`, `sigma`) unless
 * `cdf` and `mean` give another one (e.g. SGLang's per-request retraction counts, which are mostly 0).
 */
export interface ObservationStream extends LatencyDist {
  rate: number;
  cdf?: (x: number) => number;
  mean?: number;
}

/** What a replica accumulates between scrapes (fluid counts: floats). */
export interface AccumulatedHistogram {
  /** Cumulative count per finite bound (same order as the engine's buckets). */
  buckets: number[];
  count: number;
  sum: number;
}

export interface Accumulated {
  counters: Record<string, number>;
  histograms: Record<string, AccumulatedHistogram>;
}

/**
 * Everything engine-specific about a simulated replica. One implementation per engine
 * (simulator/engines/<engine>.ts); the rest of the simulator only talks to this interface.
 */
export interface EngineModel {
  readonly engine: EngineType;
  /** Args a fresh replica (revision "initial") runs. */
  readonly defaultArgs: Readonly<EngineArgs>;
  /**
   * Offered load of a deployment of `REFERENCE_REPLICAS` replicas until `PUT /sim/v1/load` changes it.
   * Other sizes start at the same per-replica share (requests_per_second scaled by replicas / 10).
   */
  readonly defaultLoad: Readonly<Load>;
  /** Finite upper bounds of each histogram the engine exposes, keyed by histogram name. */
  readonly histogramBuckets: Readonly<Record<string, readonly number[]>>;
  /** Problems the engine would refuse the args for (unknown flag, wrong type, out of range); empty = accepted. */
  validateArgs(args: EngineArgs): ArgIssue[];
  /** Steady state of one replica running `args` under `load` (already the per-replica share). */
  performance(args: EngineArgs, load: Load): Performance;
  /** Counter growth rates (per second), under keys the engine picks and reads back in `renderMetrics`. */
  counterRates(perf: Performance): Record<string, number>;
  /** Histogram observation streams, keyed like `histogramBuckets`. */
  observations(perf: Performance): Record<string, ObservationStream>;
  /** The `/metrics` page. */
  renderMetrics(acc: Accumulated, perf: Performance, args: EngineArgs): string;
  /**
   * The engine's own config-introspection route, served per replica next to `/metrics` (TGI `GET /info`,
   * SGLang `GET /get_server_info`); absent for engines without one.
   */
  readonly introspection?: EngineIntrospection;
}

export interface EngineIntrospection {
  /** Path under the replica, e.g. `/info`. */
  path: string;
  /** The JSON body for a replica running `args` in steady state `perf`. */
  render(args: EngineArgs, perf: Performance): unknown;
}
