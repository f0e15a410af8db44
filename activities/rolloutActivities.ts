import { Context } from '@temporalio/activity';
import type { AxiosInstance } from 'axios';
import { allowedTargetsFromEnv, httpLimitsFromEnv } from '../runtime/targetSettings';
import { createTargetHttpClient } from './httpClient';
import { MetricSourceSchema, type AnalysisResult, type ConfigPush, type EngineArgs, type EngineType, type HealthScore, type LoadMeasurement, type MetricSourceConfig, type OptimizationPlan, type ReplicaConfig, type Snapshot } from '../models';
import type { EngineSample } from '../metrics';
import { snapshotBetween } from '../metrics';
import { detectBottlenecks } from '../core/bottlenecks';
import { noiseMargins, SPREAD_REPLICAS } from '../core/noiseMargin';
import { DEFAULT_SLO, healthScore, type Slo } from '../core/healthScore';
import { loadOf } from '../core/capacityVerdict';
import { DEFAULT_LEASE_SECONDS } from '../core/replicaLease';
import { planOptimizations } from '../core/planner';
import { CANARY_METRICS, judgeCanary, type CanaryJudgement } from '../core/canaryJudge';
import { SERIES_INTERVALS } from '../core/monitoring';
import { mapWithConcurrency } from './concurrency';
import { agentConfigTarget, leaseHeldBy, type ConfigTarget } from './configTarget';
import { rangeSize, toConfigRuns, type ConfigRun, type FleetRef, type ReplicaRange, type RestoreGroup } from '../core/fleetRef';
import { discoverReplicaList } from './discovery';
import { fleetDigest, inRange, resolveFleet } from './resolveFleet';
import { NON_RETRYABLE } from '../contract';
import { describeHttpError, isClientRefusal, nonRetryable, readFailure } from './errors';
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
  /** The canary's load over the window so far: offered and served (absent from results recorded before it existed). */
  load?: LoadMeasurement | null;
}

/** A merged reading, with (when asked for) some replicas' own readings beside it. */
export type FleetSample = EngineSample & { members?: EngineSample[] };

/** `k` of the items, evenly spaced, always the same ones for the same list. */
export function evenlySpaced<T>(items: readonly T[], k: number): T[] {
  if (items.length <= k) return [...items];
  return Array.from({ length: k }, (_, i) => items[Math.floor((i * items.length) / k)]);
}

export interface ReplicaTarget {
  address: string;
  revision: string;
  engine_args: EngineArgs;
}

function judgedValues(snapshot: Snapshot): Record<string, number | null> {
  return Object.fromEntries(CANARY_METRICS.map((m) => [m, snapshot[m]]));
}

/**
 * The series with this interval's values appended, keeping only the latest `SERIES_INTERVALS` per
 * metric: the series travels in and out of every monitoring tick, so it must not grow with the window.
 * A metric without data in the interval adds nothing.
 */
export function appendSeries(series: MetricSeries, interval: Record<string, number | null>): MetricSeries {
  return Object.fromEntries(
    CANARY_METRICS.map((m) => {
      const kept = series[m] ?? [];
      const value = interval[m];
      return [m, value === null || value === undefined ? kept.slice(-SERIES_INTERVALS) : [...kept, value].slice(-SERIES_INTERVALS)];
    }),
  );
}

export function defaultActivityDeps(): ActivityDeps {
  // Every request checked against SERVETUNE_ALLOWED_TARGETS, with a total deadline and a size cap
  // (activities/httpClient.ts); the activity retry policy decides how often to try again.
  const limits = httpLimitsFromEnv();
  const http = createTargetHttpClient({ allowlist: allowedTargetsFromEnv(), ...limits });
  const prometheusUrl = process.env.METRICS_PROMETHEUS_URL;
  return {
    http,
    configTarget: agentConfigTarget(http, limits.pushDeadlineMs),
    concurrency: 32,
    defaultSource: prometheusUrl ? MetricSourceSchema.parse({ type: 'prometheus', url: prometheusUrl }) : undefined,
  };
}

