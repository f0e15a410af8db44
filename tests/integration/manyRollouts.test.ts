/**
 * 200 rollouts in flight at once, across 200 simulated deployments, through the gateway: every one
 * ends correctly and none is lost.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
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

/** A 201 means the deployment is claimed; its guard starts the rollout a moment later. */
async function rolloutResult(id: string): Promise<WorkflowState> {
  for (;;) {
    try {
      return (await env.client.workflow.getHandle(id).result()) as WorkflowState;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test(`${ROLLOUTS} rollouts in flight at once all complete`, async () => {
  const started = Date.now();
  // Starts go out 25 at a time, as a busy operator team or a script would send them; each rollout runs
  // long enough (a 1 s baseline and two 4 s windows) that all of them are in flight together.
  const ids: string[] = [];
  for (let i = 0; i < stack.deployments.length; i += 25) {
    const answers = await Promise.all(
      stack.deployments.slice(i, i + 25).map((instance_id) =>
        stack.api.post('/api/v1/workflows').send({ instance_id, instance_type: 'vllm', monitoring_duration_seconds: 4, stages: [50, 100] }),
      ),
    );
    for (const a of answers) {
      expect(a.status).toBe(201);
      ids.push(a.body.workflow_id);
    }
  }
  const submittedAt = Date.now();

  // Long-polling for results costs the worker nothing, unlike 200 queries per round.
  const results = await Promise.all(ids.map(rolloutResult));
  const seconds = (Date.now() - started) / 1000;
  console.log(`${ROLLOUTS} rollouts: submitted in ${((submittedAt - started) / 1000).toFixed(1)} s, all ended in ${seconds.toFixed(1)} s`);

  // Every rollout was still running when the last one started: all 200 were in flight at once.
  const lastStart = Math.max(...results.map((s) => Date.parse(s.created_at)));
  const firstEnd = Math.min(...results.map((s) => Date.parse(s.updated_at)));
  expect(lastStart).toBeLessThan(firstEnd);
  expect(results.map((s) => s.status)).toEqual(Array(ROLLOUTS).fill('completed'));
  for (const [i, deployment] of stack.deployments.entries()) {
    const sim = await stack.simState(deployment);
    const revision = results[i].optimization_plan!.revision;
    expect(sim.replicas.map((r) => [r.revision, r.config_pushes])).toEqual([[revision, 1], [revision, 1]]);
  }
});
