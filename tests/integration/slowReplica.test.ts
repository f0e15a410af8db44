/**
 * A replica that dribbles its answer to a config push (one byte every second, forever) cannot hold a
 * rollout: an abort cancels the push activity, whose cancellation closes the request, the rollout rolls
 * back within seconds, and no socket to the replica is left open. End to end: gateway, Temporal dev
 * server, worker with the real activities and HTTP client, the simulator behind a dribbling front.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let stack: Stack;
let front: http.Server;
let frontUrl: string;
const open = new Set<import('node:net').Socket>();
const puts: Array<{ dribbled: boolean; closedAt: number | null }> = [];

/** In front of one simulated replica: reads pass through; the first config push dribbles forever. */
function dribblingFront(replicaUrl: string): http.Server {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'PUT' && puts.length === 0) {
      const put = { dribbled: true, closedAt: null as number | null };
      puts.push(put);
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => {
        clearInterval(timer);
        put.closedAt = Date.now();
      });
      return;
    }
    if (req.method === 'PUT') puts.push({ dribbled: false, closedAt: null });
    const answer = await fetch(`${replicaUrl}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  return server;
}

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 1, 2);
  front = dribblingFront(`${stack.deployments[0]}/replicas/0`);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  front?.closeAllConnections();
  front?.close();
  await stack?.stop();
  await env?.teardown();
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an abort during a dribbling push takes effect in seconds and leaves no socket open', async () => {
  const start = await stack.api.post('/api/v1/workflows').send({
    instance_id: stack.deployments[0],
    instance_type: 'vllm',
    replicas: [frontUrl, `${stack.deployments[0]}/replicas/1`],
    stages: [50, 100],
    monitoring_duration_seconds: 1,
  });
  expect(start.status).toBe(201);
  const id = start.body.workflow_id as string;

  // The 50% stage pushes to the front, which starts dribbling.
  await until('the dribbling push', () => puts.length > 0, 120_000);
  const abortedAt = Date.now();
  const abort = await stack.api.post(`/api/v1/workflows/${id}/abort`).send({ aborted_by: 'oncall', reason: 'replica stuck' });
  expect([200, 202]).toContain(abort.status);

  const end = await waitForState(stack, id, isTerminal, 120_000);
  const tookMs = Date.now() - abortedAt;
  expect(end).toMatchObject({ status: 'rolled_back' });
  expect(end.error_message).toContain('Aborted by oncall: replica stuck');
  // Cancellation reaches the activity at its next heartbeat (a few seconds), then the rollback runs:
  // far below the 10-minute push deadline that alone would have ended the push.
  expect(tookMs).toBeLessThan(60_000);
  // The dribbling request was closed by the worker, and the rollback pushed the old config back.
  expect(puts[0].closedAt).not.toBeNull();
  expect(puts.slice(1).some((p) => !p.dribbled)).toBe(true);
  await until('no socket left open to the replica', () => open.size === 0, 15_000);
  const sim = await stack.simState(stack.deployments[0]);
  expect(sim.replicas.map((r) => r.revision)).toEqual(['initial', 'initial']);
});
