/**
 * A tuning run survives its worker dying mid-iteration: the worker is killed (SIGKILL) while an
 * iteration's rollout is pushing its first stage, a new worker takes over, and the run finishes all its
 * iterations with the fleet on the configuration it kept.
 */
import type { SimState, TuningState, WorkflowState } from '../../models';
import { ProcessStack } from '../helpers/processes';

jest.setTimeout(300_000);

// A config push takes 1.5 s to "restart" the engine, which leaves room to kill the worker mid-push.
const stack = new ProcessStack({ SIM_APPLY_DELAY_MS: '1500' });

beforeAll(async () => {
  await stack.startAll();
});

afterAll(async () => {
  await stack.stopAll();
});

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) console.log(stack.logs.slice(-60).join('\n'));
});

async function poll<T>(path: string, done: (v: T) => boolean, timeoutMs = 200_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    const res = await stack.api.get(`${stack.apiUrl}${path}`).catch(() => null);
    if (res?.status === 200) {
      last = res.data as T;
      if (done(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out on ${path}; last ${JSON.stringify(last)?.slice(0, 2000)}`);
}

test('worker killed while an iteration\'s rollout applies its first stage; a new worker finishes the run', async () => {
  const res = await stack.api.post(`${stack.apiUrl}/api/v1/tunings`, {
    instance_id: stack.vllmUrl,
    instance_type: 'vllm',
    monitoring_duration_seconds: 2,
    stages: [50, 100],
    target_health: 100,
    budget: { max_iterations: 2 },
  });
  expect(res.status).toBe(201);
  const id = res.data.tuning_id as string;
  const running = await poll<TuningState>(`/api/v1/tunings/${id}`, (s) => s.current_rollout_id !== null);
  const rolloutId = running.current_rollout_id!;
  await poll<WorkflowState>(`/api/v1/workflows/${rolloutId}`, (s) => s.current_step === 'rollout_stage');
  await stack.kill('worker');
  await new Promise((r) => setTimeout(r, 500));
  await stack.start('worker');

  const done = await poll<TuningState>(`/api/v1/tunings/${id}`, (s) => s.status === 'completed' || s.status === 'failed');
  expect(done.status).toBe('completed');
  expect(done.decision_log[0].rollout_id).toBe(rolloutId);
  // The interrupted iteration ended as its rollout did, and the run went on (or stopped for a reason it names).
  const first = (await stack.api.get(`${stack.apiUrl}/api/v1/workflows/${rolloutId}`)).data as WorkflowState;
  const statusOf = { kept: 'completed', no_change: 'completed', reverted: 'rolled_back', refused: 'rolled_back', rejected: 'rejected', approval_timeout: 'rejected', failed: 'failed' };
  expect(first.status).toBe(statusOf[done.decision_log[0].verdict]);
  expect(['budget_iterations', 'slo_met', 'search_exhausted']).toContain(done.stop_reason);
  // Every replica runs what the run kept, each changed by whole pushes only.
  const sim = (await stack.api.get(`${stack.vllmUrl}/sim/v1/state`)).data as SimState;
  const tuned = [...new Set(done.decision_log.flatMap((e) => e.changes.map((c) => c.flag)))];
  for (const replica of sim.replicas) {
    expect(Object.fromEntries(tuned.map((f) => [f, replica.engine_args[f]]))).toEqual(Object.fromEntries(tuned.map((f) => [f, done.current_args![f]])));
  }
});
