/**
 * The tuning run's loop on the time-skipping server, with a fake fleet whose health is a known function
 * of its args and stand-in rollouts (tests/integration/fakes/): it iterates until the SLO is met, a
 * step that did not help is reverted and becomes a constraint that is never retried, a stop ends the
 * run after the current iteration, budgets end it, and each iteration is its own workflow run
 * (continue-as-new) carrying the decision log. On a saturated fleet, the corner of the bounds is one
 * iteration, and the run ends `capacity_bound` when the corner's own window proves it, or goes on
 * when the corner serves the load.
 */
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TuningRequestSchema, type EngineArgs, type LoadMeasurement, type TuningRequestInput, type TuningState } from '../../models';
import { healthCeiling } from '../../core/healthScore';
import { getTuningStateQuery, stopTuningSignal, type TuningWorkflowInput } from '../../workflows/tuningDefinitions';
import { TUNING_WORKFLOW_TYPE } from '../../contract';
import { FakeFleet } from './fakes/fakeFleet';
import { startTimeSkippingServer } from '../helpers/temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;

beforeAll(async () => {
  env = await startTimeSkippingServer();
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fakes/tuningWorkflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
});

afterAll(async () => {
  await env?.teardown();
});

/** Health: 40 at the start; mem_fraction_static 0.93 +25; schedule_conservativeness lower is better, higher worse. */
function health(args: EngineArgs): number {
  const mem = (args.mem_fraction_static as number) >= 0.93 ? 25 : 0;
  const sc = args.schedule_conservativeness as number;
  return Math.round((40 + mem + (1 - sc) * 30) * 10) / 10;
}

async function withFleet<T>(fleet: FakeFleet, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `tuning-${Math.random().toString(36).slice(2)}`;
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: bundle, activities: fleet.activities() });
  return worker.runUntil(() => body(taskQueue));
}

function input(req: Omit<TuningRequestInput, 'instance_id' | 'instance_type'>): TuningWorkflowInput {
  return { request: TuningRequestSchema.parse({ instance_id: 'localhost:30000', instance_type: 'sglang', monitoring_duration_seconds: 60, ...req }), started_by: 'test', deployment_key: '127.0.0.1:30000', known_constraints: [] };
}

function start(taskQueue: string, args: TuningWorkflowInput) {
  return env.client.workflow.start(TUNING_WORKFLOW_TYPE, { taskQueue, workflowId: `tuning-${Math.random().toString(36).slice(2)}`, args: [args] });
}

test('iterates until the SLO is met: the rules first, then the search; the fleet keeps what helped', async () => {
  const fleet = new FakeFleet(health);
  const state = await withFleet(fleet, async (q) => {
    const handle = await start(q, input({ target_health: 80 }));
    const result = (await handle.result()) as TuningState;
    // Each iteration ran as its own workflow run: the state reached the last one through continue-as-new.
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
    return result;
  });
  expect(state.status).toBe('completed');
  expect(state.stop_reason).toBe('slo_met');
  expect(state.decision_log[0]).toMatchObject({ source: 'rules', changes: [{ flag: 'mem_fraction_static', from: 0.88, to: 0.93 }], verdict: 'kept', score_before: 40, score_after: 65 });
  expect(state.decision_log.slice(1).every((e) => e.source === 'search')).toBe(true);
  expect(state.best_score).toBeGreaterThanOrEqual(80);
  expect(health(fleet.args)).toBe(state.best_score);
  expect(state.initial_score).toBe(40);
  expect(state.iterations).toBe(state.decision_log.length);
  // The rules' step, one reversed search step, then the same flag followed through to the target.
  expect(state.decision_log.map((e) => e.verdict)).toEqual(['kept', 'reverted', 'kept', 'kept', 'kept', 'kept']);
});

