/**
 * The production shape (docs/production.md): a Temporal cluster on PostgreSQL with its four services as
 * separate processes (tests/cluster/server.ts), two workers and two gateways as separate OS processes,
 * the simulated fleets in this process. The tests run in order and share the processes: each kills or
 * replaces some of them and leaves two workers and two gateways behind.
 *
 * Takeover time and throughput are written to SERVETUNE_CLUSTER_MEASUREMENTS (a JSON file) when set.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { msToNumber, tsToMs } from '@temporalio/common/lib/time';
import type { WorkflowState } from '../../models';
import { createFleetSimulator, type FleetSimulator } from '../../simulator/simulatedFleet';
import { currentBuildId, versionStatus } from '../../worker/currentVersion';
import { STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT } from '../../worker/createWorker';
import { ACTIVITY_HEARTBEAT_TIMEOUT, PUSH_RETRY_INITIAL_INTERVAL, READ_RETRY_INITIAL_INTERVAL } from '../../workflows/activityTimeouts';
import { isTerminalStatus } from '../../contract';
import { pinning, workflowTaskBuilds } from '../helpers/versioning';
import { Fleet } from './fleet';
import { startTestServer, usesDevServer, type TestServer } from './server';

jest.setTimeout(600_000);

const suffix = Math.random().toString(36).slice(2);
const deploymentName = `servetune-cluster-${suffix}`;
let server: TestServer;
let connection: Connection;
let client: Client;
let sim: FleetSimulator;
let fleet: Fleet;
/** The two gateways' base URLs; a test that kills one puts the replacement's URL in its place. */
const gateways: string[] = [];
const measurements: Record<string, unknown> = {};
let nextDeployment = 0;
const fresh = () => sim.deployments[nextDeployment++].url;

/** Each worker heartbeats activities and holds the sticky queue of the rollouts it ran last. */
const TAKEOVER_MONITORING_SECONDS = 4;
/**
 * The slowest takeover the configuration allows: the next monitoring tick is at most one window away;
 * then either the workflow task waits out the dead worker's sticky queue, or an activity the dead worker
 * held times out on its heartbeat and is retried after its first retry interval.
 */
const TAKEOVER_BOUND_MS =
  TAKEOVER_MONITORING_SECONDS * 1000 +
  Math.max(
    msToNumber(STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT),
    msToNumber(ACTIVITY_HEARTBEAT_TIMEOUT) + Math.max(msToNumber(READ_RETRY_INITIAL_INTERVAL), msToNumber(PUSH_RETRY_INITIAL_INTERVAL)),
  );
/** Room for a loaded two-core machine: the server's timers and task dispatch run late there. */
const LOAD_MARGIN_MS = 10_000;

beforeAll(async () => {
  server = await startTestServer();
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
  sim = await createFleetSimulator({ deployments: Array.from({ length: 20 }, () => ({ engine: 'vllm' as const, port: 0, replicas: 10 })) });
  fleet = new Fleet({ address: server.address, namespace: server.namespace, taskQueue: `cluster-${suffix}`, deploymentName });
  fleet.startWorker('worker-1', 'A');
  fleet.startWorker('worker-2', 'A');
  gateways.push(await fleet.startGateway('api-1'), await fleet.startGateway('api-2'));
  await waitFor('build A is current', () => currentBuildId(connection.workflowService, server.namespace, deploymentName), (b) => b === 'A', 180_000);
}, 600_000);

