/** Every endpoint of DESIGN.md against a real Temporal dev server, worker and simulator. */
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { ErrorBodySchema, LiveStateSchema, WorkflowListSchema, WorkflowStateSchema } from '../../models';
import { createFleetSimulator } from '../../simulator/simulatedFleet';
import { createRolloutWorker } from '../../worker/createWorker';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { deploymentGuardId } from '../../contract';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 4);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

test('GET /healthz answers 200', async () => {
  const res = await stack.api.get('/healthz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ status: 'ok' });
});

test('GET /readyz is 200 with Temporal reachable and 503 without', async () => {
  expect((await stack.api.get('/readyz')).status).toBe(200);
  const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
  const res = await supertest(createApp(unreachable, { taskQueue: 'none' })).get('/readyz');
  expect(res.status).toBe(503);
  expect(ErrorBodySchema.parse(res.body).error.code).toBe('temporal_unreachable');
});

test('without a worker, a start is still claimed and readable as pending, and cannot be approved yet', async () => {
  // A task queue no worker polls: the POST needs only the Temporal server.
  const api = supertest(createApp(env.client, { taskQueue: `no-worker-${Date.now()}`, decisionTimeoutMs: 1500 }));
  const deployment = 'http://127.0.0.1:9/pending';
  const started = await api.post('/api/v1/workflows').send({ instance_id: deployment, instance_type: 'vllm', requires_approval: true });
  expect(started.status).toBe(201);
  const id = started.body.workflow_id;

  const read = await api.get(`/api/v1/workflows/${id}`);
  expect(read.status).toBe(200);
  expect(WorkflowStateSchema.parse(read.body)).toMatchObject({ workflow_id: id, instance_id: deployment, status: 'pending', requires_approval: true });
  expect(read.body.audit).toEqual([expect.objectContaining({ action: 'start', channel: 'rest' })]);

  const listed = await api.get('/api/v1/workflows').query({ instance_id: deployment, status: 'pending' });
  expect(listed.body.workflows.map((w: { workflow_id: string; status: string }) => [w.workflow_id, w.status])).toEqual([[id, 'pending']]);

  const second = await api.post('/api/v1/workflows').send({ instance_id: deployment, instance_type: 'vllm' });
  expect(second.status).toBe(409);
  expect(second.body.error.message).toContain(id);

  const approve = await api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'alice' });
  expect([approve.status, approve.body.error.code]).toEqual([409, 'not_awaiting_approval']);
  expect(approve.body.error.message).toContain('is pending');

  await env.client.workflow.getHandle(deploymentGuardId(deployment)).terminate('test cleanup');
  expect((await api.get(`/api/v1/workflows/${id}`)).status).toBe(404);
});

test('a decision that no worker takes within the timeout answers 503 no_worker', async () => {
  const sim = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0, replicas: 1 }] });
  const taskQueue = `stopping-${Date.now()}`;
  const worker = await createRolloutWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle() });
  const running = worker.run();
  const api = supertest(createApp(env.client, { taskQueue, decisionTimeoutMs: 1500 }));
  const deployment = sim.deployments[0].url;
  let id = '';
  try {
    const started = await api.post('/api/v1/workflows').send({ instance_id: deployment, instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 });
    id = started.body.workflow_id;
    const deadline = Date.now() + 60_000;
    while ((await api.get(`/api/v1/workflows/${id}`)).body.status !== 'awaiting_approval' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    worker.shutdown();
    await running;

    const approve = await api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'alice' });
    expect([approve.status, approve.body.error.code]).toEqual([503, 'no_worker']);
  } finally {
    // Nothing will run this rollout again: terminate it, or every later list would wait on its query.
    for (const wf of [id, deploymentGuardId(deployment)]) await env.client.workflow.getHandle(wf).terminate('test cleanup').catch(() => undefined);
    await sim.close();
  }
});

