import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createRolloutWorker } from '../../worker/createWorker';
import type { FakeFleet } from './fakeFleet';
import { workflowBundle } from './temporal';

/**
 * Runs `body` with a rollout worker (the real workflow bundle) whose activities push to `fleet`,
 * `concurrency` replicas at a time, on a task queue of its own; the worker stops when the body ends.
 */
export async function withFakeFleetWorker<T>(env: TestWorkflowEnvironment, fleet: FakeFleet, concurrency: number, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `fake-fleet-${Math.random().toString(36).slice(2)}`;
  const worker = await createRolloutWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: workflowBundle(),
    activities: fleet.activities(concurrency),
  });
  const running = worker.run();
  try {
    return await body(taskQueue);
  } finally {
    worker.shutdown();
    await running;
  }
}
