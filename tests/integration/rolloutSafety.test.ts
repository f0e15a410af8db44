/**
 * Rollbacks you can bet on (docs/rollout-safety.md): aborts are checkpoints before every push and at
 * the end of every sample, a refused push stops the stage's pushes, and cancellation or abort during a
 * push waits for the push activity to stop before rolling back. Real workflow code on a real Temporal
 * dev server; the replicas are a FakeFleet whose pushes take as long as each test needs.
 */
import { writeFileSync } from 'node:fs';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RolloutRequestSchema, type RolloutRequestInput, type WorkflowState } from '../../models';
import { abortUpdate, getStateQuery } from '../../workflows/definitions';
import { FakeFleet, Gate, OLD_REVISION } from '../helpers/fakeFleet';
import { withFakeFleetWorker } from '../helpers/fakeFleetWorker';
import { until } from '../helpers/until';
import { historyPathToRecord } from '../helpers/histories';
import { startDevServer } from '../helpers/temporal';
import { ROLLOUT_WORKFLOW_TYPE } from '../../contract';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startDevServer();
});

afterAll(async () => {
  await env?.teardown();
});

function start(taskQueue: string, fleet: FakeFleet, input: Partial<RolloutRequestInput>): Promise<WorkflowHandle> {
  return env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `safety-${Math.random().toString(36).slice(2)}`,
    args: [RolloutRequestSchema.parse({ instance_id: 'fake-deployment.invalid:8000', instance_type: 'vllm', replicas: fleet.addresses, monitoring_duration_seconds: 3, ...input })],
  });
}

/** With RECORD_HISTORIES=1, keeps the run's history in tests/histories/<package version>/ (new files only). */
async function recordHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  writeFileSync(historyPathToRecord(name), historyToJSON(await handle.fetchHistory()));
}

const state = (h: WorkflowHandle) => h.query(getStateQuery);
const abortAccepted = async (h: WorkflowHandle) => (await state(h)).audit.some((a) => a.action === 'abort');
const abort = (h: WorkflowHandle, reason: string) => h.executeUpdate(abortUpdate, { args: [{ aborted_by: 'oncall', reason }] });

// Each test has a fleet, a worker and a task queue of its own, so they run at once (test.concurrent).
test.concurrent('an abort during analysis stops the rollout before any push', async () => {
  const analysisGate = new Gate();
  const fleet = new FakeFleet({ size: 4, pushMs: 10, analysisGate });
  await withFakeFleetWorker(env, fleet, 4, async (taskQueue) => {
    const handle = await start(taskQueue, fleet, { stages: [50, 100] });
    await until(() => analysisGate.reached, 'the analysis activity');
    const answered = abort(handle, 'wrong deployment');
    await until(() => abortAccepted(handle), 'the abort to be accepted');
    analysisGate.release();

    // The update answers once the rollout acted on the abort: it has already ended.
    const answer = await answered;
    expect(answer.status).toBe('rejected');
    const final = (await handle.result()) as WorkflowState;
    expect(final.status).toBe('rejected');
    expect(final.error_message).toBe('Aborted by oncall: wrong deployment');
    expect(final.rollout_history).toEqual([]);
    expect(fleet.pushes).toEqual([]);
    await recordHistory('abort-during-analysis', handle);
  });
});

test.concurrent('an abort during the last stage\'s final sample never ends completed: the changed replicas are restored', async () => {
  // 3 s window → 3 samples; hold the 3rd sample of the 100% stage (4 of 4 replicas).
  const gate = new Gate();
  const fleet = new FakeFleet({ size: 4, pushMs: 10, sampleGate: { canaryTo: 4, sample: 3, gate } });
  await withFakeFleetWorker(env, fleet, 4, async (taskQueue) => {
    const handle = await start(taskQueue, fleet, { stages: [50, 100] });
    await until(() => gate.reached, 'the final sample of the last stage');
    expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(false);
    const answered = abort(handle, 'latency pager');
    await until(() => abortAccepted(handle), 'the abort to be accepted');
    gate.release();

    const answer = await answered;
    // The answer is the status the abort led to, once the rollback has restored the fleet.
    expect(answer.status).toBe('rolled_back');
    const final = (await handle.result()) as WorkflowState;
    expect(final.status).toBe('rolled_back');
    expect(final.error_message).toBe('Aborted by oncall: latency pager, rolled back changes');
    expect(final.rollout_history.map((s) => s.status)).toEqual(['success', 'failed']);
    expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
    await recordHistory('abort-final-sample', handle);
  });
});

