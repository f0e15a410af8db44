/**
 * How the push activities end when they are stopped from outside: a cancellation the workflow asked
 * for (abort, cancelled rollout) is reported as a cancellation; a worker shutting down fails the
 * attempt instead, so another worker retries it.
 */
import { ActivityCancellationDetails, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import axios from 'axios';
import { createActivities } from '../../../activities';
import type { ConfigTarget } from '../../../activities/configTarget';
import type { ConfigPush } from '../../../models';

const addresses = Array.from({ length: 6 }, (_, i) => `replica-${i}.invalid:8000`);

function slowTarget(started: string[]): ConfigTarget {
  return {
    read: async () => ({ revision: 'initial', engine: 'vllm', engine_args: {} }),
    release: async () => ({ kind: 'free' }),
    push: async (address: string, push: ConfigPush) => {
      started.push(address);
      await new Promise((r) => setTimeout(r, 100));
      return { revision: push.revision, engine: 'vllm', engine_args: push.engine_args };
    },
  };
}

async function cancelledRollback(details: ActivityCancellationDetails): Promise<{ error: unknown; started: string[] }> {
  const started: string[] = [];
  const activities = createActivities({ http: axios.create(), configTarget: slowTarget(started), concurrency: 2 });
  const env = new MockActivityEnvironment();
  const run = env.run(activities.rollbackReplicas, { groups: [{ revision: 'initial', engine_args: {}, addresses }] });
  setTimeout(() => env.cancel(details.workerShutdown ? 'WORKER_SHUTDOWN' : 'CANCELLED', details), 30);
  const error = await run.then(() => null, (e: unknown) => e);
  return { error, started };
}

test('a cancellation the workflow asked for ends the activity as cancelled, with no push started after it', async () => {
  const { error, started } = await cancelledRollback(new ActivityCancellationDetails({ cancelRequested: true }));
  expect(error).toBeInstanceOf(CancelledFailure);
  expect(started).toEqual(addresses.slice(0, 2));
});

test('a worker shutting down fails the attempt with a retryable error instead of a cancellation', async () => {
  const { error, started } = await cancelledRollback(new ActivityCancellationDetails({ workerShutdown: true }));
  expect(error).not.toBeInstanceOf(CancelledFailure);
  expect((error as Error).message).toBe('rolling back 6 replica(s): stopped because the worker is shutting down; a retry resumes');
  expect(started).toEqual(addresses.slice(0, 2));
});