export function createActivities(deps: ActivityDeps = defaultActivityDeps()) {
  const { http, configTarget, concurrency } = deps;

  /**
   * The rollout a push or release acts for: its workflow id, the lease's fencing token
   * (docs/replica-leases.md). An activity run outside a workflow acts for no one and takes no lease.
   */
  function holder(): string | undefined {
    return Context.current().info.workflowExecution?.workflowId;
  }

  type PushOutcome = { address: string; config?: ReplicaConfig; heldBy?: { holder: string; expires_at: string } };

  /**
   * Pushes each target's config as this rollout, `concurrency` at a time. The first refusal or error
   * stops it: no push starts after it, and the pushes in flight are awaited before the activity fails,
   * so none runs on in the background while the workflow rolls back. A cancelled activity (an abort, a
   * cancelled rollout) stops starting pushes the same way.
   *
   * A replica another rollout holds refuses with 409 `lease_held`: a forward push then fails without
   * retry, naming the replica and its holder; a rollback push skips it (this rollout cannot have
   * changed a replica another one holds) and reports it, so a rollback only undoes what this rollout did.
   */
  async function pushAll(targets: ReplicaTarget[], what: string, opts: { leaseSeconds?: number; skipHeld: boolean }): Promise<PushOutcome[]> {
    const context = Context.current();
    const cancelled = context.cancellationSignal;
    try {
      return await pushEach(targets, what, opts, cancelled);
    } catch (err) {
      // A worker shutting down is not the workflow asking to stop: fail the attempt (retryable) so
      // another worker resumes it; pushes are idempotent per revision.
      if (err === cancelled.reason && context.cancellationDetails?.workerShutdown) {
        throw new Error(`${what} ${targets.length} replica(s): stopped because the worker is shutting down; a retry resumes`);
      }
      throw err;
    }
  }

  function pushEach(targets: ReplicaTarget[], what: string, opts: { leaseSeconds?: number; skipHeld: boolean }, cancelled: AbortSignal): Promise<PushOutcome[]> {
    const by = holder();
    return withHeartbeat(() =>
      mapWithConcurrency(targets, concurrency, async (t) => {
        const push: ConfigPush = by === undefined
          ? { revision: t.revision, engine_args: t.engine_args }
          : { revision: t.revision, engine_args: t.engine_args, holder: by, lease_seconds: opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS };
        try {
          return { address: t.address, config: await configTarget.push(t.address, push) };
        } catch (err) {
          // A push cut short by the activity's cancellation reports the cancellation, not a push error:
          // the workflow then knows the activity stopped on request and rolls back, instead of retrying.
          if (cancelled.aborted) throw cancelled.reason ?? err;
          const held = leaseHeldBy(err);
          if (held && opts.skipHeld) {
            activityLog().warn({ replica: t.address, holder: held.holder, expires_at: held.expires_at }, 'replica held by another rollout: left alone');
            return { address: t.address, heldBy: held };
          }
          const message = held
            ? `${what} ${t.address}: the replica is held by rollout ${held.holder} until ${held.expires_at} (another rollout is changing it; see docs/replica-leases.md)`
            : describeHttpError(err, `${what} ${t.address}`);
          activityLog().warn({ replica: t.address, revision: t.revision, err: message, refused: isClientRefusal(err) }, 'config push failed');
          if (isClientRefusal(err)) throw nonRetryable(message, NON_RETRYABLE.configRejected);
          throw new Error(message);
        }
      }, cancelled),
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
      throw readFailure(err, `scraping metrics of ${replicas.length} replica(s)`);
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
        throw readFailure(err, `discovering replicas of ${input.instance_id}`);
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
            throw readFailure(err, `reading config of ${address}`);
          }
        }),
      );
      return toConfigRuns(configs);
    },

    /**
     * One merged reading of a range of replicas' metrics now, from the request's source or the configured
     * one. With `members` (the baseline window), also up to that many replicas' own readings, evenly
     * spaced over the range and in the same order every time: the per-replica spread of the window that
     * bottlenecks must clear (core/noiseMargin.ts). Capped, so the history holds a bounded payload.
     */
    async sampleFleet(input: { engine: EngineType; fleet: FleetRef; range: ReplicaRange; source?: MetricSourceConfig; members?: number }): Promise<FleetSample> {
      const addresses = inRange(await resolveFleet(http, input.fleet), input.range);
      const merged = await sampleReplicas(input.engine, addresses, input.source);
      if (!input.members || addresses.length < 2) return merged;
      const picked = evenlySpaced(addresses, Math.min(input.members, SPREAD_REPLICAS));
      const members = await withHeartbeat(() => mapWithConcurrency(picked, concurrency, (a) => sampleReplicas(input.engine, [a], input.source)));
      return { ...merged, members };
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
      const window = snapshotBetween(input.windowStart, canary);
      const health = healthScore(window, input.slo);
      const canaryInterval = judgedValues(snapshotBetween(input.previous.canary, canary));
      const baselineInterval = baseline && input.previous.baseline ? judgedValues(snapshotBetween(input.previous.baseline, baseline)) : null;
      const series = {
        canary: appendSeries(input.series.canary, canaryInterval),
        baseline: baselineInterval ? appendSeries(input.series.baseline, baselineInterval) : input.series.baseline,
      };
      const judgement = judgeCanary({ canary: series.canary, baseline: baselineInterval ? series.baseline : {} });
      activityLog().info({ canary: rangeSize(input.canary), baseline: input.baseline ? rangeSize(input.baseline) : 0, health_score: health.score, canary_verdict: judgement.verdict }, 'stage measured');
      return { samples: { canary, baseline }, health, series, judgement, load: loadOf(window) };
    },

    async analyzePerformance(input: { start: FleetSample; end: FleetSample; slo?: Slo }): Promise<AnalysisResult> {
      const slo = input.slo ?? DEFAULT_SLO;
      const { members: startMembers, ...start } = input.start;
      const { members: endMembers, ...end } = input.end;
      const snapshot = snapshotBetween(start, end);
      const health = healthScore(snapshot, slo);
      // Per-replica windows (same replicas, same order at both ends) give the noise each bottleneck must clear.
      const pairs = startMembers && endMembers && startMembers.length === endMembers.length ? startMembers.map((s, i) => snapshotBetween(s, endMembers[i])) : null;
      const bottlenecks = detectBottlenecks(snapshot, slo, pairs ? noiseMargins(pairs) : undefined);
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
    async applyConfig(input: { fleet: FleetRef; range: ReplicaRange; revision: string; engine_args: EngineArgs; lease_seconds?: number }): Promise<{ applied: number }> {
      const addresses = inRange(await resolveFleet(http, input.fleet), input.range);
      const targets = addresses.map((address) => ({ address, revision: input.revision, engine_args: input.engine_args }));
      activityLog().info({ revision: input.revision, replicas: addresses }, 'applying config');
      const applied = await pushAll(targets, 'applying config to', { leaseSeconds: input.lease_seconds, skipHeld: false });
      activityLog().info({ revision: input.revision, replicas: applied.length }, 'config applied');
      return { applied: applied.length };
    },

    /**
     * Compensation: put each replica back on the revision it had before this rollout. It names the
     * addresses instead of a fleet range, so it still works when the fleet changed mid-rollout.
     */
    async rollbackReplicas(input: { groups: RestoreGroup[]; lease_seconds?: number }): Promise<{ restored: number; held_by_others?: Array<{ address: string; holder: string }> }> {
      const targets = input.groups.flatMap((g) => g.addresses.map((address) => ({ address, revision: g.revision, engine_args: g.engine_args })));
      activityLog().warn({ replicas: targets.map((t) => `${t.address}@${t.revision}`) }, 'rolling back replicas');
      const results = await pushAll(targets, 'rolling back', { leaseSeconds: input.lease_seconds, skipHeld: true });
      const restored = results.filter((r) => r.config).length;
      const held = results.flatMap((r) => (r.heldBy ? [{ address: r.address, holder: r.heldBy.holder }] : []));
      activityLog().info({ replicas: restored, held_by_others: held.length }, 'replicas rolled back');
      return held.length > 0 ? { restored, held_by_others: held } : { restored };
    },

    /**
     * The rollout's end: release this rollout's lease on the replicas it changed, so the next rollout
     * need not wait for the leases to expire. Idempotent; a replica another rollout holds now is left alone.
     */
    async releaseReplicas(input: { addresses: string[] }): Promise<{ released: number; held_by_others: number }> {
      const by = holder();
      if (by === undefined) return { released: 0, held_by_others: 0 };
      const outcomes = await withHeartbeat(() =>
        mapWithConcurrency(input.addresses, concurrency, async (address) => {
          try {
            return await configTarget.release(address, by);
          } catch (err) {
            throw new Error(describeHttpError(err, `releasing the lease on ${address}`));
          }
        }),
      );
      const released = outcomes.filter((o) => o.kind === 'released').length;
      const heldByOthers = outcomes.filter((o) => o.kind === 'held_by_other').length;
      activityLog().info({ holder: by, replicas: input.addresses.length, released, held_by_others: heldByOthers }, 'replica leases released');
      return { released, held_by_others: heldByOthers };
    },
  };
  return activities;
}

export type RolloutActivities = ReturnType<typeof createActivities>;
