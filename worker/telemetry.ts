/**
 * The worker's Prometheus metrics: rollout outcomes and stage durations (reported by the workflow
 * interceptor module through the `rolloutMetrics` sink), and activity latencies and failures (from an
 * activity interceptor, which also binds each activity's pino child logger).
 */
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { runWithActivityLogger } from '../activities/log';
import { logger as rootLogger } from '../runtime/logger';
import { EngineTypeSchema } from '../models';
import { ROLLOUT_OUTCOMES, type RolloutMetricsSinks } from '../workflows/telemetryInterceptor';

/** Stage windows run from seconds (tests) to hours; approval waits are not part of a stage. */
export const STAGE_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400];
/** Whole rollouts include approval waits: up to days. */
export const ROLLOUT_BUCKETS = [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800];
/** Activities: a metric scrape is milliseconds, a config push that restarts engines is minutes. */
export const ACTIVITY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export interface WorkerMetricsOptions {
  /** Defaults to a fresh registry (prom-client's global one stays untouched). */
  registry?: Registry;
  /** Node process metrics (CPU, memory, event loop lag, GC); the worker process turns them on. */
  processMetrics?: boolean;
  /** Base logger of the activity child loggers. */
  logger?: Logger;
}

export interface WorkerMetrics {
  registry: Registry;
  sinks: InjectedSinks<RolloutMetricsSinks>;
  activityInterceptor: ActivityInterceptorsFactory;
}

function errorType(err: unknown): string {
  if (err instanceof ApplicationFailure && err.type) return err.type;
  if (err instanceof CancelledFailure) return 'Cancelled';
  const name = (err as Error)?.name;
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

export function createWorkerMetrics(opts: WorkerMetricsOptions = {}): WorkerMetrics {
  const registry = opts.registry ?? new Registry();
  const log = opts.logger ?? rootLogger;
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const started = new Counter({ name: 'servetune_rollouts_started_total', help: 'Rollouts this worker started running, by engine', labelNames: ['engine'], registers });
  const finished = new Counter({
    name: 'servetune_rollouts_finished_total',
    help: 'Rollouts that ended on this worker, by engine and outcome (completed, rejected, rolled_back, failed, cancelled, error)',
    labelNames: ['engine', 'outcome'],
    registers,
  });
  const rolloutDuration = new Histogram({
    name: 'servetune_rollout_duration_seconds',
    help: 'Workflow time from a rollout start to its end, approval waits included',
    labelNames: ['engine', 'outcome'],
    buckets: ROLLOUT_BUCKETS,
    registers,
  });
  const stageDuration = new Histogram({
    name: 'servetune_rollout_stage_duration_seconds',
    help: 'Duration of finished rollout stages (config push, monitoring window, gate), by stage and result; observed when the rollout ends',
    labelNames: ['stage', 'status'],
    buckets: STAGE_BUCKETS,
    registers,
  });
  const activityDuration = new Histogram({
    name: 'servetune_activity_duration_seconds',
    help: 'Activity execution time per attempt, by activity type and result (success, failure, cancelled)',
    labelNames: ['activity_type', 'result'],
    buckets: ACTIVITY_BUCKETS,
    registers,
  });
  const activityFailures = new Counter({
    name: 'servetune_activity_failures_total',
    help: 'Failed activity attempts, by activity type and error type (retried or not)',
    labelNames: ['activity_type', 'error_type'],
    registers,
  });
  const activitiesRunning = new Gauge({ name: 'servetune_activities_running', help: 'Activities executing now, by type', labelNames: ['activity_type'], registers });

  // Known label values start at 0, so rates and increases exist before the first rollout of each kind.
  for (const engine of EngineTypeSchema.options) {
    started.inc({ engine }, 0);
    for (const outcome of ROLLOUT_OUTCOMES) finished.inc({ engine, outcome }, 0);
  }

  const sinks: InjectedSinks<RolloutMetricsSinks> = {
    rolloutMetrics: {
      started: {
        fn: (_info, engine) => started.inc({ engine }),
        callDuringReplay: false,
      },
      finished: {
        fn: (_info, summary) => {
          finished.inc({ engine: summary.engine, outcome: summary.outcome });
          rolloutDuration.observe({ engine: summary.engine, outcome: summary.outcome }, summary.duration_seconds);
          for (const s of summary.stages) stageDuration.observe({ stage: s.stage, status: s.status }, s.duration_seconds);
        },
        callDuringReplay: false,
      },
    },
  };

  const activityInterceptor: ActivityInterceptorsFactory = (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const { activityType, attempt, workflowExecution, activityId } = ctx.info;
        const child = log.child({ workflow_id: workflowExecution?.workflowId, run_id: workflowExecution?.runId, activity_type: activityType, activity_id: activityId, attempt });
        const stop = activityDuration.startTimer({ activity_type: activityType });
        activitiesRunning.inc({ activity_type: activityType });
        try {
          const result = await runWithActivityLogger(child, () => next(input));
          stop({ result: 'success' });
          return result;
        } catch (err) {
          const cancelled = ctx.cancellationSignal.aborted;
          stop({ result: cancelled ? 'cancelled' : 'failure' });
          if (!cancelled) activityFailures.inc({ activity_type: activityType, error_type: errorType(err) });
          // The SDK logs the failure itself ("Activity failed", through the Runtime logger); this line adds the error type.
          child.debug({ err: (err as Error)?.message, error_type: errorType(err), cancelled }, 'activity attempt failed');
          throw err;
        } finally {
          activitiesRunning.dec({ activity_type: activityType });
        }
      },
    },
  });

  return { registry, sinks, activityInterceptor };
}
