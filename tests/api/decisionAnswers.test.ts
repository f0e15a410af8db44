/**
 * The two rare answers to a decision (docs/decisions-and-audit.md), each made to happen on purpose on a
 * real Temporal dev server:
 * - 202: the rollout accepted the decision but is still acting on it when the gateway stops waiting
 *   (an abort while a push that ignores cancellation is in flight);
 * - 504: a workflow task that began before the decision's deadline is still running when the gateway
 *   gives up, so nobody can tell yet whether it took the decision (here a raw poll takes the task and
 *   never answers, as a worker stalled in the middle of it would).
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { ErrorBodySchema, RolloutRequestSchema, type WorkflowState } from '../../models';
import { getStateQuery } from '../../workflows/definitions';
import { FakeFleet, OLD_REVISION } from '../helpers/fakeFleet';
import { withFakeFleetWorker } from '../helpers/fakeFleetWorker';
import { until } from '../helpers/until';
import { startDevServer } from '../helpers/temporal';
import { ROLLOUT_WORKFLOW_TYPE } from '../../contract';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startDevServer();
});

afterAll(async () => {
  await env?.teardown();
});

const rolloutInput = (fleet: FakeFleet) =>
  RolloutRequestSchema.parse({ instance_id: 'fake-deployment.invalid:8000', instance_type: 'vllm', replicas: fleet.addresses, stages: [100], monitoring_duration_seconds: 3 });

// Each test has a fleet and a task queue of its own, so they run at once (test.concurrent).
test.concurrent('an abort the rollout accepted but is still acting on when the gateway stops waiting answers 202, and takes effect', async () => {
  const fleet = new FakeFleet({ size: 2, pushMs: 1 });
  // The new config's pushes wait for the test and ignore cancellation, like an engine restart that
  // cannot be interrupted: the abort is accepted at once, but the rollout acts on it only after them.
  let releasePushes!: () => void;
  const pushesReleased = new Promise<void>((r) => (releasePushes = r));
  let held = 0;
  const push = fleet.target.push;
  fleet.target.push = async (address, config, signal) => {
    if (config.revision !== OLD_REVISION) {
      held += 1;
      await pushesReleased;
    }
    return push(address, config, signal);
  };
  // The pushes are released before the worker stops (it waits for its activities), also on a failure.
  await withFakeFleetWorker(env, fleet, 2, async (taskQueue) => {
    try {
      const api = supertest(createApp(env.client, { taskQueue, decisionTimeoutMs: 1500 }));
      const handle = await env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, { taskQueue, workflowId: `answers-${randomUUID()}`, args: [rolloutInput(fleet)] });
      await until(() => held === 2, 'both pushes of the new config in flight', 90_000);

      const answer = await api.post(`/api/v1/workflows/${handle.workflowId}/abort`).send({ aborted_by: 'oncall', reason: 'stop' });
      expect(answer.status).toBe(202);
      expect(ErrorBodySchema.parse(answer.body).error.code).toBe('decision_accepted');
      // Accepted means taken: the rollout has recorded the abort before it could act on it.
      expect((await handle.query(getStateQuery)).audit.map((a) => a.action)).toContain('abort');

      releasePushes();
      const final = (await handle.result()) as WorkflowState;
      expect(final.status).toBe('rolled_back');
      expect(final.error_message).toMatch(/^Aborted by oncall: stop/);
      expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
    } finally {
      releasePushes();
    }
  });
});

test.concurrent('a decision whose workflow task began before its deadline and never finished answers 504, not a guess', async () => {
  // No worker polls this queue: the test takes the rollout's first workflow task itself and never
  // completes it. The task's timeout is long so the server does not hand it out again meanwhile.
  const taskQueue = `answers-stalled-${randomUUID()}`;
  const fleet = new FakeFleet({ size: 1, pushMs: 1 });
  const handle = await env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `answers-stalled-${randomUUID()}`,
    args: [rolloutInput(fleet)],
    workflowTaskTimeout: '60s',
  });
  try {
    // A long poll needs a deadline of its own (the server refuses one without).
    const task = await env.client.connection.withDeadline(Date.now() + 70_000, () =>
      env.client.workflowService.pollWorkflowTaskQueue({ namespace: env.namespace ?? 'default', taskQueue: { name: taskQueue, kind: 1 }, identity: 'stalled-worker' }),
    );
    expect(task.workflowExecution?.workflowId).toBe(handle.workflowId);

    const api = supertest(createApp(env.client, { taskQueue, decisionTimeoutMs: 1000 }));
    const startedAt = Date.now();
    const answer = await api.post(`/api/v1/workflows/${handle.workflowId}/abort`).send({ aborted_by: 'oncall', reason: 'stop' });
    expect(answer.status).toBe(504);
    expect(ErrorBodySchema.parse(answer.body).error.code).toBe('decision_outcome_unknown');
    // It waited for the stalled task (up to 15 s) rather than answering at the decision's deadline.
    expect(Date.now() - startedAt).toBeGreaterThan(10_000);
  } finally {
    await handle.terminate('test over');
  }
});
