/**
 * A change that does not help is not kept (docs/rollout-and-gates.md, "Improvement check"): after the
 * last stage the changed replicas are judged "better" or not against the old config on the metrics the
 * plan targeted. Time-skipping server; the replicas are a FakeFleet whose new config helps or does not.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RolloutRequestSchema, WorkflowStateSchema, type RolloutRequestInput, type WorkflowState } from '../../models';
import { FakeFleet, OLD_REVISION } from '../helpers/fakeFleet';
import { withFakeFleetWorker } from '../helpers/fakeFleetWorker';
import { startTimeSkippingServer } from '../helpers/temporal';
import { ROLLOUT_WORKFLOW_TYPE } from '../../contract';

jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingServer();
});

afterAll(async () => {
  await env?.teardown();
});

function rollout(fleet: FakeFleet, request: Partial<RolloutRequestInput>): Promise<WorkflowState> {
  return withFakeFleetWorker(env, fleet, 4, async (taskQueue) => {
    const input = RolloutRequestSchema.parse({ instance_id: 'fake-deployment.invalid:8000', instance_type: 'vllm', monitoring_duration_seconds: 60, ...request, replicas: fleet.addresses });
    const handle = await env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, { taskQueue, workflowId: `improve-${Math.random().toString(36).slice(2)}`, args: [input] });
    return WorkflowStateSchema.parse(await handle.result());
  });
}

const newRevision = (state: WorkflowState) => state.optimization_plan!.revision;

test('a change that does not improve what the plan targeted is rolled back, every changed replica restored, and the message says why', async () => {
  const fleet = new FakeFleet({ size: 4, pushMs: 10, changeHelps: false });
  const state = await rollout(fleet, {});
  expect(state.status).toBe('rolled_back');
  // Judged after the 50% stage, the last with replicas on the old config: the 100% stage never pushes.
  expect(state.rollout_history.map((s) => [s.stage, s.status])).toEqual([['10%', 'success'], ['50%', 'success']]);
  expect(fleet.pushesOf(newRevision(state))).toHaveLength(2);
  expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
  expect(state.error_message).toMatch(/^Change not kept: The change did not improve ttft_p95_ms, e2e_p95_ms against the replicas still on the old config: .*rolled back changes$/);
  expect(state.improvement).toMatchObject({ required: true, verdict: 'not_better', comparison: 'baseline_replicas', stage: '50%' });
  expect(state.improvement!.metrics.map((m) => [m.metric, m.role])).toEqual([['ttft_p95_ms', 'targeted'], ['e2e_p95_ms', 'targeted']]);
});

test('the same change with require_improvement: false is kept: completed, and the verdict is still recorded', async () => {
  const fleet = new FakeFleet({ size: 4, pushMs: 10, changeHelps: false });
  const state = await rollout(fleet, { require_improvement: false });
  expect(state.status).toBe('completed');
  expect(state.rollout_history.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  expect(fleet.everyReplicaOn(newRevision(state))).toBe(true);
  expect(state.improvement).toMatchObject({ required: false, verdict: 'not_better', comparison: 'baseline_replicas', stage: '50%' });
});

test('a change that helps is kept, judged against the replicas still on the old config', async () => {
  const fleet = new FakeFleet({ size: 4, pushMs: 10 });
  const state = await rollout(fleet, {});
  expect(state.status).toBe('completed');
  expect(fleet.everyReplicaOn(newRevision(state))).toBe(true);
  expect(state.improvement).toMatchObject({ required: true, verdict: 'better', comparison: 'baseline_replicas', stage: '50%' });
  expect(state.improvement!.metrics[0].p_value).toBeLessThan(0.05);
});

test('one 100% stage has no old-config replicas: judged against the window before the change, both ways', async () => {
  const helps = await rollout(new FakeFleet({ size: 4, pushMs: 10 }), { stages: [100] });
  expect(helps.status).toBe('completed');
  expect(helps.improvement).toMatchObject({ verdict: 'better', comparison: 'pre_change_window', stage: '100%' });
  expect(helps.improvement!.metrics[0].baseline_value).toBe(helps.analysis_result!.metrics.ttft_p95_ms);

  const fleet = new FakeFleet({ size: 4, pushMs: 10, changeHelps: false });
  const same = await rollout(fleet, { stages: [100] });
  expect(same.status).toBe('rolled_back');
  expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
  expect(same.error_message).toContain('did not improve ttft_p95_ms, e2e_p95_ms against the window measured before the change');
  expect(same.improvement).toMatchObject({ verdict: 'not_better', comparison: 'pre_change_window' });
});
