/**
 * A tuning run's approvals on the time-skipping server, with its real child rollouts (the real
 * workflows and activities, on the fleet simulator): with `each` every iteration's rollout waits for a
 * human and the run's state names it while, and only while, it waits; with `first` only the first
 * waits; with `none` none does; a rejection ends the run with nothing of the rejected step pushed; an
 * approval no one answers ends it after `approval_timeout_seconds`.
 *
 * The stand-in rollouts of tuningTimeSkipping.test.ts cannot prove a wait: only the real rollout
 * waits. Waits are polled without awaiting a result (the server's clock then runs at wall speed);
 * awaiting a result lets the clock skip, so an approval wait nobody answers would end timed out at
 * once: `first` and `none` runs are awaited that way to prove no later iteration waits.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { TUNING_WORKFLOW_TYPE } from '../../contract';
import { canonicalDeploymentKey } from '../../core/targetAddress';
import { TuningRequestSchema, type TuningApproval, type TuningState, type WorkflowState } from '../../models';
import { getStateQuery } from '../../workflows/definitions';
import { getTuningStateQuery, type TuningWorkflowInput } from '../../workflows/tuningDefinitions';
import { recordHistoryIfAsked } from '../helpers/histories';
import { startStack, type Stack } from '../helpers/stack';
import { startTimeSkippingServer } from '../helpers/temporal';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startTimeSkippingServer();
  stack = await startStack(env, 4, 4, ['sglang', 'sglang', 'sglang', 'sglang']);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

function start(deployment: string, approval: TuningApproval, maxIterations: number, approvalTimeoutSeconds = 86_400): Promise<WorkflowHandle> {
  const request = TuningRequestSchema.parse({
    instance_id: deployment,
    instance_type: 'sglang',
    monitoring_duration_seconds: 2,
    stages: [50, 100],
    target_health: 99.9,
    approval,
    approval_timeout_seconds: approvalTimeoutSeconds,
    budget: { max_iterations: maxIterations },
  });
  const input: TuningWorkflowInput = { request, started_by: 'test', deployment_key: canonicalDeploymentKey(deployment), known_constraints: [] };
  return env.client.workflow.start(TUNING_WORKFLOW_TYPE, { taskQueue: stack.taskQueue, workflowId: `tuning-${Math.random().toString(36).slice(2)}`, args: [input] });
}

async function poll<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not reached; last: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** The run's state once it names iteration `n`'s rollout as awaiting approval; that rollout is checked to really wait. */
async function awaitingApproval(handle: WorkflowHandle, n: number, timeoutSeconds = 86_400): Promise<TuningState> {
  const state = await poll(`iteration ${n} awaiting approval`, () => handle.query(getTuningStateQuery), (s) => s.awaiting_approval?.iteration === n || s.status === 'completed' || s.status === 'failed');
  expect(state.awaiting_approval).toMatchObject({ iteration: n, rollout_id: state.current_rollout_id });
  const rollout = await rolloutState(state.awaiting_approval!.rollout_id);
  expect([rollout.status, rollout.current_step, rollout.requires_approval]).toEqual(['awaiting_approval', 'await_approval', true]);
  // The wait precedes any push; its deadline is the rollout's approval timeout.
  const window = Date.parse(state.awaiting_approval!.until!) - Date.parse(state.awaiting_approval!.since);
  expect(window).toBeLessThanOrEqual(timeoutSeconds * 1000);
  expect(window).toBeGreaterThan((timeoutSeconds - 10) * 1000);
  const details = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(details.currentDetails).toContain(`awaiting approval: iteration ${n}, rollout ${rollout.workflow_id}`);
  return state;
}

const rolloutState = (id: string): Promise<WorkflowState> => env.client.workflow.getHandle(id).query(getStateQuery);

/** After an answer the run's state stops naming the rollout as soon as the rollout has left its wait. */
async function answered(handle: WorkflowHandle, rolloutId: string): Promise<void> {
  await poll('approval wait cleared', () => handle.query(getTuningStateQuery), (s) => s.awaiting_approval === null);
  expect((await rolloutState(rolloutId)).status).not.toBe('awaiting_approval');
}

/**
 * The run's final state, read by query: the time-skipping client's `result()` sometimes never answers
 * for a run that ended right after a decision, though the run has completed.
 */
const ended = (handle: WorkflowHandle): Promise<TuningState> => poll('run ended', () => handle.query(getTuningStateQuery), (s) => s.status === 'completed' || s.status === 'failed');

/** Replicas on the revision a rollout pushes (`servetune-<rollout id>`). */
async function replicasOn(deployment: string, rolloutId: string): Promise<number> {
  return (await stack.simState(deployment)).replicas.filter((r) => r.revision === `servetune-${rolloutId}`).length;
}

