import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type RolloutActivities } from '../activities';

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
}

export async function createRolloutWorker(opts: RolloutWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities ?? createActivities(),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    maxCachedWorkflows: opts.maxCachedWorkflows ?? 200,
  });
}
