/**
 * Timer-heavy behaviour on the time-skipping test server: 5-minute monitoring windows and a
 * 24-hour approval timeout pass in seconds of wall-clock time, with the same workflow code.
 */
import { WorkflowFailedError } from '@temporalio/client';
import axios from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RolloutRequestSchema, type RolloutRequestInput, type WorkflowState } from '../../models';
import { getStateQuery } from '../../workflows/definitions';
import { startStack, type Stack } from '../helpers/stack';
import { startTimeSkippingServer } from '../helpers/temporal';
import { ROLLOUT_WORKFLOW_TYPE } from '../../contract';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startTimeSkippingServer();
  stack = await startStack(env, 3);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

function start(input: RolloutRequestInput) {
  return env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
    taskQueue: stack.taskQueue,
    workflowId: `ts-${Math.random().toString(36).slice(2)}`,
    args: [RolloutRequestSchema.parse(input)],
  });
}

test('a rollout with 5-minute monitoring windows completes in seconds', async () => {
  const wallStart = Date.now();
  const handle = await start({ instance_id: stack.deployments[0], instance_type: 'vllm', monitoring_duration_seconds: 300 });
  const state = (await handle.result()) as WorkflowState;
  const wallSeconds = (Date.now() - wallStart) / 1000;

  expect(state.status).toBe('completed');
  expect(state.rollout_history.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  // Each window sampled five times, a minute apart, in workflow time.
  for (const stage of state.rollout_history) {
    expect(stage.samples).toHaveLength(5);
    const windowMs = Date.parse(stage.completed_at!) - Date.parse(stage.started_at);
    expect(windowMs).toBeGreaterThanOrEqual(300_000);
  }
  const workflowMinutes = (Date.parse(state.updated_at) - Date.parse(state.created_at)) / 60_000;
  expect(workflowMinutes).toBeGreaterThanOrEqual(15);
  expect(wallSeconds).toBeLessThan(60);
});

test('an approval that never comes ends the rollout rejected after approval_timeout_seconds (default 24 h)', async () => {
  const handle = await start({ instance_id: stack.deployments[1], instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 60 });
  const state = (await handle.result()) as WorkflowState;
  expect(state.status).toBe('rejected');
  expect(state.approved).toBe(false);
  expect(state.error_message).toBe('Approval timed out after 86400s');
  expect(state.rollout_history).toEqual([]);
  const hours = (Date.parse(state.updated_at) - Date.parse(state.created_at)) / 3_600_000;
  expect(hours).toBeGreaterThanOrEqual(24);
});

test('cancelling a rollout mid-stage still rolls back the replicas it changed', async () => {
  const deployment = stack.deployments[2];
  const handle = await start({ instance_id: deployment, instance_type: 'vllm', monitoring_duration_seconds: 600, stages: [50, 100] });
  const deadline = Date.now() + 60_000;
  let state: WorkflowState;
  do {
    await new Promise((r) => setTimeout(r, 200));
    state = await handle.query(getStateQuery);
  } while (state.current_step !== 'monitor_stage' && Date.now() < deadline);
  expect(state.current_stage).toBe('50%');
  expect((await stack.simState(deployment)).replicas.filter((r) => r.revision !== 'initial')).toHaveLength(5);
  const leases = async () => Promise.all([0, 5].map(async (i) => (await axios.get(`${deployment}/replicas/${i}/servetune/v1/lease`)).data.holder));
  // The changed replicas are the rollout's (docs/replica-leases.md); the others are free.
  expect(await leases()).toEqual([handle.workflowId, null]);

  await handle.cancel();
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  const final = await handle.query(getStateQuery);
  expect(final.status).toBe('rolled_back');
  expect(final.error_message).toBe('Rollout cancelled, rolled back changes');
  expect((await stack.simState(deployment)).replicas.every((r) => r.revision === 'initial')).toBe(true);
  // Cancelled, it still let go of them.
  expect(await leases()).toEqual([null, null]);
});
