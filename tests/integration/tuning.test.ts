/**
 * A tuning run through REST on the simulated SGLang deployment: it iterates rollouts with explicit
 * plans, holds the deployment (a rollout start is 409 meanwhile), records a decision log whose
 * verdicts are its rollouts' own terminal statuses, leaves the fleet on the configuration it kept,
 * stops after the current iteration on request, and hands its constraints to the next run.
 */
import axios from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TuningState, WorkflowState } from '../../models';
import { recordHistoryIfAsked } from '../helpers/histories';
import { startStack, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';
import { tuningEnded, waitForTuning, withTuneCli } from '../helpers/tunings';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let stack: Stack;
let finished: TuningState | undefined;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 1, 4, ['sglang']);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

const request = (extra: object) => ({ instance_id: stack.deployments[0], instance_type: 'sglang', monitoring_duration_seconds: 2, stages: [50, 100], ...extra });

test('iterates rollouts until its budget, holding the deployment; the fleet ends on what it kept', async () => {
  const started = await stack.api.post('/api/v1/tunings').send(request({ target_health: 99.9, budget: { max_iterations: 3 } }));
  expect(started.status).toBe(201);
  const id = started.body.tuning_id as string;
  expect(id).toMatch(/^tuning-/);

  const clash = await stack.api.post('/api/v1/workflows').send({ instance_id: stack.deployments[0], instance_type: 'sglang' });
  expect(clash.status).toBe(409);
  expect(clash.body.error.message).toContain(id);

  const done = await waitForTuning(stack, id, tuningEnded);
  finished = done;
  console.log(done.decision_log.map((e) => `${e.iteration} ${e.source} ${JSON.stringify(e.changes)} ${e.verdict} ${e.score_before} → ${e.score_after}`).join('\n'));
  expect(done.status).toBe('completed');
  expect(['budget_iterations', 'search_exhausted', 'slo_met']).toContain(done.stop_reason);
  expect(done.decision_log.length).toBe(done.iterations);
  expect(done.iterations).toBeGreaterThanOrEqual(1);
  expect(done.iterations).toBeLessThanOrEqual(3);
  // The first step is the rule base's for SGLang's default picture.
  expect(done.decision_log[0].source).toBe('rules');
  for (const entry of done.decision_log) {
    const rollout = (await stack.api.get(`/api/v1/workflows/${entry.rollout_id}`)).body as WorkflowState;
    expect([entry.verdict, rollout.status]).toEqual([entry.verdict, { kept: 'completed', reverted: 'rolled_back', refused: 'rolled_back', no_change: 'completed', rejected: 'rejected', approval_timeout: 'rejected', failed: 'failed' }[entry.verdict]]);
    expect(rollout.optimization_plan!.optimizations.map((o) => o.parameter).sort()).toEqual(entry.changes.map((c) => c.flag).sort());
    expect(entry.restarts).toBeGreaterThan(0);
  }
  expect(done.restarts_spent).toBe(done.decision_log.reduce((n, e) => n + e.restarts, 0));
  // Every replica runs the configuration the run kept: reverted steps were restored.
  const sim = await stack.simState(stack.deployments[0]);
  const tuned = [...new Set(done.decision_log.flatMap((e) => e.changes.map((c) => c.flag)))];
  for (const replica of sim.replicas) {
    expect(Object.fromEntries(tuned.map((f) => [f, replica.engine_args[f]]))).toEqual(Object.fromEntries(tuned.map((f) => [f, done.current_args![f]])));
  }
  await recordHistoryIfAsked(env.client, 'tuning-run', id);
  await recordHistoryIfAsked(env.client, 'tuning-iteration-rollout', done.decision_log[0].rollout_id);
  // Each reverted configuration is a constraint.
  expect(done.constraints.length).toBe(done.decision_log.filter((e) => ['reverted', 'refused', 'rejected'].includes(e.verdict)).length);

  // The next run of the deployment starts with what this one learnt; a stop ends it after the current iteration.
  const next = await stack.api.post('/api/v1/tunings').send(request({ target_health: 99.9, budget: { max_iterations: 5 } }));
  expect(next.status).toBe(201);
  expect(next.body.constraints).toEqual(done.constraints);
  const nextId = next.body.tuning_id as string;
  await waitForTuning(stack, nextId, (s) => s.status === 'running');
  const stop = await stack.api.post(`/api/v1/tunings/${nextId}/stop`).send({ stopped_by: 'oncall' });
  expect(stop.status).toBe(200);
  expect(stop.body.stop_requested_by).toBe('oncall');
  const stopped = await waitForTuning(stack, nextId, tuningEnded);
  expect(stopped.stop_reason === 'stopped' || stopped.stop_reason === 'slo_met' || stopped.stop_reason === 'search_exhausted').toBe(true);
  expect(stopped.iterations).toBeLessThanOrEqual(1);
  const again = await stack.api.post(`/api/v1/tunings/${nextId}/stop`).send({});
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('not_running');
});

