/**
 * Observability end to end on a real dev server: rollouts that complete, are rejected and roll back,
 * then the worker's /metrics (rollout outcomes, stage durations, activity latencies and failures, the
 * Temporal SDK's own metrics), the gateway's /metrics, and the JSON log lines, each of which that
 * concerns a rollout carrying its workflow_id.
 */
import { Writable } from 'node:stream';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import axios from 'axios';
import pino from 'pino';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { createGatewayMetrics } from '../../api/telemetry';
import { createFleetSimulator, type FleetSimulator } from '../../simulator/simulatedFleet';
import { createRolloutWorker } from '../../worker/createWorker';
import { createWorkerMetrics } from '../../worker/telemetry';
import { startMetricsServer, type MetricsServer } from '../../worker/telemetryServer';
import { PinoSdkLogger } from '../../worker/sdkLogger';
import type { WorkflowState } from '../../models';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { freePort } from '../../scripts/processes';
import { isTerminalStatus } from '../../contract';

jest.setTimeout(180_000);

type Line = Record<string, unknown> & { msg: string };
const lines: Line[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
    done();
  },
});
const log = pino({ level: 'debug', base: { service: 'test' } }, sink);

let env: TestWorkflowEnvironment;
let sim: FleetSimulator;
let api: ReturnType<typeof supertest>;
let workerMetricsServer: MetricsServer;
let stopWorker: () => Promise<void>;
let sdkMetrics = false;
let openAwaitingApproval: number | undefined;
const ids: Record<'completed' | 'rejected' | 'rolled_back', string> = { completed: '', rejected: '', rolled_back: '' };

