/**
 * Decisions mean what their answers say (docs/decisions-and-audit.md): a 503 is never applied later,
 * two opposite decisions are never both accepted, the audit channel comes from the transport, and odd
 * payloads are refused (updates) or ignored (signals). Real Temporal dev server, worker and simulator.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { settleUnanswered } from '../../api/decisionOutcome';
import { ErrorBodySchema, type WorkflowState } from '../../models';
import { createFleetSimulator, type FleetSimulator } from '../../simulator/simulatedFleet';
import { approveUpdate } from '../../workflows/definitions';
import { createRolloutWorker } from '../../worker/createWorker';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { deploymentGuardId, INVALID_DECISION_ERROR, isTerminalStatus, restUpdateId } from '../../contract';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let sim: FleetSimulator;
const taskQueue = `decisions-${Date.now()}`;
let api: ReturnType<typeof supertest>;
let worker: { stop(): Promise<void> } | null = null;

async function startWorker(): Promise<{ stop(): Promise<void> }> {
  const w = await createRolloutWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle() });
  const running = w.run();
  return {
    async stop() {
      w.shutdown();
      await running;
    },
  };
}

beforeAll(async () => {
  env = await startDevServer();
  sim = await createFleetSimulator({ deployments: Array.from({ length: 7 }, () => ({ engine: 'vllm' as const, port: 0, replicas: 2 })) });
  worker = await startWorker();
  api = supertest(createApp(env.client, { taskQueue, decisionTimeoutMs: 1500 }));
});

afterAll(async () => {
  await worker?.stop();
  await sim?.close();
  await env?.teardown();
});

async function waitFor(id: string, done: (s: WorkflowState) => boolean, timeoutMs = 90_000): Promise<WorkflowState> {
  const deadline = Date.now() + timeoutMs;
  let last: WorkflowState | undefined;
  while (Date.now() < deadline) {
    const res = await api.get(`/api/v1/workflows/${id}`);
    if (res.status === 200) {
      last = res.body;
      if (done(last!)) return last!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rollout ${id} did not reach the expected state; last: ${JSON.stringify(last)?.slice(0, 1500)}`);
}

async function awaitingApproval(deployment: number): Promise<string> {
  const started = await api.post('/api/v1/workflows').send({ instance_id: sim.deployments[deployment].url, instance_type: 'vllm', requires_approval: true, monitoring_duration_seconds: 1 });
  expect(started.status).toBe(201);
  const id = started.body.workflow_id as string;
  await waitFor(id, (s) => s.status === 'awaiting_approval');
  return id;
}

const auditOf = (s: WorkflowState) => s.audit.map((a) => [a.action, a.actor, a.channel]);
const terminal = (s: WorkflowState) => isTerminalStatus(s.status);

test('approve and reject answered 503 while no worker runs are not applied when a worker returns; a later decision is', async () => {
  const id = await awaitingApproval(0);
  await worker!.stop();
  worker = null;

  const approve = await api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'alice' });
  expect([approve.status, approve.body.error?.code]).toEqual([503, 'no_worker']);
  expect(approve.body.error.message).toContain('was not applied');
  const reject = await api.post(`/api/v1/workflows/${id}/reject`).send({ rejected_by: 'bob' });
  expect([reject.status, reject.body.error?.code]).toEqual([503, 'no_worker']);

  worker = await startWorker();
  // The two updates Temporal kept are delivered now and refused: their valid_until has passed.
  const after = await waitFor(id, () => true);
  expect(after).toMatchObject({ status: 'awaiting_approval', approved: null, approved_by: null, rejected_by: null });
  // A decision made now goes through, behind the two old ones (updates are delivered in order): had
  // either old one been applied, this approve would be refused as 409.
  const approveNow = await api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'carol' });
  expect(approveNow.status).toBe(200);
  expect(approveNow.body.approved_by).toBe('carol');
  const done = await waitFor(id, terminal);
  expect(done.status).toBe('completed');
  expect(auditOf(done)).toEqual([
    ['start', 'anonymous', 'rest'],
    ['approve', 'carol', 'rest'],
  ]);
  expect(done.rollout_history.map((r) => r.status)).toEqual(done.rollout_history.map(() => 'success'));
});

test('of an approve and a reject sent together exactly one is accepted, and the 409 says what the rollout now is', async () => {
  const id = await awaitingApproval(1);
  const [approve, reject] = await Promise.all([
    api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'alice' }),
    api.post(`/api/v1/workflows/${id}/reject`).send({ rejected_by: 'bob' }),
  ]);
  expect([approve.status, reject.status].sort()).toEqual([200, 409]);
  const [winner, loser, winnerName, outcome] = approve.status === 200 ? [approve, reject, 'alice', 'approved'] : [reject, approve, 'bob', 'rejected'];
  expect(ErrorBodySchema.parse(loser.body).error.code).toBe('not_awaiting_approval');
  // Never "is awaiting_approval (await_approval), not awaiting approval".
  expect(loser.body.error.message).not.toMatch(/is awaiting_approval/);
  expect(loser.body.error.message).toMatch(new RegExp(`already ${outcome} by ${winnerName}|is (rolling_out|running|completed|rejected)`));
  const done = await waitFor(id, terminal);
  expect(done.status).toBe(outcome === 'approved' ? 'completed' : 'rejected');
  expect(auditOf(done)).toEqual([
    ['start', 'anonymous', 'rest'],
    [outcome === 'approved' ? 'approve' : 'reject', winnerName, 'rest'],
  ]);
  expect(winner.body.audit).toHaveLength(2);
});

test('a signal or an update sent straight through Temporal with "channel": "rest" is recorded as temporal', async () => {
  const id = await awaitingApproval(2);
  const handle = env.client.workflow.getHandle(id);
  await handle.signal('promote', { promoted_by: 'forger', channel: 'rest' });
  await waitFor(id, (s) => s.audit.length === 2);
  const approved = await handle.executeUpdate<WorkflowState, [unknown]>('approve', { args: [{ approved_by: 'ops', channel: 'rest' }] });
  expect(approved.approved_by).toBe('ops');
  const done = await waitFor(id, terminal);
  expect(auditOf(done)).toEqual([
    ['start', 'anonymous', 'rest'],
    ['promote', 'forger', 'temporal'],
    ['approve', 'ops', 'temporal'],
  ]);
});

test('an update with an odd or oversized payload is refused; such a signal is ignored', async () => {
  const id = await awaitingApproval(3);
  const handle = env.client.workflow.getHandle(id);
  const refusal = async (payload: unknown) => {
    const err = await handle.executeUpdate<WorkflowState, [unknown]>('approve', { args: [payload] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe(INVALID_DECISION_ERROR);
    return cause.message;
  };
  expect(await refusal({ approved_by: 'x'.repeat(201) })).toContain('approved_by: longer than 200');
  expect(await refusal({ approved_by: 'ok', comment: 'y'.repeat(100_000) })).toContain('larger than');
  expect(await refusal({ approved_by: 'ok', is_admin: true })).toContain('is_admin: unknown field');
  expect(await refusal({ approved_by: '   ' })).toContain('must not be blank');
  expect(await refusal(['approve'])).toContain('must be a JSON object');
  expect(await refusal({ approved_by: 'ok', valid_until: 'tomorrow' })).toContain('valid_until');

  // Ignored signals: the rollout keeps waiting, and the valid one after them is the decision recorded.
  await handle.signal('reject', { rejected_by: 'z'.repeat(5000) });
  await handle.signal('reject', { rejected_by: 'eve', extra: { nested: [1, 2, 3] } });
  await handle.signal('reject', { rejected_by: 'late', valid_until: '2000-01-01T00:00:00Z' });
  await handle.signal('approve', { approved_by: 'dave', comment: 'fine' });
  const done = await waitFor(id, terminal);
  expect(done.status).toBe('completed');
  expect(auditOf(done)).toEqual([
    ['start', 'anonymous', 'rest'],
    ['approve', 'dave', 'temporal'],
  ]);
  expect(done.approval_comment).toBe('fine');
});

test('GET, approve and abort on a deployment guard id answer 404, not 500', async () => {
  const id = await awaitingApproval(4);
  const guard = deploymentGuardId(sim.deployments[4].url);
  for (const res of [
    await api.get(`/api/v1/workflows/${encodeURIComponent(guard)}`),
    await api.post(`/api/v1/workflows/${encodeURIComponent(guard)}/approve`).send({}),
    await api.post(`/api/v1/workflows/${encodeURIComponent(guard)}/abort`).send({}),
  ]) {
    expect(res.status).toBe(404);
    expect(ErrorBodySchema.parse(res.body).error).toMatchObject({ code: 'not_found', message: expect.stringContaining('deploymentGuardWorkflow') });
  }
  expect((await api.post(`/api/v1/workflows/${id}/reject`).send({ rejected_by: 'cleanup' })).status).toBe(200);
});

test('a rollout cancelled in the middle of a stage ends with that stage closed, not in_progress', async () => {
  const started = await api
    .post('/api/v1/workflows')
    .send({ instance_id: sim.deployments[5].url, instance_type: 'vllm', monitoring_duration_seconds: 30, stages: [50, 100] });
  const id = started.body.workflow_id as string;
  await waitFor(id, (s) => s.current_step === 'monitor_stage');
  await env.client.workflow.getHandle(id).cancel();
  const done = await waitFor(id, terminal);
  expect(done.status).toBe('rolled_back');
  expect(done.rollout_history.length).toBeGreaterThan(0);
  for (const record of done.rollout_history) {
    expect(record.status).toBe('failed');
    expect(record.completed_at).not.toBeNull();
    expect(record.decision).toContain('Rollout cancelled');
  }
});

test('a timed-out decision is settled from the server: not taken when its deadline passed unseen, taken once a worker accepted it', async () => {
  const id = await awaitingApproval(6);
  await worker!.stop();
  worker = null;
  const handle = env.client.workflow.getHandle(id);
  const send = (updateId: string, approved_by: string, validUntil: number) =>
    env.client.connection
      .withDeadline(Date.now() + 1000, () => handle.executeUpdate(approveUpdate, { updateId, args: [{ approved_by, valid_until: new Date(validUntil).toISOString() }] }))
      .then(
        () => 'answered',
        () => 'timed out',
      );

  const lateDeadline = Date.now() + 500;
  expect(await send(restUpdateId('test-late'), 'late', lateDeadline)).toBe('timed out');
  expect(await settleUnanswered(env.client, id, restUpdateId('test-late'), lateDeadline)).toBe('not_taken');

  const laterDeadline = Date.now() + 120_000;
  expect(await send(restUpdateId('test-taken'), 'in-time', laterDeadline)).toBe('timed out');
  worker = await startWorker();
  // The worker refuses the first (its deadline has passed) and accepts the second.
  const approved = await waitFor(id, (s) => s.approved === true);
  expect(approved.approved_by).toBe('in-time');
  expect(await settleUnanswered(env.client, id, restUpdateId('test-taken'), laterDeadline)).toBe('taken');
  expect(auditOf(await waitFor(id, terminal))).toEqual([
    ['start', 'anonymous', 'rest'],
    ['approve', 'in-time', 'rest'],
  ]);
});
