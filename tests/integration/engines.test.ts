/**
 * One rollout per engine on its simulated deployment, under that deployment's default load — a load
 * its default args serve badly. The planner reads the engine's own metrics and flags, the rollout
 * completes, and the fleet ends healthier than it started.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EngineType } from '../../models';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(120_000);

const ENGINES: EngineType[] = ['vllm', 'tgi', 'sglang'];
let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, ENGINES.length, 10, ENGINES);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

// TGI exposes no time-to-first-token metric, so its queueing shows in end-to-end latency; the request
// sets that SLO to what its users would expect of an 8k-prompt service.
const SLO: Partial<Record<EngineType, Record<string, number>>> = { tgi: { e2e_p95_ms: 8000 } };

// Each engine has a deployment of its own: the three rollouts run at once (jest's test.concurrent).
test.concurrent.each(ENGINES.map((engine, i) => [engine, i] as const))('%s: the planner\'s change raises the health score', async (engine, i) => {
  const deployment = stack.deployments[i];
  const res = await stack.api
    .post('/api/v1/workflows')
    .send({ instance_id: deployment, instance_type: engine, monitoring_duration_seconds: 2, ...(SLO[engine] ? { slo: SLO[engine] } : {}) });
  expect(res.status).toBe(201);
  const done = await waitForState(stack, res.body.workflow_id, isTerminal);

  expect(done.status).toBe('completed');
  // Kept because the changed replicas were better than those on the old config (docs/rollout-and-gates.md).
  expect(done.improvement).toMatchObject({ required: true, verdict: 'better', comparison: 'baseline_replicas' });
  expect(done.rollout_history.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  const before = done.analysis_result!.overall_health_score!;
  expect(done.final_health_score).toBeGreaterThan(before);
  expect(done.analysis_result!.bottlenecks.length).toBeGreaterThan(0);
  const plan = done.optimization_plan!;
  expect(plan.optimizations.length).toBeGreaterThan(0);
  const sim = await stack.simState(deployment);
  for (const replica of sim.replicas) {
    expect(replica.revision).toBe(plan.revision);
    expect(replica.engine_args).toMatchObject(Object.fromEntries(plan.optimizations.map((o) => [o.parameter, o.proposed])));
  }
  console.log(`${engine}: ${before} → ${done.final_health_score}; ${plan.optimizations.map((o) => `${o.parameter} ${o.current} → ${o.proposed}`).join(', ')}`);
});
