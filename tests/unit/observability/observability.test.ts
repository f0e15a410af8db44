/** The observability pieces without a Temporal server: SDK log forwarding, sinks, the worker's metrics endpoint. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { WorkflowInfo } from '@temporalio/workflow';
import { LogTimestamp } from '@temporalio/worker';
import pino from 'pino';
import { Registry, Counter } from 'prom-client';
import { activityChildLogger, activityLog } from '../../../activities/log';
import { createWorkerMetrics } from '../../../worker/telemetry';
import { renderMetrics, startMetricsServer } from '../../../worker/telemetryServer';
import { parseSdkLogLevel, PinoSdkLogger, renameSdkFields } from '../../../worker/sdkLogger';
import { summarize } from '../../../workflows/telemetryInterceptor';
import type { WorkflowState } from '../../../models';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: pino({ level: 'trace' }, stream) };
}

describe('PinoSdkLogger', () => {
  test('forwards workflow logs with workflow_id, run_id and workflow_type', () => {
    const { lines, log } = capture();
    new PinoSdkLogger(log).info('rollout finished', {
      sdkComponent: 'workflow',
      workflowId: 'rollout-1',
      runId: 'run-1',
      workflowType: 'rolloutWorkflow',
      taskQueue: 'q',
      namespace: 'default',
      status: 'completed',
      [LogTimestamp]: 1n,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'rollout finished', workflow_id: 'rollout-1', run_id: 'run-1', workflow_type: 'rolloutWorkflow', task_queue: 'q', namespace: 'default', sdk_component: 'workflow', status: 'completed' });
  });

  test("maps activity attributes, drops the task token, and serializes the SDK's error as err", () => {
    const { lines, log } = capture();
    new PinoSdkLogger(log).warn('Activity failed', { sdkComponent: 'worker', workflowId: 'rollout-2', workflowRunId: 'r', activityType: 'applyConfig', taskToken: 'AAAA', error: new Error('boom') });
    expect(lines[0]).toMatchObject({ level: 40, workflow_id: 'rollout-2', run_id: 'r', activity_type: 'applyConfig', err: { message: 'boom', type: 'Error' } });
    expect(lines[0]).not.toHaveProperty('taskToken');
  });

  test("drops the SDK's own messages below its level, never user code's", () => {
    const { lines, log } = capture();
    const sdk = new PinoSdkLogger(log, { sdkLevel: 'WARN' });
    sdk.info('webpack report', { sdkComponent: 'worker' });
    sdk.debug('core chatter', { sdkComponent: 'core' });
    sdk.debug('from a workflow', { sdkComponent: 'workflow' });
    sdk.trace('from an activity', { sdkComponent: 'activity' });
    sdk.error('worker error', { sdkComponent: 'worker' });
    expect(lines.map((l) => l.msg)).toEqual(['from a workflow', 'from an activity', 'worker error']);
  });

  test('parses levels and renames fields', () => {
    expect(parseSdkLogLevel('debug', 'WARN')).toBe('DEBUG');
    expect(parseSdkLogLevel('loud', 'WARN')).toBe('WARN');
    expect(parseSdkLogLevel(undefined, 'INFO')).toBe('INFO');
    expect(renameSdkFields({ failure: 'x', other: 1 })).toEqual({ err: 'x', other: 1 });
  });
});

test('activity loggers outside an activity fall back to the base logger', () => {
  const { log } = capture();
  expect(activityChildLogger(log)).toBe(log);
  expect(activityLog()).toBeDefined();
});

describe('rollout sink', () => {
  const info = {} as WorkflowInfo;
  const state = (patch: Partial<WorkflowState>): WorkflowState =>
    ({
      status: 'completed',
      instance_type: 'vllm',
      rollout_history: [
        { stage: '10%', status: 'success', started_at: '2026-01-01T00:00:00.000Z', completed_at: '2026-01-01T00:00:30.000Z' },
        { stage: '50%', status: 'failed', started_at: '2026-01-01T00:00:30.000Z', completed_at: '2026-01-01T00:02:00.000Z' },
        { stage: '100%', status: 'in_progress', started_at: '2026-01-01T00:02:00.000Z', completed_at: null },
      ],
      ...patch,
    }) as unknown as WorkflowState;

  test('summarize keeps finished stages with their durations', () => {
    expect(summarize(state({ status: 'rolled_back' }), 130)).toEqual({
      engine: 'vllm',
      outcome: 'rolled_back',
      duration_seconds: 130,
      stages: [
        { stage: '10%', status: 'success', duration_seconds: 30 },
        { stage: '50%', status: 'failed', duration_seconds: 90 },
      ],
    });
    expect(summarize(state({ status: 'rolling_out' }), 1).outcome).toBe('error');
  });

  test('the sink functions count outcomes and observe stage durations, never during replay', async () => {
    const m = createWorkerMetrics();
    expect(m.sinks.rolloutMetrics.started.callDuringReplay).toBe(false);
    expect(m.sinks.rolloutMetrics.finished.callDuringReplay).toBe(false);
    await m.sinks.rolloutMetrics.started.fn(info, 'tgi');
    await m.sinks.rolloutMetrics.finished.fn(info, summarize(state({ instance_type: 'tgi', status: 'rolled_back' }), 130));
    const text = await m.registry.metrics();
    expect(text).toContain('servetune_rollouts_started_total{engine="tgi"} 1');
    expect(text).toContain('servetune_rollouts_finished_total{engine="tgi",outcome="rolled_back"} 1');
    expect(text).toContain('servetune_rollout_stage_duration_seconds_bucket{le="30",stage="10%",status="success"} 1');
    expect(text).toContain('servetune_rollout_stage_duration_seconds_bucket{le="60",stage="50%",status="failed"} 0');
    expect(text).toContain('servetune_rollout_stage_duration_seconds_sum{stage="50%",status="failed"} 90');
    // A private registry each: prom-client's global one stays empty of servetune metrics.
    expect(await new Registry().metrics()).toBe('\n');
  });
});

describe('worker metrics endpoint', () => {
  let sdk: http.Server;
  let sdkUrl: string;
  beforeAll(async () => {
    sdk = http.createServer((_req, res) => res.end('# HELP temporal_request x\n# TYPE temporal_request counter\ntemporal_request{operation="Poll"} 7\n'));
    await new Promise<void>((r) => sdk.listen(0, '127.0.0.1', r));
    sdkUrl = `http://127.0.0.1:${(sdk.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((r) => sdk.close(() => r())));

  test("appends the SDK exporter's metrics, or says why they are missing", async () => {
    const registry = new Registry();
    new Counter({ name: 'servetune_x_total', help: 'x', registers: [registry] }).inc();
    const merged = await renderMetrics(registry, sdkUrl);
    expect(merged).toMatch(/^servetune_x_total 1$/m);
    expect(merged).toMatch(/^temporal_request\{operation="Poll"\} 7$/m);
    const down = await renderMetrics(registry, 'http://127.0.0.1:1/metrics', 500);
    expect(down).toMatch(/^# Temporal SDK metrics unavailable: /m);
    expect(await renderMetrics(registry)).toBe(await registry.metrics());
  });

  test('serves GET /metrics and nothing else', async () => {
    const registry = new Registry();
    const server = await startMetricsServer({ registry, host: '127.0.0.1', port: 0, sdkMetricsUrl: sdkUrl });
    try {
      const ok = await fetch(server.url);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('temporal_request{operation="Poll"} 7');
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  test('a busy port rejects, so the worker can carry on without metrics', async () => {
    const registry = new Registry();
    const first = await startMetricsServer({ registry, host: '127.0.0.1', port: 0 });
    const port = Number(new URL(first.url).port);
    await expect(startMetricsServer({ registry, host: '127.0.0.1', port })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});