test('a step that did not help is reverted and remembered; no configuration is ever rolled out twice', async () => {
  const fleet = new FakeFleet(health, (args) => args.chunked_prefill_size === 16384);
  const state = await withFleet(fleet, async (q) => (await (await start(q, input({ target_health: 99, budget: { max_iterations: 12 } }))).result()) as TuningState);
  const reverted = state.decision_log.filter((e) => e.verdict === 'reverted');
  const refused = state.decision_log.filter((e) => e.verdict === 'refused');
  expect(reverted.length).toBeGreaterThan(0);
  expect(reverted.some((e) => e.changes.some((c) => c.flag === 'schedule_conservativeness' && (c.to as number) > (c.from as number)))).toBe(true);
  expect(refused.map((e) => e.changes)).toEqual([[{ flag: 'chunked_prefill_size', from: 8192, to: 16384 }]]);
  expect(state.constraints).toHaveLength(reverted.length + refused.length);
  for (const [config, count] of fleet.attempts) expect([config, count]).toEqual([config, 1]);
  // A reverted step cost its pushes and their rollback.
  for (const e of reverted) expect(e.restarts).toBe(4);
  expect(['budget_iterations', 'search_exhausted']).toContain(state.stop_reason);
});

test('the constraints of an earlier run are never tried', async () => {
  const fleet = new FakeFleet(health);
  const known = [{ engine_args: { mem_fraction_static: 0.93, schedule_conservativeness: 1.0, chunked_prefill_size: 8192 }, why: 'earlier run: reverted' }];
  const state = await withFleet(fleet, async (q) => (await (await start(q, { ...input({ target_health: 99, budget: { max_iterations: 3 } }), known_constraints: known })).result()) as TuningState);
  expect(state.decision_log[0].changes).not.toEqual([{ flag: 'mem_fraction_static', from: 0.88, to: 0.93 }]);
  expect(fleet.attempts.has(JSON.stringify(Object.entries(known[0].engine_args).sort()))).toBe(false);
  expect(state.constraints[0]).toEqual(known[0]);
});

test('stop ends the run after the current iteration, leaving its result in place', async () => {
  const fleet = new FakeFleet(health);
  fleet.hold = true;
  const state = await withFleet(fleet, async (q) => {
    const handle = await start(q, input({ target_health: 99 }));
    let s: TuningState;
    do {
      await new Promise((r) => setTimeout(r, 100));
      s = await handle.query(getTuningStateQuery);
    } while (s.current_rollout_id === null);
    await handle.signal(stopTuningSignal, { stopped_by: 'oncall' });
    await env.client.workflow.getHandle(s.current_rollout_id).signal('release');
    return (await handle.result()) as TuningState;
  });
  expect(state.stop_reason).toBe('stopped');
  expect(state.stop_requested_by).toBe('oncall');
  expect(state.decision_log).toHaveLength(1);
  expect(state.decision_log[0].verdict).toBe('kept');
  expect(health(fleet.args)).toBe(65);
});

test('budgets end it: iterations, and engine restarts', async () => {
  const byIterations = await withFleet(new FakeFleet(health), async (q) => (await (await start(q, input({ target_health: 99, budget: { max_iterations: 2 } }))).result()) as TuningState);
  expect(byIterations.stop_reason).toBe('budget_iterations');
  expect(byIterations.decision_log).toHaveLength(2);
  const byRestarts = await withFleet(new FakeFleet(health), async (q) => (await (await start(q, input({ target_health: 99, budget: { max_restarts: 5 } }))).result()) as TuningState);
  expect(byRestarts.stop_reason).toBe('budget_restarts');
  expect(byRestarts.restarts_spent).toBeGreaterThanOrEqual(5);
  expect(byRestarts.decision_log).toHaveLength(2);
});

/**
 * A fleet past its capacity: each replica serves 4 rps, 5 with mem_fraction_static 0.93, one more with
 * mixed chunks (the SGLang corner sets both); what it does not serve queues and is aborted. Its health is
 * `health` capped by what the unserved share allows, plus `mixedBonus` for mixed chunks.
 */
