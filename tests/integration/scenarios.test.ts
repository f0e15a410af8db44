/**
 * The seed plan's six scenarios, end to end over REST: a real Temporal dev server, the real worker
 * and activities, and the fleet simulator over HTTP. With RECORD_HISTORIES=1 each scenario's
 * history is written to tests/histories/<package version>/ for the replay test (never over an existing file).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import axios from 'axios';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowState } from '../../models';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { historyPathToRecord } from '../helpers/histories';
import { startDevServer } from '../helpers/temporal';
import { deploymentGuardId } from '../../contract';

jest.setTimeout(120_000);

let env: TestWorkflowEnvironment;
let stack: Stack;
let nextDeployment = 0;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 11);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

/**
 * Each scenario gets a deployment of its own, so revisions and faults never leak between them, and the
 * scenarios run at once (test.concurrent: each takes its deployment before its first await).
 */
function freshDeployment(): string {
  return stack.deployments[nextDeployment++];
}

async function startRollout(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api.post('/api/v1/workflows').send({ instance_type: 'vllm', monitoring_duration_seconds: 1, ...body });
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.workflow_id as string;
}

async function recordHistory(name: string, workflowId: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(historyPathToRecord(name), historyToJSON(history));
}

async function revisions(deployment: string): Promise<string[]> {
  return (await stack.simState(deployment)).replicas.map((r) => r.revision);
}

function expectStages(state: WorkflowState, expected: Array<[string, string]>) {
  expect(state.rollout_history.map((s) => [s.stage, s.status])).toEqual(expected);
}

test.concurrent('happy path: three successful stages, completed, with a final score', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, requires_approval: false, auto_rollout: true, health_threshold: 0.9 });
  const state = await waitForState(stack, id, isTerminal);

  expect(state.status).toBe('completed');
  expectStages(state, [['10%', 'success'], ['50%', 'success'], ['100%', 'success']]);
  expect(state.rollout_history.map((s) => s.replicas.length)).toEqual([1, 5, 10]);
  expect(state.analysis_result!.bottlenecks.length).toBeGreaterThan(0);
  expect(state.optimization_plan!.optimizations.length).toBeGreaterThan(0);
  expect(state.final_health_score).toBeGreaterThan(state.analysis_result!.overall_health_score!);
  expect(state.total_improvement).toMatch(/health score/);
  for (const stage of state.rollout_history) {
    expect(stage.health_score_after).toBeGreaterThanOrEqual(0.9 * stage.health_score_before!);
    expect(stage.samples.length).toBeGreaterThan(0);
  }
  // Each stage is judged against the stage before it.
  expect(state.rollout_history[1].health_score_before).toBe(state.rollout_history[0].health_score_after);
  const sim = await stack.simState(deployment);
  expect(new Set(sim.replicas.map((r) => r.revision))).toEqual(new Set([state.optimization_plan!.revision]));
  expect(sim.replicas.every((r) => r.config_pushes === 1)).toBe(true);
  expect(sim.replicas[0].engine_args).toMatchObject(state.optimization_plan!.engine_args);
  await recordHistory('happy-path', id);
  await recordHistory('deployment-guard', deploymentGuardId(deployment));
});

test.concurrent('approval required: waits in awaiting_approval, then approve → completed', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, requires_approval: true });
  const waiting = await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
  expect(waiting.approved).toBeNull();
  expect(waiting.optimization_plan).not.toBeNull();
  expect((await stack.simState(deployment)).replicas.every((r) => r.config_pushes === 0)).toBe(true);

  const approved = await stack.api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'admin', comment: 'looks good' });
  expect(approved.status).toBe(200);
  expect(approved.body).toMatchObject({ approved: true, approved_by: 'admin', approval_comment: 'looks good' });

  const done = await waitForState(stack, id, isTerminal);
  expect(done.status).toBe('completed');
  expectStages(done, [['10%', 'success'], ['50%', 'success'], ['100%', 'success']]);
  await recordHistory('approval-required', id);
});

