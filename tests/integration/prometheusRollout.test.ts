/**
 * A rollout that reads its metrics from a real Prometheus (Debian's package) scraping the simulated
 * fleet, instead of scraping the replicas itself: selected per request with `metrics_source`.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let stack: Stack;
let prometheus: RunningPrometheus;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 2, 4);
  // Prometheus scrapes the first deployment only.
  const replicas = (await stack.simState(stack.deployments[0])).replicas.map((r) => r.address);
  prometheus = await startPrometheus({ targets: replicas.map((address) => ({ address })), scrapeIntervalSeconds: 1 });
  await prometheus.waitForScrapes();
});

afterAll(async () => {
  await prometheus?.stop();
  await stack?.stop();
  await env?.teardown();
});

// The two rollouts are on deployments of their own, so they run at once (test.concurrent).
test.concurrent('a rollout whose metrics come from Prometheus completes, judged on what Prometheus scraped', async () => {
  const res = await stack.api.post('/api/v1/workflows').send({
    instance_id: stack.deployments[0],
    instance_type: 'vllm',
    // Windows span several scrape intervals, so each sample sees new data.
    monitoring_duration_seconds: 10,
    stages: [50, 100],
    metrics_source: { type: 'prometheus', url: prometheus.url },
  });
  expect(res.status).toBe(201);
  const done = await waitForState(stack, res.body.workflow_id, isTerminal, 150_000);
  expect(done.status).toBe('completed');
  expect(done.analysis_result!.metrics.request_rate).toBeGreaterThan(0);
  expect(done.analysis_result!.bottlenecks.map((b) => b.kind)).toContain('kv_cache_pressure');
  expect(done.final_health_score).toBeGreaterThan(done.analysis_result!.overall_health_score!);
});

test.concurrent('replicas Prometheus does not scrape fail the rollout, the replicas named', async () => {
  const unscraped = (await stack.simState(stack.deployments[1])).replicas.map((r) => r.address);
  const res = await stack.api.post('/api/v1/workflows').send({
    instance_id: stack.deployments[1],
    instance_type: 'vllm',
    monitoring_duration_seconds: 2,
    metrics_source: { type: 'prometheus', url: prometheus.url },
  });
  expect(res.status).toBe(201);
  const done = await waitForState(stack, res.body.workflow_id, isTerminal, 120_000);
  expect(done.status).toBe('failed');
  expect(done.error_message).toMatch(/from Prometheus/);
  expect(done.error_message).toContain(unscraped[0]);
  expect(done.rollout_history).toEqual([]);
});