afterAll(async () => {
  if (process.env.SERVETUNE_CLUSTER_MEASUREMENTS) writeFileSync(process.env.SERVETUNE_CLUSTER_MEASUREMENTS, JSON.stringify({ server: server?.kind, ...measurements }, null, 2));
  await fleet?.stopAll();
  await sim?.close();
  await connection?.close();
  await server?.stop();
});

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (err) {
      lastError = err; // a killed process, a service restarting: poll again
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not reached; last ${JSON.stringify(last)?.slice(0, 1000)}; last error ${(lastError as Error)?.message}\n${fleet.logs.slice(-20).join('\n')}`);
}

async function start(gateway: string, body: Record<string, unknown>): Promise<{ status: number; body: { workflow_id?: string; error?: { code: string } } }> {
  const res = await fleet.http.post(`${gateway}/api/v1/workflows`, { instance_type: 'vllm', monitoring_duration_seconds: 1, ...body });
  return { status: res.status, body: res.data };
}

async function started(gateway: string, body: Record<string, unknown>): Promise<string> {
  const res = await start(gateway, body);
  expect(res.status).toBe(201);
  return res.body.workflow_id!;
}

/** The rollout's state through either gateway (whichever answers first in turn). */
async function state(id: string): Promise<WorkflowState> {
  let lastStatus = 0;
  for (const gateway of gateways) {
    const res = await fleet.http.get(`${gateway}/api/v1/workflows/${id}`).catch(() => null);
    if (res?.status === 200) return res.data as WorkflowState;
    lastStatus = res?.status ?? 0;
  }
  throw new Error(`no gateway answered for ${id} (last status ${lastStatus})`);
}

const waitForState = (id: string, done: (s: WorkflowState) => boolean, timeoutMs?: number) => waitFor(`rollout ${id}`, () => state(id), done, timeoutMs);

/** Completed with three successful stages, and every replica of `deployment` changed exactly once, to the plan's revision. */
async function expectExact(id: string, deployment: string): Promise<WorkflowState> {
  const done = await waitForState(id, (s) => isTerminalStatus(s.status));
  expect(done.status).toBe('completed');
  expect(done.rollout_history.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  const replicas = (await fleet.http.get(`${deployment}/sim/v1/state`)).data.replicas as Array<{ revision: string; config_pushes: number }>;
  expect(replicas.map((r) => [r.revision, r.config_pushes])).toEqual(replicas.map(() => [done.optimization_plan!.revision, 1]));
  return done;
}

/** Server times (ms) at which each worker identity started one of the rollout's tasks: workflow tasks from history, activities from describe. */
async function taskStarts(id: string): Promise<Array<{ identity: string; at: number }>> {
  const handle = client.workflow.getHandle(id);
  const [history, { raw }] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const starts = (history.events ?? [])
    .filter((e) => e.workflowTaskStartedEventAttributes?.identity)
    .map((e) => ({ identity: e.workflowTaskStartedEventAttributes!.identity!, at: tsToMs(e.eventTime) }));
  for (const a of raw.pendingActivities ?? []) {
    if (a.lastWorkerIdentity && a.lastStartedTime) starts.push({ identity: a.lastWorkerIdentity, at: tsToMs(a.lastStartedTime) });
  }
  return starts;
}

test('rollouts started through both gateways all complete, every replica changed exactly once', async () => {
  const deployments = Array.from({ length: 6 }, fresh);
  const t0 = Date.now();
  const ids = await Promise.all(deployments.map((d, i) => started(gateways[i % 2], { instance_id: d })));
  for (const [i, id] of ids.entries()) await expectExact(id, deployments[i]);
  const seconds = (Date.now() - t0) / 1000;
  measurements.throughput = { rollouts: ids.length, seconds, per_minute: (ids.length * 60) / seconds, replicas_each: 10, monitoring_seconds: 1 };
});

test('the same deployment started through both gateways at once: one 201, one 409 naming the winner', async () => {
  const deployment = fresh();
  const answers = await Promise.all(gateways.map((g) => start(g, { instance_id: deployment, requires_approval: true })));
  expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
  const winner = answers.find((a) => a.status === 201)!.body.workflow_id!;
  expect(answers.find((a) => a.status === 409)!.body.error!.code).toBe('rollout_in_progress');
  await waitForState(winner, (s) => s.status === 'awaiting_approval');
  const rejected = await fleet.http.post(`${gateways[1]}/api/v1/workflows/${winner}/reject`, { rejected_by: 'admin', reason: 'cluster test' });
  expect(rejected.status).toBe(200);
  expect((await waitForState(winner, (s) => isTerminalStatus(s.status))).status).toBe('rejected');
  const replicas = (await fleet.http.get(`${deployment}/sim/v1/state`)).data.replicas as Array<{ revision: string }>;
  expect(new Set(replicas.map((r) => r.revision))).toEqual(new Set(['initial']));
});

test('a worker SIGKILLed mid-stage: the other worker takes over within the configured bound, replicas exact', async () => {
  const deployment = fresh();
  const id = await started(gateways[0], { instance_id: deployment, monitoring_duration_seconds: TAKEOVER_MONITORING_SECONDS });
  await waitForState(id, (s) => s.current_step === 'monitor_stage' && s.current_stage === '10%');
  // The worker that ran the rollout's last workflow task holds it (its sticky queue, its activities).
  const starts = await taskStarts(id);
  const holder = fleet.nameOfIdentity(starts.sort((a, b) => a.at - b.at).at(-1)!.identity);
  expect(holder).toMatch(/^worker-[12]$/);
  const survivor = holder === 'worker-1' ? 'worker-2' : 'worker-1';
  const killedAt = Date.now();
  await fleet.kill(holder!);
  // A status read sent right after the kill: the query waits for a live worker too.
  const read = state(id).then(() => Date.now() - killedAt);
  const takeover = await waitFor(
    'the surviving worker starts one of the rollout\'s tasks',
    async () => (await taskStarts(id)).filter((s) => fleet.nameOfIdentity(s.identity) === survivor && s.at >= killedAt - 1000),
    (mine) => mine.length > 0,
    TAKEOVER_BOUND_MS + 60_000,
  );
  const takeoverMs = Math.min(...takeover.map((s) => s.at)) - killedAt;
  measurements.takeover = { takeover_ms: takeoverMs, bound_ms: TAKEOVER_BOUND_MS, status_read_after_kill_ms: await read };
  expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS + LOAD_MARGIN_MS);
  await expectExact(id, deployment);
  fleet.startWorker(holder!, 'A');
});

test('a gateway SIGKILLed mid-request: the other gateway answers, and the approval takes effect once', async () => {
  const deployment = fresh();
  const id = await started(gateways[0], { instance_id: deployment, requires_approval: true });
  await waitForState(id, (s) => s.status === 'awaiting_approval');
  // The approve goes to gateway 1, which is SIGKILLed as soon as the request has been sent.
  const first = await new Promise<string>((resolve) => {
    const req = http.request(`${gateways[0]}/api/v1/workflows/${id}/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(`answered ${res.statusCode}`));
      res.on('error', () => resolve('cut off mid-answer'));
    });
    req.on('error', (err) => resolve(`failed: ${err.message}`));
    req.on('finish', () => void fleet.kill('api-1'));
    req.end(JSON.stringify({ approved_by: 'admin' }));
  });
  measurements.gateway_kill_first_request = first;
  // The client retries on the other gateway: the approval either landed before the kill (409, no longer
  // awaiting approval) or lands now (200).
  const retry = await fleet.http.post(`${gateways[1]}/api/v1/workflows/${id}/approve`, { approved_by: 'admin' });
  if (retry.status === 409) expect(retry.data.error.code).toBe('not_awaiting_approval');
  else expect(retry.status).toBe(200);
  const done = await expectExact(id, deployment);
  expect(done.approved_by).toBe('admin');
  gateways[0] = await fleet.startGateway('api-1');
});

