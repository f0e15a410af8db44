/**
 * Workflow interceptor module (bundled with the workflows; see `WORKFLOW_INTERCEPTOR_MODULES` in
 * worker/observability.ts): reports each rollout's start and outcome to the worker through a sink, and
 * logs both with the workflow logger. It runs in the deterministic sandbox, so it only reads
 * `workflowInfo()` and the workflow's result and calls sinks and `log`, none of which adds anything to
 * the history: recorded histories replay unchanged. Sink calls are skipped while replaying, so a
 * rollout is counted once, by the worker that actually ran the step, however often it is replayed.
 */
import {
  isCancellation,
  log,
  proxySinks,
  workflowInfo,
  type Next,
  type Sinks,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import type { WorkflowState } from '../models';
import { isTerminalStatus, ROLLOUT_WORKFLOW_TYPE } from '../contract';

/** How a rollout run ended, as the worker's metrics label it. */
export const ROLLOUT_OUTCOMES = ['completed', 'rejected', 'rolled_back', 'failed', 'cancelled', 'error'] as const;
export type RolloutOutcome = (typeof ROLLOUT_OUTCOMES)[number];

export interface StageSummary {
  stage: string;
  status: string;
  duration_seconds: number;
}

export interface RolloutSummary {
  engine: string;
  outcome: RolloutOutcome;
  /** Workflow time from the run's start to its end. */
  duration_seconds: number;
  /** Finished stages (success or failed) with their durations. */
  stages: StageSummary[];
}

export interface RolloutMetricsSinks extends Sinks {
  rolloutMetrics: {
    started(engine: string): void;
    finished(summary: RolloutSummary): void;
  };
}

/** Marker the worker looks for in a pre-built bundle to tell whether this module was bundled in. */
export const ROLLOUT_METRICS_MARKER = 'servetune-rollout-metrics-interceptor';

const { rolloutMetrics } = proxySinks<RolloutMetricsSinks>();

function seconds(fromIso: string, toIso: string | null): number | null {
  if (!toIso) return null;
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : null;
}

export function summarize(state: WorkflowState, durationSeconds: number): RolloutSummary {
  const stages: StageSummary[] = [];
  for (const record of state.rollout_history ?? []) {
    const duration = seconds(record.started_at, record.completed_at);
    if (record.status !== 'in_progress' && duration !== null) stages.push({ stage: record.stage, status: record.status, duration_seconds: duration });
  }
  const outcome: RolloutOutcome = isTerminalStatus(state.status) ? (state.status as RolloutOutcome) : 'error';
  return { engine: state.instance_type, outcome, duration_seconds: durationSeconds, stages };
}

class RolloutMetricsInbound implements WorkflowInboundCallsInterceptor {
  readonly marker = ROLLOUT_METRICS_MARKER;

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = workflowInfo();
    if (info.workflowType !== ROLLOUT_WORKFLOW_TYPE) return next(input);
    const engine = String((input.args[0] as { instance_type?: unknown } | undefined)?.instance_type ?? 'unknown');
    const report = (fn: () => void) => {
      if (!workflowInfo().unsafe.isReplaying) fn();
    };
    const elapsed = () => Math.max(0, (Date.now() - info.runStartTime.getTime()) / 1000);
    report(() => rolloutMetrics.started(engine));
    log.info('rollout started', { engine, deployment: (input.args[0] as { instance_id?: string } | undefined)?.instance_id });
    try {
      const result = (await next(input)) as WorkflowState;
      const summary = summarize(result, elapsed());
      report(() => rolloutMetrics.finished(summary));
      log.info('rollout finished', { status: result.status, engine, duration_seconds: summary.duration_seconds, error_message: result.error_message });
      return result;
    } catch (err) {
      const outcome: RolloutOutcome = isCancellation(err) ? 'cancelled' : 'error';
      report(() => rolloutMetrics.finished({ engine, outcome, duration_seconds: elapsed(), stages: [] }));
      log.warn('rollout ended without a result', { outcome, engine, error: (err as Error)?.message });
      throw err;
    }
  }
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new RolloutMetricsInbound()] });