test.concurrent('approval rejected: rejected, and no config is pushed', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, requires_approval: true });
  await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
  const rejected = await stack.api.post(`/api/v1/workflows/${id}/reject`).send({ rejected_by: 'sre-oncall', reason: 'freeze week' });
  expect(rejected.status).toBe(200);
  expect(rejected.body).toMatchObject({ approved: false, rejected_by: 'sre-oncall', rejection_reason: 'freeze week' });

  const done = await waitForState(stack, id, isTerminal);
  expect(done.status).toBe('rejected');
  expect(done.error_message).toBe('Rejected by sre-oncall: freeze week');
  expect(done.rollout_history).toEqual([]);
  const sim = await stack.simState(deployment);
  expect(sim.replicas.every((r) => r.config_pushes === 0 && r.revision === 'initial')).toBe(true);
  await recordHistory('approval-rejected', id);
});

test.concurrent('rollback at 10%: a bad config fails the first stage and every replica returns to its old revision', async () => {
  const deployment = freshDeployment();
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 });
  const id = await startRollout({ instance_id: deployment });
  const done = await waitForState(stack, id, isTerminal);

  expect(done.status).toBe('rolled_back');
  expectStages(done, [['10%', 'failed']]);
  const failed = done.rollout_history[0];
  const required = (0.9 * failed.health_score_before!).toFixed(1);
  expect(done.error_message).toBe(
    `Health score dropped below threshold (${failed.health_score_after!.toFixed(1)} < ${required}), rolled back changes`,
  );
  expect(await revisions(deployment)).toEqual(Array(10).fill('initial'));
  const sim = await stack.simState(deployment);
  expect(sim.replicas[0].config_pushes).toBe(2); // pushed, then rolled back
  expect(sim.replicas.slice(1).every((r) => r.config_pushes === 0)).toBe(true);
  await recordHistory('rollback-at-10', id);
});

test.concurrent('rollback at 50%: the 10% stage succeeds, the 50% stage fails, all replicas return', async () => {
  const deployment = freshDeployment();
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 });
  const id = await startRollout({ instance_id: deployment });
  const done = await waitForState(stack, id, isTerminal);

  expect(done.status).toBe('rolled_back');
  expect(done.current_stage).toBe('50%');
  expectStages(done, [['10%', 'success'], ['50%', 'failed']]);
  expect(done.error_message).toMatch(/^Health score dropped below threshold \(\d+\.\d < \d+\.\d\), rolled back changes$/);
  expect(await revisions(deployment)).toEqual(Array(10).fill('initial'));
  const pushes = (await stack.simState(deployment)).replicas.map((r) => r.config_pushes);
  expect(pushes).toEqual([2, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
  await recordHistory('rollback-at-50', id);
});

test.concurrent('complete success with default stages and thresholds', async () => {
  const deployment = freshDeployment();
  const res = await stack.api.post('/api/v1/workflows').send({ instance_id: deployment, instance_type: 'vllm', monitoring_duration_seconds: 1 });
  expect(res.body).toMatchObject({ stages: [10, 50, 100], health_threshold: 0.9, requires_approval: false, auto_rollout: true });
  const done = await waitForState(stack, res.body.workflow_id, isTerminal);
  expect(done.status).toBe('completed');
  expect(done.rollout_history.every((s) => s.status === 'success')).toBe(true);
  expect(done.error_message).toBeNull();
  await recordHistory('complete-success', res.body.workflow_id);
});

test.concurrent('approving with `temporal workflow signal` acts exactly like the REST approve', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, requires_approval: true });
  await waitForState(stack, id, (s) => s.status === 'awaiting_approval');
  await promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [
    'workflow', 'signal',
    '--address', env.address,
    '--namespace', env.namespace ?? 'default',
    '--workflow-id', id,
    '--name', 'approve',
    '--input', JSON.stringify({ approved_by: 'cli-operator', comment: 'via temporal CLI' }),
  ]);
  const approved = await waitForState(stack, id, (s) => s.approved !== null);
  expect(approved).toMatchObject({ approved: true, approved_by: 'cli-operator', approval_comment: 'via temporal CLI' });
  const done = await waitForState(stack, id, isTerminal);
  expect(done.status).toBe('completed');
  await recordHistory('approve-with-cli', id);
});