function overloaded(offeredRps: number, mixedBonus: number) {
  const servedEach = (args: EngineArgs) => 4 + ((args.mem_fraction_static as number) >= 0.93 ? 1 : 0) + (args.enable_mixed_chunk === true ? 1 : 0);
  const load = (args: EngineArgs, replicas: number): LoadMeasurement => {
    const offered = (offeredRps * replicas) / 4;
    const served = Math.min(offered, servedEach(args) * replicas);
    return { replicas, window_seconds: 60, offered_rps: offered, served_rps: served, waiting_per_replica: served < offered ? 50 : 0 };
  };
  const score = (args: EngineArgs) => {
    const l = load(args, 4);
    const ceiling = healthCeiling('error_rate', 1 - l.served_rps / l.offered_rps);
    return Math.round(Math.min(health(args) + (args.enable_mixed_chunk === true ? mixedBonus : 0), ceiling) * 10) / 10;
  };
  const fleet = new FakeFleet(score);
  fleet.load = load;
  return fleet;
}

test('saturated: the corner of the bounds is one rollout, put back when it did not help, and the run ends capacity_bound with the evidence', async () => {
  const fleet = overloaded(40, 0);
  let details = '';
  const state = await withFleet(fleet, async (q) => {
    const handle = await start(q, input({ target_health: 80 }));
    const result = (await handle.result()) as TuningState;
    // The Web UI's "current details" of the run's last execution carry the verdict.
    details = (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
    return result;
  });
  expect(details).toContain('capacity_bound');
  expect(details).toContain('Capacity bound: 7 replicas needed');
  expect(state.stop_reason).toBe('capacity_bound');
  expect(state.status).toBe('completed');
  expect(state.iterations).toBeLessThanOrEqual(8);
  // Saturation over two probes (before and after the rules' step), then the corner.
  expect(state.decision_log.map((e) => [e.source, e.verdict])).toEqual([
    ['rules', 'kept'],
    ['capacity', 'reverted'],
  ]);
  expect(state.decision_log[1].changes).toEqual([{ flag: 'enable_mixed_chunk', from: null, to: true }]);
  // It did not help, so its rollout put the replicas back, and the corner is remembered.
  expect(fleet.args.enable_mixed_chunk).toBeUndefined();
  expect(state.constraints.some((c) => c.engine_args.enable_mixed_chunk === true)).toBe(true);
  const v = state.capacity_verdict!;
  expect(v).toMatchObject({
    rollout_id: state.decision_log[1].rollout_id,
    corner_args: { mem_fraction_static: 0.93, enable_mixed_chunk: true },
    replicas: 4,
    offered_rps: 40,
    corner_offered_rps_per_replica: 10,
    corner_served_rps_per_replica: 6,
    replicas_needed: 7,
  });
  expect(v.health_ceiling).toBeLessThan(80);
  expect(v.argument).toContain('no configuration in the flags\' bounds serves the load');
});

test('saturated, and the corner helps: it is kept, and the verdict still ends the run', async () => {
  const fleet = overloaded(40, 10);
  const state = await withFleet(fleet, async (q) => (await (await start(q, input({ target_health: 80 }))).result()) as TuningState);
  expect(state.stop_reason).toBe('capacity_bound');
  expect(state.decision_log.map((e) => [e.source, e.verdict])).toEqual([
    ['rules', 'kept'],
    ['capacity', 'kept'],
  ]);
  expect(fleet.args.enable_mixed_chunk).toBe(true);
  expect(state.capacity_verdict?.replicas_needed).toBe(7);
});

test('saturated, but the corner serves the load: no verdict, the run goes on to its SLO', async () => {
  const fleet = overloaded(22, 10);
  const state = await withFleet(fleet, async (q) => (await (await start(q, input({ target_health: 80 }))).result()) as TuningState);
  expect(state.decision_log[1]).toMatchObject({ source: 'capacity', verdict: 'kept' });
  expect(state.capacity_verdict ?? null).toBeNull();
  expect(state.stop_reason).toBe('slo_met');
  expect(state.decision_log.length).toBeGreaterThan(2);
  // The corner serves the load, so later probes are not saturated.
  expect(state.saturated_probes).toBe(0);
});

