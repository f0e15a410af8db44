import { readFileSync } from 'node:fs';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type RolloutActivities } from '../activities';
import { logger } from '../runtime/logger';
import { ROLLOUT_METRICS_MARKER } from '../workflows/metricsInterceptor';
import { createWorkerMetrics, type WorkerMetrics } from './metrics';

/**
 * Workflow interceptor modules bundled with the workflows. Whoever pre-builds a bundle
 * (`bundleWorkflowCode`) must pass these as `workflowInterceptorModules`, or the worker has no rollout metrics.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/metricsInterceptor')];

export interface RolloutWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities?: RolloutActivities;
  /** A pre-built bundle (tests build it once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkflowBundleOption;
  /**
   * Workflows kept in memory between tasks. A rollout spends nearly all its life in a timer or an
   * approval wait, so a small cache costs only a replay of a short history when it wakes.
   */
  maxCachedWorkflows?: number;
  /** Rollout and activity metrics (and the activities' base logger); a private registry when absent. */
  metrics?: WorkerMetrics;
}

function bundleHasMetricsInterceptor(bundle: WorkflowBundleOption): boolean {
  try {
    const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
    return code.includes(ROLLOUT_METRICS_MARKER);
  } catch {
    return true; // unreadable here: let Worker.create report it
  }
}

export async function createRolloutWorker(opts: RolloutWorkerOptions): Promise<Worker> {
  const metrics = opts.metrics ?? createWorkerMetrics();
  if (opts.workflowBundle && !bundleHasMetricsInterceptor(opts.workflowBundle)) {
    logger.warn('the pre-built workflow bundle lacks the rollout metrics interceptor: build it with workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES');
  }
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities ?? createActivities(),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    maxCachedWorkflows: opts.maxCachedWorkflows ?? 200,
    // workflowModules only applies when the worker bundles; pre-built bundles carry them already.
    interceptors: { activity: [metrics.activityInterceptor], ...(opts.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }) },
    sinks: metrics.sinks,
  });
}