/** One metric sample's value from exposition text (labels given in the order prom-client prints them). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitTerminal(id: string): Promise<WorkflowState> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await api.get(`/api/v1/workflows/${id}`);
    if (res.status === 200 && isTerminalStatus(res.body.status)) return res.body as WorkflowState;
    if (Date.now() > deadline) throw new Error(`rollout ${id} did not end: ${JSON.stringify(res.body).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  // Installed before startDevServer, whose quiet runtime then stays out: SDK metrics on and SDK logs into pino.
  const sdkPort = await freePort();
  try {
    Runtime.install({
      logger: new PinoSdkLogger(log, { sdkLevel: 'WARN' }),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, useSecondsForDurations: true } } },
    });
    sdkMetrics = true;
  } catch {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  }
  env = await startDevServer();
  sim = await createFleetSimulator({ deployments: [0, 1, 2].map(() => ({ engine: 'vllm' as const, port: 0, replicas: 4 })) });
  const taskQueue = `obs-${Math.random().toString(36).slice(2)}`;
  const metrics = createWorkerMetrics({ logger: log, processMetrics: true });
  const worker = await createRolloutWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle(), metrics });
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
  };
  workerMetricsServer = await startMetricsServer({
    registry: metrics.registry,
    host: '127.0.0.1',
    port: 0,
    sdkMetricsUrl: sdkMetrics ? `http://127.0.0.1:${sdkPort}/metrics` : undefined,
  });
  const gateway = createGatewayMetrics({ client: env.client, logger: log, processMetrics: true, visibilityCacheMs: 0 });
  api = supertest(createApp(env.client, { taskQueue, metrics: gateway }));

  const [good, rejected, bad] = sim.deployments.map((d) => d.url);
  // The 10% stage of `bad` goes bad at once: rolled back after its first stage.
  await axios.post(`${bad}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 });
  const start = async (instance_id: string, extra: Record<string, unknown> = {}) => {
    const res = await api.post('/api/v1/workflows').send({ instance_id, instance_type: 'vllm', monitoring_duration_seconds: 1, ...extra });
    expect(res.status).toBe(201);
    return res.body.workflow_id as string;
  };
  [ids.completed, ids.rejected, ids.rolled_back] = await Promise.all([start(good), start(rejected, { requires_approval: true }), start(bad)]);
  const deadline = Date.now() + 60_000;
  while ((await api.get(`/api/v1/workflows/${ids.rejected}`)).body.status !== 'awaiting_approval') {
    if (Date.now() > deadline) throw new Error('never awaited approval');
    await new Promise((r) => setTimeout(r, 200));
  }
  // Visibility sees the rollout waiting for approval (the gateway counts open rollouts per status).
  const seen = Date.now() + 10_000;
  while (Date.now() < seen && sample((await api.get('/metrics')).text, 'servetune_rollouts_open{status="awaiting_approval"}') !== 1) {
    await new Promise((r) => setTimeout(r, 200));
  }
  openAwaitingApproval = sample((await api.get('/metrics')).text, 'servetune_rollouts_open{status="awaiting_approval"}');
  expect((await api.post(`/api/v1/workflows/${ids.rejected}/reject`).send({ rejected_by: 'obs-test', reason: 'metrics' })).status).toBe(200);
  const states = await Promise.all(Object.values(ids).map(waitTerminal));
  expect(states.map((s) => s.status)).toEqual(['completed', 'rejected', 'rolled_back']);
  // Sink calls reach the worker after the workflow task completes; the last gateway poll may beat them
  // (for any of the three rollouts, on a loaded machine).
  const finishedCounted = (text: string) =>
    ['completed', 'rejected', 'rolled_back'].every((outcome) => sample(text, `servetune_rollouts_finished_total{engine="vllm",outcome="${outcome}"}`) === 1);
  const until = Date.now() + 10_000;
  while (Date.now() < until && !finishedCounted(await (await fetch(workerMetricsServer.url)).text())) {
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await stopWorker?.();
  await workerMetricsServer?.close();
  await sim?.close();
  await env?.teardown();
});

test('worker /metrics counts rollouts by outcome, with stage durations and rollout durations', async () => {
  const res = await fetch(workerMetricsServer.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  expect(sample(text, 'servetune_rollouts_started_total{engine="vllm"}')).toBe(3);
  for (const outcome of ['completed', 'rejected', 'rolled_back']) {
    expect(sample(text, `servetune_rollouts_finished_total{engine="vllm",outcome="${outcome}"}`)).toBe(1);
    expect(sample(text, `servetune_rollout_duration_seconds_count{engine="vllm",outcome="${outcome}"}`)).toBe(1);
  }
  // completed: three successful stages; rolled back: its 10% stage failed.
  expect(sample(text, 'servetune_rollout_stage_duration_seconds_count{stage="10%",status="success"}')).toBe(1);
  expect(sample(text, 'servetune_rollout_stage_duration_seconds_count{stage="100%",status="success"}')).toBe(1);
  expect(sample(text, 'servetune_rollout_stage_duration_seconds_count{stage="10%",status="failed"}')).toBe(1);
  // A stage of a 1 s window lasts at least that long.
  expect(sample(text, 'servetune_rollout_stage_duration_seconds_bucket{le="1",stage="100%",status="success"}')).toBe(0);
});

test('worker /metrics has activity latencies by type, process metrics and the Temporal SDK metrics', async () => {
  const text = await (await fetch(workerMetricsServer.url)).text();
  expect(sample(text, 'servetune_activity_duration_seconds_count{activity_type="applyConfig",result="success"}')).toBe(4); // 3 stages + 1
  expect(sample(text, 'servetune_activity_duration_seconds_count{activity_type="rollbackReplicas",result="success"}')).toBe(1);
  expect(sample(text, 'servetune_activity_duration_seconds_count{activity_type="discoverReplicas",result="success"}')).toBe(3);
  expect(text).toMatch(/^servetune_activities_running\{activity_type="measureStage"\} 0$/m);
  expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  if (sdkMetrics) {
    expect(text).toMatch(/^temporal_workflow_completed\{.*workflow_type="rolloutWorkflow".*\} 3$/m);
    expect(text).toMatch(/^temporal_activity_execution_latency_(count|bucket)\{.*activity_type="applyConfig"/m);
    // The SDK metrics the Grafana dashboard charts (task failures appear only after a failure).
    for (const name of ['temporal_workflow_task_schedule_to_start_latency_bucket', 'temporal_activity_schedule_to_start_latency_bucket', 'temporal_sticky_cache_size']) {
      expect(text).toMatch(new RegExp(`^${name}\\{`, 'm'));
    }
  }
});

test('activity failures are counted by activity type and error type', async () => {
  // A replica that refuses connections: discovery succeeds (replicas given), reading its config fails.
  const port = await freePort();
  const res = await api.post('/api/v1/workflows').send({ instance_id: `127.0.0.1:${port}`, instance_type: 'vllm', replicas: [`127.0.0.1:${port}`], monitoring_duration_seconds: 1 });
  expect(res.status).toBe(201);
  const until = Date.now() + 30_000;
  let failures: number | undefined;
  while (Date.now() < until && !(failures && failures > 0)) {
    failures = sample(await (await fetch(workerMetricsServer.url)).text(), 'servetune_activity_failures_total{activity_type="readReplicaConfigs",error_type="Error"}');
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(failures).toBeGreaterThan(0);
  await env.client.workflow.getHandle(res.body.workflow_id).terminate('test over');
});

test('gateway /metrics has requests by route and status, rollouts started, open rollouts and process metrics', async () => {
  await api.get('/api/v1/workflows/rollout-does-not-exist');
  await api.get('/nowhere');
  const res = await api.get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  let text = res.text;
  expect(sample(text, 'servetune_gateway_rollouts_started_total{engine="vllm"}')).toBeGreaterThanOrEqual(3);
  expect(sample(text, 'servetune_http_requests_total{method="POST",route="/api/v1/workflows",status="201"}')).toBeGreaterThanOrEqual(3);
  expect(sample(text, 'servetune_http_requests_total{method="POST",route="/api/v1/workflows/:id/reject",status="200"}')).toBe(1);
  expect(sample(text, 'servetune_http_requests_total{method="GET",route="/api/v1/workflows/:id",status="404"}')).toBe(1);
  expect(sample(text, 'servetune_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
  expect(sample(text, 'servetune_gateway_rollout_actions_total{action="reject",status="200"}')).toBe(1);
  expect(text).toMatch(/^servetune_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/v1\/workflows\/:id",status="200"\} \d+$/m);
  expect(sample(text, 'servetune_visibility_up')).toBe(1);
  expect(openAwaitingApproval).toBe(1);
  // After the 1 s cache, the rollouts that ended are gone (the failing one was terminated).
  await new Promise((r) => setTimeout(r, 1_100));
  text = (await api.get('/metrics')).text;
  for (const status of ['pending', 'running', 'awaiting_approval', 'rolling_out']) expect(sample(text, `servetune_rollouts_open{status="${status}"}`)).toBe(0);
  expect(text).toMatch(/^process_resident_memory_bytes /m);
});

test('every log line about a rollout carries its workflow_id', async () => {
  const about = (id: string) => lines.filter((l) => l.workflow_id === id);
  // Activities: a child logger with workflow_id, activity type and attempt.
  const applied = about(ids.completed).filter((l) => l.msg === 'config applied');
  expect(applied).toHaveLength(3);
  expect(applied[0]).toMatchObject({ activity_type: 'applyConfig', attempt: 1, run_id: expect.any(String), service: 'test' });
  expect(about(ids.rolled_back).map((l) => l.msg)).toEqual(expect.arrayContaining(['rolling back replicas', 'replicas rolled back', 'stage measured']));
  // Gateway: the start (id from the answer), the reject (id from the route) and the reads.
  expect(about(ids.rejected).filter((l) => l.route).map((l) => `${l.method} ${l.route} ${l.status}`)).toEqual(
    expect.arrayContaining(['POST /api/v1/workflows 201', 'POST /api/v1/workflows/:id/reject 200', 'GET /api/v1/workflows/:id 200']),
  );
  // Workflow code, through the SDK's Runtime logger forwarded to pino.
  if (sdkMetrics) {
    expect(about(ids.rolled_back).find((l) => l.msg === 'rollout finished')).toMatchObject({ status: 'rolled_back', workflow_type: 'rolloutWorkflow', sdk_component: 'workflow' });
  }
  // Nothing that names a rollout id in its message lacks the field.
  const ids_ = Object.values(ids);
  const stray = lines.filter((l) => ids_.some((id) => JSON.stringify(l).includes(id)) && !l.workflow_id);
  expect(stray).toEqual([]);
});