describe('rollout lifecycle over REST', () => {
  let id: string;
  /** The POST answer's created_at and its start audit entry's time: every later read shows the same. */
  let created: { created_at: string; start_at: string };
  const deployment = () => stack.deployments[0];

  test('POST /api/v1/workflows answers 201 with the state document', async () => {
    const res = await stack.api.post('/api/v1/workflows').send({ instance_id: deployment(), instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 });
    expect(res.status).toBe(201);
    expect(WorkflowStateSchema.parse(res.body)).toEqual(res.body);
    expect(res.body.workflow_id).toMatch(/^rollout-[0-9a-f-]{36}$/);
    id = res.body.workflow_id;
    created = { created_at: res.body.created_at, start_at: res.body.audit[0].at };
  });

  test('GET /api/v1/workflows/{id} answers the live state, valid against the schema', async () => {
    const state = await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
    expect(LiveStateSchema.parse(state)).toEqual(state);
    expect(state.replicas).toHaveLength(10);
    expect(state.analysis_result!.metrics.request_rate).toBeGreaterThan(0);
    expect({ created_at: state.created_at, start_at: state.audit[0].at }).toEqual(created);
  });

  test('a second rollout for the same deployment is 409 while the first is in progress', async () => {
    const res = await stack.api.post('/api/v1/workflows').send({ instance_id: deployment(), instance_type: 'vllm' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('rollout_in_progress');
    expect(res.body.error.message).toContain(id);
  });

  test('GET /api/v1/workflows lists newest first and filters by instance_id and status', async () => {
    const other = await stack.api
      .post('/api/v1/workflows')
      .send({ instance_id: stack.deployments[1], instance_type: 'vllm', monitoring_duration_seconds: 1, stages: [100], slo: { ttft_p95_ms: 250 } });
    const otherDone = await waitForState(stack, other.body.workflow_id, isTerminal);
    // The request's SLO replaces the default target; the others keep theirs.
    const targets = Object.fromEntries(otherDone.analysis_result!.health_components.map((c) => [c.metric, c.target]));
    expect(targets).toEqual({ ttft_p95_ms: 250, itl_p95_ms: 50, e2e_p95_ms: 15_000, error_rate: 0.01 });

    const all = await stack.api.get('/api/v1/workflows');
    expect(all.status).toBe(200);
    const ids = WorkflowListSchema.parse(all.body).workflows.map((w) => w.workflow_id);
    expect(ids.indexOf(other.body.workflow_id)).toBeLessThan(ids.indexOf(id));

    const byInstance = await stack.api.get('/api/v1/workflows').query({ instance_id: deployment() });
    expect(byInstance.body.workflows.map((w: { workflow_id: string }) => w.workflow_id)).toEqual([id]);

    const byStatus = await stack.api.get('/api/v1/workflows').query({ status: 'completed' });
    expect(byStatus.body.workflows.map((w: { workflow_id: string }) => w.workflow_id)).toContain(other.body.workflow_id);
    expect(byStatus.body.workflows.every((w: { status: string }) => w.status === 'completed')).toBe(true);
  });

  test('POST approve answers 200 with the approved state, then 409 once it is no longer awaiting approval', async () => {
    const res = await stack.api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'admin' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ workflow_id: id, approved: true, approved_by: 'admin' });
    const again = await stack.api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'admin' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_awaiting_approval');
    const reject = await stack.api.post(`/api/v1/workflows/${id}/reject`).send({ rejected_by: 'late' });
    expect(reject.status).toBe(409);
    const done = await waitForState(stack, id, isTerminal);
    expect({ created_at: done.created_at, start_at: done.audit[0].at }).toEqual(created);
    const listed = await stack.api.get('/api/v1/workflows').query({ instance_id: deployment() });
    expect(listed.body.workflows.map((w: { created_at: string }) => w.created_at)).toEqual([created.created_at]);
  });

  test('after the rollout ends the deployment takes a new rollout, which finds nothing left to tune', async () => {
    const res = await stack.api.post('/api/v1/workflows').send({ instance_id: deployment(), instance_type: 'vllm', monitoring_duration_seconds: 1 });
    expect(res.status).toBe(201);
    const done = await waitForState(stack, res.body.workflow_id, isTerminal);
    expect(done.status).toBe('completed');
    expect(done.optimization_plan!.optimizations).toEqual([]);
    expect(done.rollout_history).toEqual([]);
    expect(done.total_improvement).toMatch(/nothing rolled out/);
  });

  test('POST reject with an empty body rejects as anonymous', async () => {
    const res = await stack.api.post('/api/v1/workflows').send({ instance_id: stack.deployments[2], instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 });
    await waitForState(stack, res.body.workflow_id, (s) => s.status === 'awaiting_approval');
    const rejected = await stack.api.post(`/api/v1/workflows/${res.body.workflow_id}/reject`);
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ approved: false, rejected_by: 'anonymous' });
  });
});

test('simultaneous POSTs for one deployment: exactly one 201, the rest 409', async () => {
  const body = { instance_id: stack.deployments[3], instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 };
  const answers = await Promise.all(Array.from({ length: 8 }, () => stack.api.post('/api/v1/workflows').send(body)));
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  const winner = answers.find((a) => a.status === 201)!.body.workflow_id;
  for (const lost of answers.filter((a) => a.status === 409)) expect(lost.body.error.message).toContain(winner);
  const listed = await stack.api.get('/api/v1/workflows').query({ instance_id: stack.deployments[3] });
  expect(listed.body.workflows.map((w: { workflow_id: string }) => w.workflow_id)).toEqual([winner]);
});

test('unknown ids are 404 on every per-rollout endpoint', async () => {
  for (const req of [
    stack.api.get('/api/v1/workflows/rollout-does-not-exist'),
    stack.api.post('/api/v1/workflows/rollout-does-not-exist/approve').send({}),
    stack.api.post('/api/v1/workflows/rollout-does-not-exist/reject').send({}),
  ]) {
    const res = await req;
    expect(res.status).toBe(404);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('not_found');
  }
});

test('a deployment with no agent and an unreachable address fails the rollout with a clear message', async () => {
  const res = await stack.api.post('/api/v1/workflows').send({ instance_id: '127.0.0.1:1', instance_type: 'vllm', monitoring_duration_seconds: 1 });
  expect(res.status).toBe(201);
  const done = await waitForState(stack, res.body.workflow_id, isTerminal, 90_000);
  expect(done.status).toBe('failed');
  expect(done.error_message).toMatch(/discovering replicas of 127\.0\.0\.1:1: ECONNREFUSED/);
  expect(done.rollout_history).toEqual([]);
});
