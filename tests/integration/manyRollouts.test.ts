/**
 * 200 rollouts in flight at once, across 200 simulated deployments, through the gateway: every one
 * ends correctly and none is lost.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowState } from '../../models';
import { startStack, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(300_000);

const ROLLOUTS = 200;
let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, ROLLOUTS, 2);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

test(`${ROLLOUTS} simultaneous rollouts all complete`, async () => {
  const started = Date.now();
  const answers = await Promise.all(
    stack.deployments.map((instance_id) =>
      stack.api.post('/api/v1/workflows').send({ instance_id, instance_type: 'vllm', monitoring_duration_seconds: 1, stages: [50, 100] }),
    ),
  );
  const failedStarts = answers.filter((a) => a.status !== 201).map((a) => a.body);
  if (failedStarts.length) console.log(JSON.stringify(failedStarts.slice(0, 3)));
  expect(answers.map((a) => a.status)).toEqual(Array(ROLLOUTS).fill(201));
  const ids = answers.map((a) => a.body.workflow_id as string);

  // Long-polling for results costs the worker nothing, unlike 200 queries per round.
  const results = await Promise.all(ids.map((id) => env.client.workflow.getHandle(id).result() as Promise<WorkflowState>));
  const finals = new Map(ids.map((id, i) => [id, results[i]]));
  const seconds = (Date.now() - started) / 1000;
  console.log(`${ROLLOUTS} rollouts: all ended in ${seconds.toFixed(1)} s`);

  expect([...finals.values()].map((s) => s.status)).toEqual(Array(ROLLOUTS).fill('completed'));
  for (const [i, deployment] of stack.deployments.entries()) {
    const sim = await stack.simState(deployment);
    const revision = finals.get(ids[i])!.optimization_plan!.revision;
    expect(sim.replicas.map((r) => [r.revision, r.config_pushes])).toEqual([[revision, 1], [revision, 1]]);
  }
});