test.concurrent('a refusal in a stage larger than the push concurrency: no push starts after it, every replica ends on its old revision', async () => {
  const fleet: FakeFleet = new FakeFleet({ size: 20, pushMs: 400, refuse: (address: string): boolean => address === fleet.addresses[9] });
  await withFakeFleetWorker(env, fleet, 4, async (taskQueue) => {
    const handle = await start(taskQueue, fleet, { stages: [100] });
    const final = (await handle.result()) as WorkflowState;
    expect(final.status).toBe('rolled_back');
    expect(final.error_message).toContain('HTTP 422');

    const newPushes = fleet.pushes.filter((p) => p.revision !== OLD_REVISION);
    const refusal = newPushes.find((p) => p.outcome === 'refused')!;
    expect(refusal.address).toBe(fleet.addresses[9]);
    // Nothing started after the refusal (the 20-replica stage stopped at about half).
    expect(newPushes.filter((p) => p.startedAt > refusal.endedAt!)).toEqual([]);
    expect(newPushes.length).toBeLessThan(20);
    // The pushes in flight ended before the rollback's first push: none ran on in the background.
    const rollbackStart = Math.min(...fleet.pushesOf(OLD_REVISION).map((p) => p.startedAt));
    expect(Math.max(...newPushes.map((p) => p.endedAt!))).toBeLessThanOrEqual(rollbackStart);
    expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
  });
});

test.concurrent('cancelling the workflow during a push: the push activity stops, then every changed replica is restored', async () => {
  // 12 pushes of 4 s, two at a time: 24 s of pushing, far longer than a cancellation takes to arrive
  // (the next heartbeat the SDK sends, at most 8 s apart with the 10 s heartbeat timeout).
  const fleet = new FakeFleet({ size: 12, pushMs: 4000 });
  await withFakeFleetWorker(env, fleet, 2, async (taskQueue) => {
    const handle = await start(taskQueue, fleet, { stages: [100] });
    await until(() => fleet.pushes.some((p) => p.outcome === 'applied') && fleet.pushes.some((p) => p.outcome === 'running'), 'a push in flight after one applied');
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const final = await state(handle);
    expect(final.status).toBe('rolled_back');
    expect(final.error_message).toBe('Rollout cancelled, rolled back changes');
    const newPushes = fleet.pushes.filter((p) => p.revision !== OLD_REVISION);
    expect(newPushes.length).toBeLessThan(12);
    expect(newPushes.some((p) => p.outcome === 'cancelled')).toBe(true);
    const rollbackStart = Math.min(...fleet.pushesOf(OLD_REVISION).map((p) => p.startedAt));
    expect(newPushes.every((p) => p.endedAt !== null && p.endedAt <= rollbackStart)).toBe(true);
    expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
  });
});

test.concurrent('an abort while a slow push runs takes effect in seconds: the push activity is cancelled and the fleet restored', async () => {
  const fleet = new FakeFleet({ size: 4, pushMs: 120_000 });
  await withFakeFleetWorker(env, fleet, 4, async (taskQueue) => {
    const handle = await start(taskQueue, fleet, { stages: [100] });
    await until(() => fleet.pushes.filter((p) => p.outcome === 'running').length === 4, 'four pushes in flight');
    const abortedAt = Date.now();
    const answer = await abort(handle, 'stop now');
    // The answer is the status the abort led to, once the rollback has restored the fleet.
    expect(answer.status).toBe('rolled_back');
    const final = (await handle.result()) as WorkflowState;
    const seconds = (Date.now() - abortedAt) / 1000;

    expect(final.status).toBe('rolled_back');
    expect(final.error_message).toBe('Aborted by oncall: stop now, rolled back changes');
    // Without cancellation it would have waited out the 120 s restarts.
    expect(seconds).toBeLessThan(40);
    expect(fleet.pushesOf(`servetune-${handle.workflowId}`).map((p) => p.outcome)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(fleet.everyReplicaOn(OLD_REVISION)).toBe(true);
    await recordHistory('abort-during-push', handle);
  });
});