test('refuses bad requests naming the field, and unknown ids', async () => {
  const bad = await stack.api.post('/api/v1/tunings').send(request({ target_health: 120, approval: 'sometimes' }));
  expect(bad.status).toBe(400);
  const fields = (bad.body.error.details as Array<{ field: string }>).map((d) => d.field);
  expect(fields).toEqual(expect.arrayContaining(['target_health', 'approval']));
  expect((await stack.api.get('/api/v1/tunings/tuning-nope')).status).toBe(404);
  expect((await stack.api.get('/api/v1/tunings/rollout-1')).status).toBe(404);
});

test('servetune tune status|watch|stop|start through the gateway', async () => {
  expect(finished).toBeDefined();
  await withTuneCli(stack, async (cli) => {
    const id = finished!.tuning_id;
    const status = await cli('status', id);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`${id}  sglang`);
    for (const e of finished!.decision_log) expect(status.out).toContain(`#${e.iteration} ${e.source}: `);
    const watch = await cli('watch', id, '--interval', '0.1');
    expect(watch.code).toBe(0);
    expect(watch.out).toContain(`completed: ${finished!.stop_reason}`);
    const stop = await cli('stop', id);
    expect(stop.code).toBe(1);
    expect(stop.err).toContain('only a running one can be stopped');
    const bad = await cli('start', '--instance', stack.deployments[0], '--engine', 'sglang', '--target', '150');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('target_health');
    const badBudget = await cli('start', '--instance', stack.deployments[0], '--engine', 'sglang', '--max-iterations-without-gain', '0');
    expect(badBudget.code).toBe(1);
    expect(badBudget.err).toContain('budget.max_iterations_without_gain');
  });
});

test('past its capacity (4.5 rps per replica), the run proves it: capacity_bound within 8 iterations, the evidence in its log', async () => {
  const deployment = stack.deployments[0];
  const { load } = (await axios.get(`${deployment}/sim/v1/load`)).data;
  await axios.put(`${deployment}/sim/v1/load`, { ...load, requests_per_second: 18 });
  try {
    const started = await stack.api.post('/api/v1/tunings').send(request({ target_health: 80, budget: { max_iterations: 8 } }));
    expect(started.status).toBe(201);
    const done = await waitForTuning(stack, started.body.tuning_id as string, tuningEnded);
    console.log(done.decision_log.map((e) => `${e.iteration} ${e.source} ${JSON.stringify(e.changes)} ${e.verdict} ${e.score_before} → ${e.score_after}`).join('\n'), `\n${done.capacity_verdict?.argument}`);
    expect(done.stop_reason).toBe('capacity_bound');
    expect(done.iterations).toBeLessThanOrEqual(8);
    const v = done.capacity_verdict!;
    expect(v.replicas).toBe(4);
    expect(v.offered_rps).toBeGreaterThan(15);
    expect(v.corner_served_rps_per_replica).toBeLessThan(v.corner_offered_rps_per_replica / v.capacity_margin);
    expect(v.health_ceiling).toBeLessThan(80);
    expect(v.replicas_needed).toBeGreaterThan(4);
    expect(v.corner_args.mem_fraction_static).toBe(0.93);
    // The corner was one rollout of the run (or the fleet already ran it), and its stages recorded their load.
    const corner = done.decision_log.find((e) => e.source === 'capacity');
    expect(v.rollout_id).toBe(corner?.rollout_id ?? null);
    await recordHistoryIfAsked(env.client, 'tuning-run-capacity-bound', done.tuning_id);
    if (corner) {
      const rollout = (await stack.api.get(`/api/v1/workflows/${corner.rollout_id}`)).body as WorkflowState;
      expect(rollout.rollout_history.every((st) => st.load && st.load.offered_rps > 0)).toBe(true);
    }
    // Whatever did not help was put back: every replica runs what the run kept.
    const sim = await stack.simState(deployment);
    for (const replica of sim.replicas) expect(replica.engine_args.mem_fraction_static).toBe(done.current_args!.mem_fraction_static);
    await withTuneCli(stack, async (cli) => {
      const status = await cli('status', done.tuning_id);
      expect(status.out).toContain(`completed (capacity_bound)`);
      expect(status.out).toContain(`capacity bound: ${v.replicas_needed} replicas needed (4 run)`);
    });
  } finally {
    await axios.put(`${deployment}/sim/v1/load`, load);
  }
});
