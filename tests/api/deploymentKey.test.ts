/**
 * Issue 11.1: one rollout per deployment, whatever the spelling. Against a real Temporal dev server
 * (the claim is the guard workflow's ID, decided by the server; no worker is needed to answer).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { eventually } from '../helpers/loopbackServer';
import { startDevServer } from '../helpers/temporal';
import { DEPLOYMENT_KEY, deploymentGuardId } from '../../contract';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let api: supertest.Agent;

beforeAll(async () => {
  env = await startDevServer();
  // A task queue no worker polls: only the claims are under test.
  api = supertest.agent(createApp(env.client, { taskQueue: `spellings-${Date.now()}` }));
});

afterAll(async () => {
  for (const deployment of ['localhost:23000', 'localhost:23001']) {
    await env?.client.workflow.getHandle(deploymentGuardId(deployment)).terminate('test cleanup').catch(() => undefined);
  }
  await env?.teardown();
});

test('three spellings of one deployment at once: one 201, two 409 naming the winner', async () => {
  const spellings = ['localhost:23000', '127.0.0.1:23000', 'http://localhost:23000'];
  const answers = await Promise.all(spellings.map((instance_id) => api.post('/api/v1/workflows').send({ instance_id, instance_type: 'vllm' })));
  expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
  const winner = answers.find((a) => a.status === 201)!.body.workflow_id as string;
  for (const lost of answers.filter((a) => a.status === 409)) {
    expect(lost.body.error.code).toBe('rollout_in_progress');
    expect(lost.body.error.message).toContain(winner);
    expect(lost.body.error.details).toEqual([{ field: 'instance_id', message: `rollout ${winner} is in progress on deployment http://localhost:23000` }]);
  }

  // Later spellings lose too; another port is another deployment.
  for (const instance_id of ['http://[::1]:23000/', 'HTTP://LOCALHOST:23000', '127.0.0.5:23000']) {
    expect([instance_id, (await api.post('/api/v1/workflows').send({ instance_id, instance_type: 'vllm' })).status]).toEqual([instance_id, 409]);
  }
  expect((await api.post('/api/v1/workflows').send({ instance_id: 'localhost:23001', instance_type: 'vllm' })).status).toBe(201);

  // One guard, keyed and searchable by the canonical deployment.
  const guard = await env.client.workflow.getHandle('deployment-guard:http://localhost:23000').describe();
  expect(guard.status.name).toBe('RUNNING');
  expect(guard.typedSearchAttributes.get(DEPLOYMENT_KEY)).toBe('http://localhost:23000');

  // Listing by any spelling finds the rollout (visibility may lag a moment).
  let listed: string[] = [];
  const found = await eventually(async () => {
    const res = await api.get('/api/v1/workflows').query({ instance_id: '127.0.0.1:23000' });
    listed = res.body.workflows.map((w: { workflow_id: string }) => w.workflow_id);
    return listed.length > 0;
  }, 20_000, 250);
  expect(found).toBe(true);
  expect(listed).toEqual([winner]);
});
