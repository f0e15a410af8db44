import type { TestWorkflowEnvironment } from '@temporalio/testing';
import axios from 'axios';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import type { EngineType, SimState, WorkflowState } from '../../models';
import { createFleetSimulator } from '../../simulator/simulatedFleet';
import { createRolloutWorker } from '../../worker/createWorker';
import { workflowBundle } from './temporal';
import { isTerminalStatus } from '../../contract';

export interface Stack {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  api: ReturnType<typeof supertest>;
  /** Deployment URLs of the simulator, one per requested deployment. */
  deployments: string[];
  simState(deployment: string): Promise<SimState>;
  stop(): Promise<void>;
}

/**
 * The system as tests exercise it: a real Temporal server (given), the fleet simulator on random
 * ports, a worker running the real workflow bundle and activities, and the gateway's Express app.
 */
export async function startStack(
  env: TestWorkflowEnvironment,
  deploymentCount: number,
  replicas = 10,
  engines: EngineType[] = Array(deploymentCount).fill('vllm'),
): Promise<Stack> {
  const taskQueue = `test-${Math.random().toString(36).slice(2)}`;
  const sim = await createFleetSimulator({
    deployments: Array.from({ length: deploymentCount }, (_, i) => ({ engine: engines[i], port: 0, replicas })),
  });
  const worker = await createRolloutWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: workflowBundle(),
  });
  const running = worker.run();
  const app = createApp(env.client, { taskQueue });
  return {
    env,
    taskQueue,
    api: supertest(app),
    deployments: sim.deployments.map((d) => d.url),
    simState: async (deployment) => (await axios.get<SimState>(`${deployment}/sim/v1/state`)).data,
    async stop() {
      worker.shutdown();
      await running;
      await sim.close();
    },
  };
}

/** Polls the gateway until the rollout's live state satisfies `done` (or throws after `timeoutMs`). */
export async function waitForState(
  stack: Stack,
  workflowId: string,
  done: (s: WorkflowState) => boolean,
  timeoutMs = 60_000,
): Promise<WorkflowState> {
  const deadline = Date.now() + timeoutMs;
  let last: WorkflowState | undefined;
  while (Date.now() < deadline) {
    const res = await stack.api.get(`/api/v1/workflows/${workflowId}`);
    // A summary (`live: false`: no worker answered in time) is not the state the caller waits for.
    if (res.status === 200 && res.body.live !== false) {
      last = res.body as WorkflowState;
      if (done(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rollout ${workflowId} did not reach the expected state; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

export const isTerminal = (s: WorkflowState) => isTerminalStatus(s.status);
