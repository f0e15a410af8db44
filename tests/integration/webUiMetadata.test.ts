/**
 * What the Temporal Web UI shows is really recorded (docs/web-ui.md): against a real dev server, rollouts
 * started over REST carry a static summary and details, their current details (the UI's
 * `__temporal_workflow_metadata` query) tell where they stand and how they ended, their activities and
 * timers carry summaries in the history, and a deployment's guard says what it is.
 */
import axios from 'axios';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { deploymentGuardId } from '../../contract';
import { canonicalDeploymentKey } from '../../core/targetAddress';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(180_000);

/** The query the Web UI sends for a workflow's current details (answered by the SDK itself). */
const METADATA_QUERY = '__temporal_workflow_metadata';

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 2, 10, ['vllm', 'sglang']);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

async function currentDetails(workflowId: string): Promise<string> {
  const metadata = await env.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>(METADATA_QUERY);
  return metadata.currentDetails ?? '';
}

/** Polls the UI's metadata query until the details satisfy `wanted`; never a fixed sleep. */
async function waitForDetails(workflowId: string, wanted: (details: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await currentDetails(workflowId).catch(() => '');
    if (wanted(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`details of ${workflowId} never matched; last:\n${last}`);
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function summaryOf(e: HistoryEvent): string | undefined {
  const payload = e.userMetadata?.summary;
  return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
}

async function summaries(workflowId: string, kind: 'activityTaskScheduledEventAttributes' | 'timerStartedEventAttributes'): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e[kind]).map((e) => summaryOf(e) ?? '(none)');
}

async function start(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api.post('/api/v1/workflows').send(body);
  expect(res.status).toBe(201);
  return res.body.workflow_id as string;
}

// The two rollouts are on deployments of their own, so they run at once (test.concurrent).
test.concurrent('a rollout that rolls back: summary at start, details at every step, the reason up front at the end', async () => {
  const deployment = stack.deployments[1];
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 });
  const id = await start({ instance_id: deployment, instance_type: 'sglang', monitoring_duration_seconds: 3 });

  // While it monitors a stage, the details show the stage, health against the gate and the window's end.
  const monitoring = await waitForDetails(id, (d) => d.includes('monitoring window ends') && /- \*\*health\*\*: \d/.test(d));
  expect(monitoring).toMatch(/^\*\*Rolling out\*\*: monitor stage/);
  expect(monitoring).toMatch(/- \*\*stage\*\*: [12] of 3 \((10|50)%, \d+ of 10 replicas\)/);
  expect(monitoring).toMatch(/- \*\*health\*\*: \d+\.\d [≥<] gate \d+\.\d \(0\.9 × \d+\.\d\)/);
  expect(monitoring).toMatch(/- \*\*monitoring window ends\*\*: \d{4}-\d\d-\d\dT/);
  expect(monitoring).toMatch(/- \*\*planned change\*\*: `\w+`/);

  const done = await waitForState(stack, id, isTerminal, 120_000);
  expect(done.status).toBe('rolled_back');
  const details = await waitForDetails(id, (d) => d.startsWith('**Rolled back**'));
  expect(details.split('\n')[0]).toBe(`**Rolled back**: ${done.error_message}`);
  expect(details).toContain('- **last decision**: stage 50% failed: Health score dropped below threshold');

  const description = await env.client.workflow.getHandle(id).describe();
  expect(await description.staticSummary()).toBe(`rollout ${deployment} (sglang) · stages 10% → 50% → 100% · no approval, auto promote`);
  expect(await description.staticDetails()).toContain('- **monitoring window**: 3 s per stage');

  const activities = await summaries(id, 'activityTaskScheduledEventAttributes');
  expect(activities).not.toContain('(none)');
  expect(activities).toEqual(
    expect.arrayContaining([
      `discover the replicas of ${deployment}`,
      expect.stringMatching(/^push revision servetune-\S+ to replica 1 of 10 \(stage 1\/3 \(10%\)\)$/),
      expect.stringMatching(/^push revision servetune-\S+ to replicas 2–5 of 10 \(stage 2\/3 \(50%\)\)$/),
      'roll back 5 replicas to the config each had before',
      'release the leases on 5 replicas',
    ]),
  );
  const timers = await summaries(id, 'timerStartedEventAttributes');
  expect(timers).not.toContain('(none)');
  expect(timers[0]).toBe('baseline window: 3 s');
  expect(timers).toEqual(expect.arrayContaining([expect.stringMatching(/^monitoring window stage 2\/3 \(50%\): [\d.]+ s until sample \d+\/\d+$/)]));
  await axios.delete(`${deployment}/sim/v1/faults`);
});

test.concurrent('a rollout that completes, and its guard told apart', async () => {
  const deployment = stack.deployments[0];
  const id = await start({ instance_id: deployment, instance_type: 'vllm', monitoring_duration_seconds: 1, stages: [50, 100] });
  const guardId = deploymentGuardId(canonicalDeploymentKey(deployment));

  // The guard is told apart while it holds the claim.
  const guard = await env.client.workflow.getHandle(guardId).describe();
  expect(await guard.staticSummary()).toBe(`deployment guard for ${canonicalDeploymentKey(deployment)}`);
  expect(await guard.staticDetails()).toContain(`for rollout **${id}**`);
  expect(await waitForDetails(guardId, (d) => d.includes('holds the claim'))).toContain(`rollout **${id}**`);

  const done = await waitForState(stack, id, isTerminal, 120_000);
  expect(done.status).toBe('completed');
  const details = await waitForDetails(id, (d) => d.startsWith('**Completed**'));
  expect(details.split('\n')[0]).toBe(`**Completed**: ${done.total_improvement} (final health ${done.final_health_score!.toFixed(1)})`);
  expect(details).toContain('- **stage**: 2 of 2 (100%, 10 of 10 replicas) — success');
  expect(await (await env.client.workflow.getHandle(id).describe()).staticSummary()).toBe(
    `rollout ${deployment} (vllm) · stages 50% → 100% · no approval, auto promote`,
  );
  expect(await waitForDetails(guardId, (d) => d.includes('held the claim'))).toContain('the deployment is free');
});