test.concurrent('a decision that does not fit: `temporal workflow signal` says it succeeded and nothing happens; `temporal workflow update execute` refuses it', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, auto_rollout: false, stages: [50, 100], require_improvement: false });
  await waitForState(stack, id, (s) => s.current_step === 'await_promotion');
  const temporal = (...args: string[]) =>
    promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [...args, '--address', env.address, '--namespace', env.namespace ?? 'default', '--workflow-id', id]);
  const input = JSON.stringify({ approved_by: 'stray' });

  // The documented commands (docs/cli.md), as an operator types them.
  const signal = await temporal('workflow', 'signal', '--name', 'approve', '--input', input);
  expect(signal.stdout).toContain('Signal workflow succeeded');
  const update = await temporal('workflow', 'update', 'execute', '--name', 'approve', '--input', input).then(
    () => null,
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  expect(update?.code).toBe(1);
  expect(`${update?.stdout}${update?.stderr}`).toContain('is rolling_out (await_promotion), not awaiting approval');

  const state = (await stack.api.get(`/api/v1/workflows/${id}`)).body as WorkflowState;
  expect(state).toMatchObject({ approved: null, approved_by: null, current_step: 'await_promotion' });
  expect(state.audit.map((a) => a.action)).toEqual(['start']);
  await env.client.workflow.getHandle(id).signal('abort', { aborted_by: 'test' });
  await waitForState(stack, id, isTerminal);
});

test.concurrent('auto_rollout false: each stage waits for a promote signal', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, auto_rollout: false, stages: [50, 100], require_improvement: false });
  const waiting = await waitForState(stack, id, (s) => s.current_step === 'await_promotion');
  expectStages(waiting, [['50%', 'success']]);
  expect(waiting.status).toBe('rolling_out');
  // A stray approve through Temporal (the REST endpoint would answer 409) is ignored by the workflow.
  await env.client.workflow.getHandle(id).signal('approve', { approved_by: 'stray' });
  await env.client.workflow.getHandle(id).signal('promote');
  const done = await waitForState(stack, id, isTerminal);
  expect(done.status).toBe('completed');
  expectStages(done, [['50%', 'success'], ['100%', 'success']]);
  expect(done).toMatchObject({ approved: null, approved_by: null });
  expect(done.audit.map((a) => a.action)).toEqual(['start', 'promote']);
  await recordHistory('promote', id);
});

test.concurrent('abort while waiting for promotion rolls back every changed replica', async () => {
  const deployment = freshDeployment();
  const id = await startRollout({ instance_id: deployment, auto_rollout: false, stages: [50, 100], require_improvement: false });
  await waitForState(stack, id, (s) => s.current_step === 'await_promotion');
  await env.client.workflow.getHandle(id).signal('abort', { aborted_by: 'oncall', reason: 'pager' });
  const done = await waitForState(stack, id, isTerminal);
  expect(done.status).toBe('rolled_back');
  expect(done.error_message).toBe('Aborted by oncall: pager, rolled back changes');
  expect(await revisions(deployment)).toEqual(Array(10).fill('initial'));
  await recordHistory('abort', id);
});

test.concurrent('canary judged worse than the replicas on the old config rolls back, even when the absolute gate would pass', async () => {
  const deployment = freshDeployment();
  // A mild regression: the absolute gate (threshold 0.3) lets it through, the canary judge does not.
  await axios.post(`${deployment}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0, severity: 0.1 });
  const id = await startRollout({ instance_id: deployment, health_threshold: 0.3, monitoring_duration_seconds: 5 });
  const done = await waitForState(stack, id, isTerminal);

  expect(done.status).toBe('rolled_back');
  const stage = done.rollout_history[0];
  expect(stage.health_score_after!).toBeGreaterThanOrEqual(0.3 * stage.health_score_before!);
  expect(done.error_message).toMatch(/^Canary worse than baseline: error_rate .*, rolled back changes$/);
  const errors = stage.canary_judgement!.decisions.find((d) => d.metric === 'error_rate')!;
  expect(errors.verdict).toBe('fail');
  expect(errors.canary_value!).toBeGreaterThan(errors.threshold!);
  expect(errors.baseline_value!).toBeLessThan(errors.threshold!);
  expect(await revisions(deployment)).toEqual(Array(10).fill('initial'));
  await recordHistory('canary-judge', id);
});
