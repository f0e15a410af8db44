/**
 * Reads that need no worker, against a real dev server: with the worker stopped, a finished rollout and
 * the list answer in under a second from the server alone, a running rollout answers its memo summary
 * within the query deadline, and /readyz tells whether any worker polls.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { DEPLOYMENT_KEY, ENGINE_KEY, ROLLOUT_WORKFLOW_TYPE, rolloutId, STAGE_KEY, STATUS_KEY } from '../../contract';
import { LiveStateSchema, RolloutReadSchema, SummaryStateSchema, WorkflowListSchema, type WorkflowState } from '../../models';
import { createFleetSimulator, type FleetSimulator } from '../../simulator/simulatedFleet';
import { createRolloutWorker } from '../../worker/createWorker';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { isTerminalStatus } from '../../contract';

jest.setTimeout(180_000);

const QUERY_TIMEOUT_MS = 1000;

let env: TestWorkflowEnvironment;
let sim: FleetSimulator;
const taskQueue = `reads-${Math.random().toString(36).slice(2)}`;
let api: ReturnType<typeof supertest>;
let finishedId: string;
let parkedId: string;
let oldStyleId: string;

async function timed<T>(call: () => PromiseLike<T>): Promise<{ answer: T; ms: number }> {
  const t0 = performance.now();
  const answer = await call();
  return { answer, ms: performance.now() - t0 };
}

async function waitFor(id: string, done: (s: WorkflowState) => boolean): Promise<WorkflowState> {
  const deadline = Date.now() + 90_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await api.get(`/api/v1/workflows/${id}`);
    last = res.body;
    if (res.status === 200 && res.body.live === true && done(res.body)) return res.body as WorkflowState;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rollout ${id} did not reach the expected state; last: ${JSON.stringify(last)?.slice(0, 1000)}`);
}

async function readyz(): Promise<{ status: string; workers: { polling: boolean | null; pollers: number } }> {
  // A new app each time: /readyz remembers the poller count for a few seconds.
  const res = await supertest(createApp(env.client, { taskQueue })).get('/readyz');
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  env = await startDevServer();
  sim = await createFleetSimulator({ deployments: [0, 1].map(() => ({ engine: 'vllm' as const, port: 0, replicas: 4 })) });
  api = supertest(createApp(env.client, { taskQueue, queryTimeoutMs: QUERY_TIMEOUT_MS }));
});

afterAll(async () => {
  await sim?.close();
  await env?.teardown();
});

test('/readyz: no pollers before a worker runs (degraded, still 200), then the worker polling', async () => {
  expect(await readyz()).toMatchObject({ status: 'degraded', temporal: 'reachable', workers: { polling: false, pollers: 0 } });

  const worker = await createRolloutWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle() });
  const running = worker.run();
  try {
    let seen = await readyz();
    for (let i = 0; i < 100 && seen.workers.polling !== true; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await readyz();
    }
    expect(seen).toMatchObject({ status: 'ready', workers: { polling: true } });
    expect(seen.workers.pollers).toBeGreaterThan(0);

    // One rollout runs to its end, one waits for approval; then the worker stops.
    const finished = await api.post('/api/v1/workflows').send({ instance_id: sim.deployments[0].url, instance_type: 'vllm', stages: [100], monitoring_duration_seconds: 1 });
    const parked = await api.post('/api/v1/workflows').send({ instance_id: sim.deployments[1].url, instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 });
    finishedId = finished.body.workflow_id;
    parkedId = parked.body.workflow_id;
    await waitFor(finishedId, (s) => isTerminalStatus(s.status));
    await waitFor(parkedId, (s) => s.status === 'awaiting_approval');
  } finally {
    worker.shutdown();
    await running;
  }
  // A rollout as one started before rollouts kept a summary: search attributes, no memo (no worker runs it).
  oldStyleId = rolloutId(`old-style-${Date.now()}`);
  await env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
    workflowId: oldStyleId,
    taskQueue,
    args: [{ instance_id: 'localhost:9', instance_type: 'vllm' }],
    typedSearchAttributes: [
      { key: DEPLOYMENT_KEY, value: 'localhost:9' },
      { key: ENGINE_KEY, value: 'tgi' },
      { key: STATUS_KEY, value: 'running' },
      { key: STAGE_KEY, value: 'none' },
    ],
  });
});

describe('with the worker stopped', () => {
  test('GET of a finished rollout answers its final state in under a second, then 304 to its ETag', async () => {
    const { answer, ms } = await timed(() => api.get(`/api/v1/workflows/${finishedId}`));
    expect(answer.status).toBe(200);
    expect(ms).toBeLessThan(1000);
    const state = LiveStateSchema.parse(answer.body);
    expect(state).toMatchObject({ workflow_id: finishedId, status: 'completed', current_step: 'complete', live: true });
    expect(state.final_health_score).not.toBeNull();
    // The answer is the workflow's result (its stored JSON with `live` added), exactly.
    expect(answer.body).toEqual({ ...(await env.client.workflow.getHandle(finishedId).result()), live: true });

    const etag = answer.headers.etag;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await api.get(`/api/v1/workflows/${finishedId}`);
    expect([again.status, again.headers.etag, again.body]).toEqual([200, etag, answer.body]);
    const notModified = await api.get(`/api/v1/workflows/${finishedId}`).set('If-None-Match', etag);
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect((await api.get(`/api/v1/workflows/${finishedId}`).set('If-None-Match', '"other"')).status).toBe(200);
  });

  test('GET of a running rollout answers its memo summary within the query deadline, live: false', async () => {
    const { answer, ms } = await timed(() => api.get(`/api/v1/workflows/${parkedId}`));
    expect(answer.status).toBe(200);
    expect(ms).toBeLessThan(QUERY_TIMEOUT_MS + 1500);
    const summary = SummaryStateSchema.parse(answer.body);
    expect(summary).toMatchObject({
      workflow_id: parkedId,
      status: 'awaiting_approval',
      current_step: 'await_approval',
      live: false,
      execution_status: 'RUNNING',
      summary_source: 'memo',
      requires_approval: true,
    });
    expect(summary.live_unavailable_reason).toMatch(/^No worker (polls task queue|answered within 1 s)/);
    expect(summary.health_score_baseline).not.toBeNull();
  });

  test('the list answers in under a second from visibility: memo summaries, a rollout with no memo, no guard rows', async () => {
    const { answer, ms } = await timed(() => api.get('/api/v1/workflows'));
    expect(answer.status).toBe(200);
    expect(ms).toBeLessThan(1000);
    const rows = WorkflowListSchema.parse(answer.body).workflows;
    expect(rows.map((r) => r.workflow_id).sort()).toEqual([finishedId, parkedId, oldStyleId].sort());
    const byId = Object.fromEntries(rows.map((r) => [r.workflow_id, r]));
    expect(byId[finishedId]).toMatchObject({ status: 'completed', summary_source: 'memo', execution_status: 'COMPLETED', current_stage: '100%' });
    expect(byId[finishedId].final_health_score).not.toBeNull();
    expect(byId[parkedId]).toMatchObject({ status: 'awaiting_approval', summary_source: 'memo', execution_status: 'RUNNING' });
    expect(byId[oldStyleId]).toMatchObject({
      status: 'running',
      instance_id: 'localhost:9',
      instance_type: 'tgi',
      current_step: null,
      current_stage: null,
      summary_source: 'search_attributes',
    });

    // Read by id, the rollout with no memo answers what its search attributes hold.
    const oldStyle = SummaryStateSchema.parse((await api.get(`/api/v1/workflows/${oldStyleId}`)).body);
    expect(oldStyle).toMatchObject({ status: 'running', instance_type: 'tgi', summary_source: 'search_attributes', live: false });

    const completed = WorkflowListSchema.parse((await api.get('/api/v1/workflows').query({ status: 'completed' })).body).workflows;
    expect(completed.map((r) => r.workflow_id)).toEqual([finishedId]);
  });

  test('a rollout terminated in Temporal reads as failed, saying so, from its summary', async () => {
    await env.client.workflow.getHandle(parkedId).terminate('operator gave up');
    const res = await api.get(`/api/v1/workflows/${parkedId}`);
    expect(res.status).toBe(200);
    const read = RolloutReadSchema.parse(res.body);
    expect(read).toMatchObject({ status: 'failed', execution_status: 'TERMINATED', live: false });
    expect(read.live ? null : read.error_message).toMatch(/terminated in Temporal while awaiting_approval/);
    const listed = WorkflowListSchema.parse((await api.get('/api/v1/workflows')).body).workflows.find((r) => r.workflow_id === parkedId);
    expect(listed).toMatchObject({ status: 'failed', execution_status: 'TERMINATED' });
  });
});