test('each: every iteration waits for its approve and goes on once approved; a rejection ends the run, the rejected step never pushed', async () => {
  const deployment = stack.deployments[0];
  const handle = await start(deployment, 'each', 3);
  const ids: string[] = [];
  for (const n of [1, 2]) {
    const waiting = await awaitingApproval(handle, n);
    const id = waiting.awaiting_approval!.rollout_id;
    ids.push(id);
    expect(await replicasOn(deployment, id)).toBe(0);
    await env.client.workflow.getHandle(id).signal('approve', { approved_by: 'oncall', comment: `step ${n}` });
    await answered(handle, id);
  }
  const third = (await awaitingApproval(handle, 3)).awaiting_approval!.rollout_id;
  await env.client.workflow.getHandle(third).signal('reject', { rejected_by: 'oncall', reason: 'change freeze' });
  const done = await ended(handle);

  expect([done.status, done.stop_reason, done.awaiting_approval]).toEqual(['completed', 'rejected', null]);
  // Its last run (the rejected iteration, and the end it led to) and that rollout are replayed by every later build.
  await recordHistoryIfAsked(env.client, 'tuning-run-rejected', handle.workflowId);
  await recordHistoryIfAsked(env.client, 'tuning-rejected-iteration-rollout', third);
  expect(done.decision_log.map((e) => e.rollout_id)).toEqual([...ids, third]);
  for (const id of ids) {
    const approved = await rolloutState(id);
    expect(approved).toMatchObject({ requires_approval: true, approved: true, approved_by: 'oncall' });
    expect(['completed', 'rolled_back']).toContain(approved.status);
  }
  const rejected = done.decision_log[2];
  expect(rejected).toMatchObject({ verdict: 'rejected', restarts: 0, message: 'Rejected by oncall: change freeze' });
  // Remembered as a constraint: a later run of the deployment never proposes it again.
  expect(done.constraints.map((c) => c.why)).toContainEqual(expect.stringContaining(`rejected in ${third}`));
  expect(await replicasOn(deployment, third)).toBe(0);
  // Every replica runs what the run kept: the approved steps' reverted changes were restored.
  const tuned = [...new Set(done.decision_log.flatMap((e) => e.changes.map((c) => c.flag)))];
  for (const replica of (await stack.simState(deployment)).replicas) {
    expect(Object.fromEntries(tuned.map((f) => [f, replica.engine_args[f]]))).toEqual(Object.fromEntries(tuned.map((f) => [f, done.current_args![f]])));
  }
});

test('first: iteration 1 waits, iteration 2 does not', async () => {
  const handle = await start(stack.deployments[1], 'first', 2);
  const first = (await awaitingApproval(handle, 1)).awaiting_approval!.rollout_id;
  await env.client.workflow.getHandle(first).signal('approve', { approved_by: 'oncall' });
  await answered(handle, first);
  // Awaiting the result lets the clock skip: an iteration that waited would end timed out.
  const done = (await handle.result()) as TuningState;
  expect([done.status, done.stop_reason]).toEqual(['completed', 'budget_iterations']);
  expect(done.decision_log).toHaveLength(2);
  expect(done.decision_log.map((e) => e.verdict)).not.toContain('approval_timeout');
  const [one, two] = await Promise.all(done.decision_log.map((e) => rolloutState(e.rollout_id)));
  expect([one.requires_approval, one.approved_by]).toEqual([true, 'oncall']);
  expect([two.requires_approval, two.approved, two.audit.map((a) => a.action)]).toEqual([false, null, ['start']]);
});

test('none: no iteration waits', async () => {
  const done = (await (await start(stack.deployments[2], 'none', 2)).result()) as TuningState;
  expect([done.status, done.stop_reason]).toEqual(['completed', 'budget_iterations']);
  const rollouts = await Promise.all(done.decision_log.map((e) => rolloutState(e.rollout_id)));
  expect(rollouts.map((r) => [r.requires_approval, r.approved, r.audit.map((a) => a.action)])).toEqual([
    [false, null, ['start']],
    [false, null, ['start']],
  ]);
});

test('an approval no one answers ends the run after approval_timeout_seconds; nothing pushed, nothing remembered against the step', async () => {
  const deployment = stack.deployments[3];
  // A short timeout, on the clock at wall speed: the time-skipping client's sleep does not come back here.
  const handle = await start(deployment, 'first', 3, 15);
  const waiting = await awaitingApproval(handle, 1, 15);
  const done = await ended(handle);
  expect([done.status, done.stop_reason, done.iterations]).toEqual(['completed', 'approval_timeout', 1]);
  expect(done.decision_log[0]).toMatchObject({ rollout_id: waiting.awaiting_approval!.rollout_id, verdict: 'approval_timeout', restarts: 0, message: 'Approval timed out after 15s' });
  // No one judged the step: it is not a constraint, a later run may propose it again.
  expect(done.constraints).toEqual([]);
  expect(await replicasOn(deployment, waiting.awaiting_approval!.rollout_id)).toBe(0);
  expect((await stack.simState(deployment)).replicas.every((r) => r.revision === 'initial')).toBe(true);
  expect(Date.parse(done.updated_at) - Date.parse(waiting.awaiting_approval!.since)).toBeGreaterThanOrEqual(14_000);
});
