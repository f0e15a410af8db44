/**
 * The failed-stage case end to end (docs/rollout-safety.md §2): the fleet simulator's agents over HTTP,
 * engine restarts that take time, the real activities with a push concurrency smaller than the stage,
 * and one replica that refuses the new config. No push may start after the refusal, and every replica
 * ends on its old revision.
 */
import axios from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, defaultActivityDeps } from '../../activities';
import { RolloutRequestSchema, type SimState, type WorkflowState } from '../../models';
import { createFleetSimulator, type FleetSimulator } from '../../simulator/simulatedFleet';
import { createRolloutWorker } from '../../worker/createWorker';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { ROLLOUT_WORKFLOW_TYPE } from '../../contract';

jest.setTimeout(180_000);

const REPLICAS = 40;
const CONCURRENCY = 4;
const REFUSING = 9;

let env: TestWorkflowEnvironment;
let sim: FleetSimulator;

beforeAll(async () => {
  env = await startDevServer();
  sim = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0, replicas: REPLICAS }], applyDelayMs: 300 });
});

afterAll(async () => {
  await sim?.close();
  await env?.teardown();
});

test('a refusal mid-stage: the stage stops pushing at once and every replica ends on its old revision', async () => {
  const deployment = sim.deployments[0].url;
  const state = async () => (await axios.get<SimState>(`${deployment}/sim/v1/state`)).data;
  const refusing = (await state()).replicas[REFUSING].address;
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'apply_error', replicas: [refusing] });

  const taskQueue = `failed-stage-${Math.random().toString(36).slice(2)}`;
  const worker = await createRolloutWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: workflowBundle(),
    activities: createActivities({ ...defaultActivityDeps(), concurrency: CONCURRENCY }),
  });
  const running = worker.run();
  try {
    const handle = await env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `failed-stage-${Math.random().toString(36).slice(2)}`,
      args: [RolloutRequestSchema.parse({ instance_id: deployment, instance_type: 'vllm', monitoring_duration_seconds: 1, stages: [100] })],
    });
    const final = (await handle.result()) as WorkflowState;
    expect(final.status).toBe('rolled_back');
    expect(final.error_message).toContain(`applying config to ${refusing}: HTTP 422`);

    const replicas = (await state()).replicas;
    expect(replicas.every((r) => r.revision === 'initial')).toBe(true);
    // Replicas 0–8 were pushed in the waves before the refusal, at most the waves' last few beside it;
    // every replica a worker would have pulled after the refusal was never restarted at all.
    const restarted = replicas.filter((r) => r.config_pushes > 0).length;
    expect(restarted).toBeLessThanOrEqual(REFUSING + CONCURRENCY);
    expect(replicas.slice(REFUSING + CONCURRENCY).every((r) => r.config_pushes === 0)).toBe(true);
    console.log(`refusal at replica ${REFUSING} of ${REPLICAS}, ${CONCURRENCY} at a time: ${restarted} replicas restarted (each onto the new config and back)`);
  } finally {
    worker.shutdown();
    await running;
  }
});
