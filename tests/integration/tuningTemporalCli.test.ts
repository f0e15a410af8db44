/**
 * A tuning run answered with the `temporal` CLI, the commands docs/tuning.md gives operators: the
 * query `getTuningState` reads the run, the update `stop` ends it after the current iteration and
 * answers the state it took, and a stop once the run ended is refused.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TuningState } from '../../models';
import { startStack, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';
import { tuningEnded, waitForTuning } from '../helpers/tunings';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 1, 4, ['sglang']);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

const temporal = (id: string, ...args: string[]) =>
  promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [...args, '--address', env.address, '--namespace', env.namespace ?? 'default', '--workflow-id', id, '--output', 'json']);

/** The command's output once it succeeds: the guard starts the run a moment after the gateway's 201. */
async function untilAnswered(command: () => Promise<{ stdout: string }>): Promise<{ stdout: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await command();
    } catch (err) {
      if (Date.now() > deadline || !String((err as Error).message).includes('not found')) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

test('query getTuningState and update stop, as an operator types them', async () => {
  const started = await stack.api.post('/api/v1/tunings').send({
    instance_id: stack.deployments[0],
    instance_type: 'sglang',
    monitoring_duration_seconds: 2,
    stages: [50, 100],
    target_health: 99.9,
    budget: { max_iterations: 6 },
  });
  expect(started.status).toBe(201);
  const id = started.body.tuning_id as string;

  // The query answers the same run the gateway reads, once the deployment's guard has started it as its child.
  const queried = await untilAnswered(() => temporal(id, 'workflow', 'query', '--type', 'getTuningState'));
  expect((JSON.parse(queried.stdout) as { queryResult: TuningState[] }).queryResult[0]).toMatchObject({ tuning_id: id, instance_id: stack.deployments[0], status: 'running' });

  const stop = JSON.parse((await temporal(id, 'workflow', 'update', 'execute', '--name', 'stop', '--input', JSON.stringify({ stopped_by: 'oncall' }))).stdout) as {
    result: TuningState;
  };
  expect(stop.result).toMatchObject({ tuning_id: id, stop_requested_by: 'oncall' });

  const state = await waitForTuning(stack, id, tuningEnded);
  expect(state.status).toBe('completed');
  // It ends after the iteration under way when the stop came (or earlier, if that iteration met the goal).
  expect(['stopped', 'slo_met', 'search_exhausted']).toContain(state.stop_reason);
  expect(state.iterations).toBeLessThanOrEqual(1);
  expect(state.stop_requested_by).toBe('oncall');

  const again = await temporal(id, 'workflow', 'update', 'execute', '--name', 'stop', '--input', '{}').then(
    () => null,
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  expect(again?.code).toBe(1);
});
