import axios, { type AxiosInstance } from 'axios';
import { MetricSourceSchema, type AnalysisResult, type ConfigPush, type EngineArgs, type EngineType, type HealthScore, type MetricSourceConfig, type OptimizationPlan, type ReplicaConfig, type Snapshot } from '../models';
import type { EngineSample } from '../metrics';
import { snapshotBetween } from '../metrics';
import { detectBottlenecks } from '../core/bottlenecks';
import { DEFAULT_SLO, healthScore, type Slo } from '../core/healthScore';
import { planOptimizations } from '../core/planner';
import { CANARY_METRICS, judgeCanary, type CanaryJudgement } from '../core/canaryJudge';
import { mapWithConcurrency } from './concurrency';
import { agentConfigTarget, type ConfigTarget } from './configTarget';
import { rangeSize, toConfigRuns, type ConfigRun, type FleetRef, type ReplicaRange, type RestoreGroup } from '../core/fleet';
import { discoverReplicaList } from './discovery';
import { fleetDigest, inRange, resolveFleet } from './fleet';
import { describeHttpError, isClientRefusal, nonRetryable, NON_RETRYABLE } from './errors';
import { metricSourceFor, PrometheusSourceError } from './metricSource';
import { withHeartbeat } from './heartbeat';
import { activityLog } from './log';

export interface ActivityDeps {
  http: AxiosInstance;
  /** The metric source when a request names none (`METRICS_PROMETHEUS_URL` sets Prometheus). */
  defaultSource?: MetricSourceConfig;
  configTarget: ConfigTarget;
  /** Replicas scraped or pushed to at once. */
  concurrency: number;
}

/** Per-interval values of the judged metrics, one array per metric, oldest first. */
export type MetricSeries = Record<string, number[]>;

export interface StageMeasurementInput {
  engine: EngineType;
  source?: MetricSourceConfig;
  slo: Slo;
  fleet: FleetRef;
  canary: ReplicaRange;
  /** Replicas still on the old config; null in a 100% stage. */
  baseline: ReplicaRange | null;
  /** The canary's sample at the start of the window: the health score covers the window so far. */
  windowStart: EngineSample;
  /** Both groups' samples at the previous tick: this tick adds one interval to each series. */
  previous: { canary: EngineSample; baseline: EngineSample | null };
  series: { canary: MetricSeries; baseline: MetricSeries };
}

export interface StageMeasurement {
  samples: { canary: EngineSample; baseline: EngineSample | null };
  health: HealthScore;
  /** This interval's value of each judged metric per group (null: no data in the interval). */
  /** The series with this tick's interval appended: the next tick's input. */
  series: { canary: MetricSeries; baseline: MetricSeries };
  judgement: CanaryJudgement;
}

export interface ReplicaTarget {
  address: string;
  revision: string;
  engine_args: EngineArgs;
}

function judgedValues(snapshot: Snapshot): Record<string, number | null> {
  return Object.fromEntries(CANARY_METRICS.map((m) => [m, snapshot[m]]));
}

/** The series with this interval's values appended; a metric without data in the interval adds nothing. */
export function appendSeries(series: MetricSeries, interval: Record<string, number | null>): MetricSeries {
  return Object.fromEntries(
    CANARY_METRICS.map((m) => [m, interval[m] === null || interval[m] === undefined ? series[m] ?? [] : [...(series[m] ?? []), interval[m] as number]]),
  );
}

