/**
 * Nothing is lost when a process dies. The dev server, simulator, worker and gateway run as separate
 * processes; each test kills one (SIGKILL, no chance to clean up) at a chosen point of a rollout,
 * starts it again, and checks that the rollout ends exactly as it would have without the kill —
 * including every replica's revision and how many times its config really changed.
 */
import type { SimState, WorkflowState } from '../../models';
import { ProcessStack } from '../helpers/processes';
import { externalTemporal } from '../helpers/temporal';
import { isTerminalStatus } from '../../contract';

jest.setTimeout(240_000);

// Engine restarts take time on real replicas; here a config push takes 1.5 s to "restart" the engine,
// which leaves room to kill the worker while pushes are in flight.
// Most of each test is waiting (rollout timers, Temporal noticing a dead worker), so two stacks run the
// tests two at a time: each test has a stack to itself for as long as it runs.
const stacks = [0, 1].map(() => new ProcessStack({ SIM_APPLY_DELAY_MS: '1500' }));
const idle: ProcessStack[] = [];
const queued: Array<(stack: ProcessStack) => void> = [];

beforeAll(async () => {
  await Promise.all(stacks.map((s) => s.startAll()));
  idle.push(...stacks);
});

afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stopAll()));
});

/**
 * Runs `body` on a stack no other test is using (waiting for one), with a fresh simulator: untouched
 * replicas, no faults. A failure prints the stack's last log lines.
 */
async function onStack(body: (stack: ProcessStack) => Promise<void>): Promise<void> {
  const stack = idle.pop() ?? (await new Promise<ProcessStack>((resolve) => queued.push(resolve)));
  try {
    await stack.kill('sim');
    await stack.start('sim');
    await body(stack);
  } catch (err) {
    console.log(stack.logs.slice(-60).join('\n'));
    throw err;
  } finally {
    const next = queued.shift();
    if (next) next(stack);
    else idle.push(stack);
  }
}

async function startRollout(stack: ProcessStack, body: Record<string, unknown>): Promise<string> {
  const res = await stack.api.post(`${stack.apiUrl}/api/v1/workflows`, { instance_id: stack.vllmUrl, instance_type: 'vllm', ...body });
  expect(res.status).toBe(201);
  return res.data.workflow_id;
}

