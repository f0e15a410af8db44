import axios, { type AxiosInstance } from 'axios';
import type { AnalysisResult, ConfigPush, EngineArgs, EngineType, HealthScore, OptimizationPlan, ReplicaConfig, Snapshot } from '../models';
import type { EngineSample } from '../metrics';
import { snapshotBetween } from '../metrics';
import { detectBottlenecks } from '../core/bottlenecks';
import { DEFAULT_SLO, healthScore, type Slo } from '../core/healthScore';
import { planOptimizations } from '../core/planner';
import { mapWithConcurrency } from './concurrency';
import { agentConfigTarget, type ConfigTarget } from './configTarget';
import { discoverReplicaList } from './discovery';
import { describeHttpError, isClientRefusal, nonRetryable, NON_RETRYABLE } from './errors';
import { sampleReplicas } from './fleetSampler';
import { withHeartbeat } from './heartbeat';

export interface ActivityDeps {
  http: AxiosInstance;
  configTarget: ConfigTarget;
  /** Replicas scraped or pushed to at once. */
  concurrency: number;
}

export interface HealthMeasurement {
  sample: EngineSample;
  /** Present when measured over a window (`since` given). */
  snapshot: Snapshot | null;
  health: HealthScore | null;
}

export interface ReplicaTarget {
  address: string;
  revision: string;
  engine_args: EngineArgs;
}

export function defaultActivityDeps(): ActivityDeps {
  // Short connect/read timeouts: a replica that does not answer in seconds is treated as down,
  // and the activity retry policy decides how often to try again.
  const http = axios.create({ timeout: 10_000, maxContentLength: 64 * 1024 * 1024 });
  return { http, configTarget: agentConfigTarget(http, 10 * 60_000), concurrency: 32 };
}

export function createActivities(deps: ActivityDeps = defaultActivityDeps()) {
  const { http, configTarget, concurrency } = deps;

  async function pushAll(targets: ReplicaTarget[], what: string): Promise<ReplicaConfig[]> {
    return withHeartbeat(() =>
      mapWithConcurrency(targets, concurrency, async (t) => {
        const push: ConfigPush = { revision: t.revision, engine_args: t.engine_args };
        try {
          return await configTarget.push(t.address, push);
        } catch (err) {
          const message = describeHttpError(err, `${what} ${t.address}`);
          if (isClientRefusal(err)) throw nonRetryable(message, NON_RETRYABLE.configRejected);
          throw new Error(message);
        }
      }),
    );
  }

  return {
    async discoverReplicas(input: { instance_id: string; replicas?: string[] }): Promise<string[]> {
      try {
        return await discoverReplicaList(http, input.instance_id, input.replicas);
      } catch (err) {
        throw new Error(describeHttpError(err, `discovering replicas of ${input.instance_id}`));
      }
    },

    async readReplicaConfigs(input: { replicas: string[] }): Promise<ReplicaConfig[]> {
      return withHeartbeat(() =>
        mapWithConcurrency(input.replicas, concurrency, async (address) => {
          try {
            return await configTarget.read(address);
          } catch (err) {
            throw new Error(describeHttpError(err, `reading config of ${address}`));
          }
        }),
      );
    },

    /** Scrapes the replicas now; with `since`, also scores the window from that earlier sample to now. */
    async measureHealth(input: { engine: EngineType; replicas: string[]; since?: EngineSample; slo?: Slo }): Promise<HealthMeasurement> {
      let sample: EngineSample;
      try {
        sample = await withHeartbeat(() => sampleReplicas(http, input.engine, input.replicas, concurrency));
      } catch (err) {
        throw new Error(describeHttpError(err, `scraping metrics of ${input.replicas.length} replica(s)`));
      }
      if (!input.since) return { sample, snapshot: null, health: null };
      const snapshot = snapshotBetween(input.since, sample);
      return { sample, snapshot, health: healthScore(snapshot, input.slo ?? DEFAULT_SLO) };
    },

    async analyzePerformance(input: { start: EngineSample; end: EngineSample; slo?: Slo }): Promise<AnalysisResult> {
      const slo = input.slo ?? DEFAULT_SLO;
      const snapshot = snapshotBetween(input.start, input.end);
      const health = healthScore(snapshot, slo);
      return {
        bottlenecks: detectBottlenecks(snapshot, slo),
        overall_health_score: health.score,
        health_components: health.components,
        metrics: snapshot,
      };
    },

    async generateOptimizations(input: {
      engine: EngineType;
      analysis: AnalysisResult;
      currentArgs: EngineArgs;
      revision: string;
    }): Promise<OptimizationPlan> {
      return planOptimizations({
        engine: input.engine,
        snapshot: input.analysis.metrics,
        bottlenecks: input.analysis.bottlenecks,
        currentArgs: input.currentArgs,
        revision: input.revision,
      });
    },

    async applyConfig(input: { replicas: string[]; revision: string; engine_args: EngineArgs }): Promise<ReplicaConfig[]> {
      const targets = input.replicas.map((address) => ({ address, revision: input.revision, engine_args: input.engine_args }));
      return pushAll(targets, 'applying config to');
    },

    /** Compensation: put each replica back on the revision it had before this rollout. */
    async rollbackReplicas(input: { targets: ReplicaTarget[] }): Promise<ReplicaConfig[]> {
      return pushAll(input.targets, 'rolling back');
    },
  };
}

export type RolloutActivities = ReturnType<typeof createActivities>;