// The dev server (SERVETUNE_TEST_CLUSTER_SERVER=dev) is one process: no history service of its own to restart.
const clusterOnly = usesDevServer() ? test.skip : test;

clusterOnly('the history service restarted mid-monitoring: the rollout finishes right', async () => {
  const deployment = fresh();
  const id = await started(gateways[1], { instance_id: deployment, monitoring_duration_seconds: 6 });
  await waitForState(id, (s) => s.current_step === 'monitor_stage' && s.current_stage === '10%');
  const t0 = Date.now();
  await server.restartHistory!();
  measurements.history_restart_ms = Date.now() - t0;
  await expectExact(id, deployment);
});

test('a rolling upgrade from build A to B: rollouts waiting for approval finish on A, new ones start on B', async () => {
  const buildA = { deploymentName, buildId: 'A' };
  const waiting = [fresh(), fresh()];
  const ids = await Promise.all(waiting.map((d, i) => started(gateways[i], { instance_id: d, requires_approval: true })));
  for (const id of ids) {
    await waitForState(id, (s) => s.status === 'awaiting_approval');
    expect(await pinning(client, id)).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'A' });
  }

  // Worker 2 is replaced by build B, which makes itself current; worker 1 (A) keeps serving A's rollouts.
  await fleet.kill('worker-2', 'SIGTERM');
  fleet.startWorker('worker-2', 'B');
  await waitFor('build B is current', () => currentBuildId(connection.workflowService, server.namespace, deploymentName), (b) => b === 'B');
  expect(await versionStatus(connection.workflowService, server.namespace, buildA)).toBe('DRAINING');

  // Approved crosswise through the gateways: each finishes on A.
  for (const [i, id] of ids.entries()) {
    expect((await fleet.http.post(`${gateways[1 - i]}/api/v1/workflows/${id}/approve`, { approved_by: 'admin' })).status).toBe(200);
  }
  for (const [i, id] of ids.entries()) {
    await expectExact(id, waiting[i]);
    expect(await workflowTaskBuilds(client, id)).toEqual(['A']);
  }

  // A new rollout starts on B.
  const later = fresh();
  const onB = await started(gateways[0], { instance_id: later });
  await expectExact(onB, later);
  expect(await pinning(client, onB)).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'B' });
  expect(await workflowTaskBuilds(client, onB)).toEqual(['B']);

  // With its rollouts closed A drains, and its last worker is replaced too.
  await waitFor('build A drained', () => versionStatus(connection.workflowService, server.namespace, buildA), (s) => s === 'DRAINED');
  await fleet.kill('worker-1', 'SIGTERM');
  fleet.startWorker('worker-1', 'B');
  const last = fresh();
  const afterUpgrade = await started(gateways[1], { instance_id: last });
  await expectExact(afterUpgrade, last);
  expect(await workflowTaskBuilds(client, afterUpgrade)).toEqual(['B']);
});