async function waitFor(stack: ProcessStack, id: string, done: (s: WorkflowState) => boolean, timeoutMs = 120_000): Promise<WorkflowState> {
  const deadline = Date.now() + timeoutMs;
  let last: WorkflowState | undefined;
  while (Date.now() < deadline) {
    const res = await stack.api.get(`${stack.apiUrl}/api/v1/workflows/${id}`).catch(() => null);
    // While the worker is down GET answers the last summary (`live: false`); wait for the live state.
    if (res?.status === 200 && res.data.live !== false) {
      last = res.data;
      if (done(last!)) return last!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out; last state ${JSON.stringify(last)?.slice(0, 1500)}`);
}

const terminal = (s: WorkflowState) => isTerminalStatus(s.status);

async function simState(stack: ProcessStack): Promise<SimState> {
  return (await stack.api.get(`${stack.vllmUrl}/sim/v1/state`)).data;
}

async function killAndRestartWorker(stack: ProcessStack, pauseMs = 500): Promise<void> {
  await stack.kill('worker');
  await new Promise((r) => setTimeout(r, pauseMs));
  await stack.start('worker');
}

async function expectCompletedOnNewRevision(stack: ProcessStack, id: string): Promise<void> {
  const done = await waitFor(stack, id, terminal);
  expect(done.status).toBe('completed');
  expect(done.rollout_history.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  const sim = await simState(stack);
  // Every replica changed exactly once: a retried push of the same revision is a no-op.
  expect(sim.replicas.map((r) => [r.revision, r.config_pushes])).toEqual(sim.replicas.map(() => [done.optimization_plan!.revision, 1]));
}

test.concurrent('worker killed while collecting metrics', () =>
  onStack(async (stack) => {
    const id = await startRollout(stack, { monitoring_duration_seconds: 3 });
    await waitFor(stack, id, (s) => s.current_step === 'collect_metrics' && s.replicas.length > 0);
    await killAndRestartWorker(stack);
    await expectCompletedOnNewRevision(stack, id);
  }));

test.concurrent('worker killed while a stage is being applied', () =>
  onStack(async (stack) => {
    const id = await startRollout(stack, { monitoring_duration_seconds: 1 });
    await waitFor(stack, id, (s) => s.current_step === 'rollout_stage' && s.current_stage === '50%');
    await killAndRestartWorker(stack);
    await expectCompletedOnNewRevision(stack, id);
  }));

test.concurrent('worker killed during a monitoring window', () =>
  onStack(async (stack) => {
    const id = await startRollout(stack, { monitoring_duration_seconds: 4 });
    await waitFor(stack, id, (s) => s.current_step === 'monitor_stage' && s.current_stage === '10%');
    await killAndRestartWorker(stack, 1000);
    await expectCompletedOnNewRevision(stack, id);
  }));

test.concurrent('worker killed while awaiting approval, and approved while it is down', () =>
  onStack(async (stack) => {
    const id = await startRollout(stack, { monitoring_duration_seconds: 1, requires_approval: true });
    await waitFor(stack, id, (s) => s.status === 'awaiting_approval');
    await stack.kill('worker');
    // The approve is sent while no worker runs: Temporal holds the update until a worker takes it.
    const approving = stack.api.post(`${stack.apiUrl}/api/v1/workflows/${id}/approve`, { approved_by: 'while-down' });
    await new Promise((r) => setTimeout(r, 1500));
    await stack.start('worker');
    const approved = await approving;
    expect(approved.status).toBe(200);
    expect(approved.data).toMatchObject({ approved: true, approved_by: 'while-down', status: 'rolling_out' });
    await expectCompletedOnNewRevision(stack, id);
  }));

test.concurrent('worker killed while rolling back', () =>
  onStack(async (stack) => {
    await stack.api.post(`${stack.vllmUrl}/sim/v1/faults`, { kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 });
    const id = await startRollout(stack, { monitoring_duration_seconds: 1 });
    await waitFor(stack, id, (s) => s.current_step === 'rollback');
    await killAndRestartWorker(stack);
    const done = await waitFor(stack, id, terminal);
    expect(done.status).toBe('rolled_back');
    expect(done.error_message).toMatch(/Health score dropped below threshold/);
    const sim = await simState(stack);
    expect(sim.replicas.map((r) => r.revision)).toEqual(Array(10).fill('initial'));
    expect(sim.replicas.map((r) => r.config_pushes)).toEqual([2, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
  }));

// Against an external server (SERVETUNE_TEST_TEMPORAL_ADDRESS) this stack cannot restart it; the
// production-shape suite restarts the cluster's history service instead (tests/cluster/).
const ownServerOnly = externalTemporal() ? test.concurrent.skip : test.concurrent;

ownServerOnly('Temporal dev server restarted mid-rollout (same database file)', () =>
  onStack(async (stack) => {
    const id = await startRollout(stack, { monitoring_duration_seconds: 4 });
    await waitFor(stack, id, (s) => s.current_step === 'monitor_stage' && s.current_stage === '10%');
    await stack.kill('temporal', 'SIGTERM');
    await stack.start('temporal');
    await expectCompletedOnNewRevision(stack, id);
  }));

test.concurrent('gateway restarted mid-rollout: it holds no state, so nothing is lost', () =>
  onStack(async (stack) => {
    const id = await startRollout(stack, { monitoring_duration_seconds: 2 });
    await waitFor(stack, id, (s) => s.status === 'rolling_out');
    await stack.kill('api');
    await stack.start('api');
    await expectCompletedOnNewRevision(stack, id);
  }));
