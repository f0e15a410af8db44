/**
 * Issue 12.3 end to end: a rollout whose config push hangs on a replica (a slow-loris agent) is
 * cancelled through Temporal; the push activity's cancellation reaches its HTTP request, so the
 * worker hangs up on the replica within a heartbeat or two instead of at the push deadline
 * (10 minutes). Everything runs on 127.0.0.1: the simulator, and a relay in front of its replica
 * that holds the first PUT open.
 */
import http from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eventually, startLoopbackServer, type LoopbackServer } from '../helpers/loopbackServer';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let stack: Stack;
let relay: LoopbackServer;
let heldClosedAt: number | null = null;
let held = false;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 1, 2);
  const replica = (await stack.simState(stack.deployments[0])).replicas[0].address;
  relay = await startLoopbackServer((req, res) => {
    if (req.method === 'PUT' && !held) {
      // The first push: headers and one byte, then nothing; note when the worker hangs up.
      held = true;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write('{');
      res.on('close', () => (heldClosedAt = Date.now()));
      return;
    }
    const upstream = http.request(`${replica}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
});

afterAll(async () => {
  await relay?.close();
  await stack?.stop();
  await env?.teardown();
});

test('cancelling a rollout stops its hanging config push within seconds, not at the push deadline', async () => {
  const started = await stack.api
    .post('/api/v1/workflows')
    .send({ instance_id: stack.deployments[0], instance_type: 'vllm', replicas: [relay.url], stages: [100], monitoring_duration_seconds: 1 });
  expect(started.status).toBe(201);
  const id = started.body.workflow_id as string;

  expect(await eventually(() => held, 90_000, 100)).toBe(true);
  const cancelledAt = Date.now();
  await env.client.workflow.getHandle(id).cancel();

  // The activity learns of the cancellation at a heartbeat (throttled to at most 8 s with a 10 s heartbeat timeout).
  expect(await eventually(() => heldClosedAt !== null, 30_000, 50)).toBe(true);
  const stoppedAfterMs = (heldClosedAt as unknown as number) - cancelledAt;
  console.info(`held push closed ${stoppedAfterMs} ms after the cancellation`);
  expect(stoppedAfterMs).toBeLessThan(30_000);

  // The rollout still ends, its compensation pushed through the relay.
  const done = await waitForState(stack, id, isTerminal, 90_000);
  expect(['rolled_back', 'failed']).toContain(done.status);
});
