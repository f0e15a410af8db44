/**
 * Replicas that misbehave: a refused config (4xx) is not retried and rolls back at once; an
 * unreachable replica or a malformed metrics page is retried with backoff, then the rollout ends
 * with a clear error_message. No rollout waits forever and none leaves a replica on the new revision.
 */
import axios from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 3);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

async function rollout(deployment: string): Promise<string> {
  const res = await stack.api.post('/api/v1/workflows').send({ instance_id: deployment, instance_type: 'vllm', monitoring_duration_seconds: 1 });
  expect(res.status).toBe(201);
  return res.body.workflow_id;
}

// Each fault is on a deployment of its own, so the three rollouts run at once (test.concurrent).
test.concurrent('a replica that refuses the config (4xx): no retry, the stage rolls back', async () => {
  const deployment = stack.deployments[0];
  const replica = (await stack.simState(deployment)).replicas[0].address;
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'apply_error', replicas: [replica] });
  const started = Date.now();
  const done = await waitForState(stack, await rollout(deployment), isTerminal);
  expect(done.status).toBe('rolled_back');
  expect(done.error_message).toContain(`applying config to ${replica}: HTTP 422`);
  expect(done.error_message).toMatch(/rolled back changes$/);
  // Non-retryable: the rollout did not sit through five attempts with backoff.
  expect(Date.now() - started).toBeLessThan(20_000);
  const sim = await stack.simState(deployment);
  expect(sim.replicas.every((r) => r.revision === 'initial' && r.config_pushes === 0)).toBe(true);
});

test.concurrent('an unreachable replica: retried with backoff, then failed with the cause, nothing changed', async () => {
  const deployment = stack.deployments[1];
  const replica = (await stack.simState(deployment)).replicas[3].address;
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'unreachable', replicas: [replica] });
  const done = await waitForState(stack, await rollout(deployment), isTerminal, 90_000);
  expect(done.status).toBe('failed');
  expect(done.error_message).toMatch(new RegExp(`reading config of ${replica.replace(/[/.]/g, '\\$&')}: (ECONNRESET|socket hang up)`));
  expect(done.rollout_history).toEqual([]);
  const sim = await stack.simState(deployment);
  expect(sim.replicas.every((r) => r.config_pushes === 0)).toBe(true);
});

test.concurrent('a replica serving a malformed metrics page: retried, then failed with the parse error', async () => {
  const deployment = stack.deployments[2];
  const replica = (await stack.simState(deployment)).replicas[0].address;
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'malformed_metrics', replicas: [replica] });
  const done = await waitForState(stack, await rollout(deployment), isTerminal, 90_000);
  expect(done.status).toBe('failed');
  expect(done.error_message).toMatch(/scraping metrics of 10 replica\(s\): .*line \d+/);
  expect(done.rollout_history).toEqual([]);
});