export function defaultActivityDeps(): ActivityDeps {
  // Short connect/read timeouts: a replica that does not answer in seconds is treated as down,
  // and the activity retry policy decides how often to try again.
  const http = axios.create({ timeout: 10_000, maxContentLength: 64 * 1024 * 1024 });
  const prometheusUrl = process.env.METRICS_PROMETHEUS_URL;
  return {
    http,
    configTarget: agentConfigTarget(http, 10 * 60_000),
    concurrency: 32,
    defaultSource: prometheusUrl ? MetricSourceSchema.parse({ type: 'prometheus', url: prometheusUrl }) : undefined,
  };
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
          activityLog().warn({ replica: t.address, revision: t.revision, err: message, refused: isClientRefusal(err) }, 'config push failed');
          if (isClientRefusal(err)) throw nonRetryable(message, NON_RETRYABLE.configRejected);
          throw new Error(message);
        }
      }),
    );
  }

  async function sampleReplicas(engine: EngineType, replicas: string[], configured?: MetricSourceConfig): Promise<EngineSample> {
    const source = metricSourceFor(configured ?? deps.defaultSource, { http, concurrency });
    try {
      return await withHeartbeat(() => source.sample(engine, replicas));
    } catch (err) {
      if (err instanceof PrometheusSourceError) {
        const message = `reading metrics of ${replicas.length} replica(s) from Prometheus: ${err.message}`;
        throw err.retryable ? new Error(message) : nonRetryable(message, NON_RETRYABLE.invalidReplicaAnswer);
      }
      throw new Error(describeHttpError(err, `scraping metrics of ${replicas.length} replica(s)`));
    }
  }

  const activities = {
    /** The replica list once, with the digest later activities check it against (see `FleetRef`). */
    async discoverReplicas(input: { instance_id: string; replicas?: string[] }): Promise<{ replicas: string[]; digest: string }> {
      try {
        const replicas = await discoverReplicaList(http, input.instance_id, input.replicas);
        activityLog().info({ deployment: input.instance_id, replicas: replicas.length, given: input.replicas !== undefined }, 'replicas discovered');
        return { replicas, digest: fleetDigest(replicas) };
      } catch (err) {
        throw new Error(describeHttpError(err, `discovering replicas of ${input.instance_id}`));
      }
    },

    /** Every replica's config, run-length encoded: a fleet on one config answers with one entry. */
    async readReplicaConfigs(input: { fleet: FleetRef }): Promise<ConfigRun[]> {
      const addresses = await resolveFleet(http, input.fleet);
      const configs = await withHeartbeat(() =>
        mapWithConcurrency(addresses, concurrency, async (address) => {
          try {
            return await configTarget.read(address);
          } catch (err) {
            throw new Error(describeHttpError(err, `reading config of ${address}`));
          }
        }),
      );
      return toConfigRuns(configs);
    },

    /** One merged reading of a range of replicas' metrics now, from the request's source or the configured one. */
    async sampleFleet(input: { engine: EngineType; fleet: FleetRef; range: ReplicaRange; source?: MetricSourceConfig }): Promise<EngineSample> {
      const addresses = inRange(await resolveFleet(http, input.fleet), input.range);
      return sampleReplicas(input.engine, addresses, input.source);
    },

    /**
     * One monitoring tick of a stage: the canary's health over the window so far (for the absolute
     * gate), and the canary-versus-baseline judgement over the per-interval series so far (Kayenta's
     * way: the two groups' metric time series over the same window, compared with Mann–Whitney U).
     */
    async measureStage(input: StageMeasurementInput): Promise<StageMeasurement> {
      const addresses = await resolveFleet(http, input.fleet);
      const [canary, baseline] = await Promise.all([
        sampleReplicas(input.engine, inRange(addresses, input.canary), input.source),
        input.baseline && input.previous.baseline ? sampleReplicas(input.engine, inRange(addresses, input.baseline), input.source) : null,
      ]);
      const health = healthScore(snapshotBetween(input.windowStart, canary), input.slo);
      const canaryInterval = judgedValues(snapshotBetween(input.previous.canary, canary));
      const baselineInterval = baseline && input.previous.baseline ? judgedValues(snapshotBetween(input.previous.baseline, baseline)) : null;
      const series = {
        canary: appendSeries(input.series.canary, canaryInterval),
        baseline: baselineInterval ? appendSeries(input.series.baseline, baselineInterval) : input.series.baseline,
      };
      const judgement = judgeCanary({ canary: series.canary, baseline: baselineInterval ? series.baseline : {} });
      activityLog().info({ canary: rangeSize(input.canary), baseline: input.baseline ? rangeSize(input.baseline) : 0, health_score: health.score, canary_verdict: judgement.verdict }, 'stage measured');
      return { samples: { canary, baseline }, health, series, judgement };
    },

    async analyzePerformance(input: { start: EngineSample; end: EngineSample; slo?: Slo }): Promise<AnalysisResult> {
      const slo = input.slo ?? DEFAULT_SLO;
      const snapshot = snapshotBetween(input.start, input.end);
      const health = healthScore(snapshot, slo);
      const bottlenecks = detectBottlenecks(snapshot, slo);
      activityLog().info({ health_score: health.score, bottlenecks: bottlenecks.map((b) => b.kind) }, 'performance analyzed');
      const fixedKvBytes = input.end.gauges.kv_cache_fixed_bytes;
      return {
        bottlenecks,
        overall_health_score: health.score,
        health_components: health.components,
        metrics: snapshot,
        // Only when known, so the analyses of engines that do not say stay as they were.
        ...(fixedKvBytes !== undefined ? { engine_facts: { kv_cache_memory_bytes: fixedKvBytes } } : {}),
      };
    },

    async generateOptimizations(input: {
      engine: EngineType;
      analysis: AnalysisResult;
      currentArgs: EngineArgs;
      revision: string;
    }): Promise<OptimizationPlan> {
      const plan = planOptimizations({
        engine: input.engine,
        snapshot: input.analysis.metrics,
        bottlenecks: input.analysis.bottlenecks,
        currentArgs: input.currentArgs,
        revision: input.revision,
        facts: input.analysis.engine_facts,
      });
      activityLog().info({ revision: plan.revision, optimizations: plan.optimizations.map((o) => o.parameter) }, 'optimizations planned');
      return plan;
    },

    /** Pushes the new config to a range of replicas; answers how many now run it (the list stays out of history). */
    async applyConfig(input: { fleet: FleetRef; range: ReplicaRange; revision: string; engine_args: EngineArgs }): Promise<{ applied: number }> {
      const addresses = inRange(await resolveFleet(http, input.fleet), input.range);
      const targets = addresses.map((address) => ({ address, revision: input.revision, engine_args: input.engine_args }));
      activityLog().info({ revision: input.revision, replicas: addresses }, 'applying config');
      const applied = await pushAll(targets, 'applying config to');
      activityLog().info({ revision: input.revision, replicas: applied.length }, 'config applied');
      return { applied: applied.length };
    },

    /**
     * Compensation: put each replica back on the revision it had before this rollout. It names the
     * addresses instead of a fleet range, so it still works when the fleet changed mid-rollout.
     */
    async rollbackReplicas(input: { groups: RestoreGroup[] }): Promise<{ restored: number }> {
      const targets = input.groups.flatMap((g) => g.addresses.map((address) => ({ address, revision: g.revision, engine_args: g.engine_args })));
      activityLog().warn({ replicas: targets.map((t) => `${t.address}@${t.revision}`) }, 'rolling back replicas');
      const restored = await pushAll(targets, 'rolling back');
      activityLog().info({ replicas: restored.length }, 'replicas rolled back');
      return { restored: restored.length };
    },
  };
  return activities;
}

export type RolloutActivities = ReturnType<typeof createActivities>;
