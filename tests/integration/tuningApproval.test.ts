/**
 * A tuning run with `approval: first` through REST on the simulated SGLang deployment, as an operator
 * drives it: the run's GET (and `servetune tune status`, and the `temporal` CLI's query) names the
 * iteration rollout that waits, the operator approves that rollout over REST, and the run goes on to
 * its end without waiting again.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowState } from '../../models';
import { recordHistoryIfAsked } from '../helpers/histories';
import { startStack, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';
import { tuningEnded, waitForTuning, withTuneCli } from '../helpers/tunings';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 1, 4, ['sglang']);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

test('approval first: the run names the waiting rollout, an approve over REST lets it go on, and no later iteration waits', async () => {
  await withTuneCli(stack, async (tune) => {
    const started = await stack.api.post('/api/v1/tunings').send({
      instance_id: stack.deployments[0],
      instance_type: 'sglang',
      monitoring_duration_seconds: 2,
      stages: [50, 100],
      target_health: 99.9,
      approval: 'first',
      budget: { max_iterations: 2 },
    });
    expect(started.status).toBe(201);
    expect(started.body.awaiting_approval).toBeNull();
    const id = started.body.tuning_id as string;
    const watch = tune('watch', id, '--interval', '0.2');

    // Found from the run's own state: which rollout, which iteration, until when.
    const waiting = await waitForTuning(stack, id, (s) => s.awaiting_approval !== null || s.status === 'completed' || s.status === 'failed');
    expect(waiting.awaiting_approval).toMatchObject({ iteration: 1, rollout_id: waiting.current_rollout_id });
    const rolloutId = waiting.awaiting_approval!.rollout_id;
    const rollout = (await stack.api.get(`/api/v1/workflows/${rolloutId}`)).body as WorkflowState;
    expect([rollout.status, rollout.requires_approval]).toEqual(['awaiting_approval', true]);
    expect((await stack.simState(stack.deployments[0])).replicas.every((r) => r.revision === 'initial')).toBe(true);

    const status = await tune('status', id);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`awaiting approval: iteration 1, rollout ${rolloutId} until ${waiting.awaiting_approval!.until}`);
    expect(status.out).toContain(`npx servetune approve|reject ${rolloutId}`);
    const query = await promisify(execFile)(process.env.TEMPORAL_CLI_PATH!, [
      'workflow', 'query', '--workflow-id', id, '--type', 'getTuningState', '--address', env.address, '--namespace', env.namespace ?? 'default', '--output', 'json',
    ]);
    expect(query.stdout).toContain(`"rollout_id": "${rolloutId}"`);

    const approved = await stack.api.post(`/api/v1/workflows/${rolloutId}/approve`).send({ approved_by: 'oncall', comment: 'go' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ approved: true, approved_by: 'oncall' });
    // Answered once: the rollout no longer waits, and the run's state no longer names it.
    const again = await stack.api.post(`/api/v1/workflows/${rolloutId}/approve`).send({ approved_by: 'oncall' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_awaiting_approval');
    const going = await waitForTuning(stack, id, (s) => s.awaiting_approval === null);
    expect(going.current_rollout_id === rolloutId || going.decision_log.length > 0).toBe(true);

    const done = await waitForTuning(stack, id, tuningEnded);
    expect([done.status, done.stop_reason, done.awaiting_approval]).toEqual(['completed', 'budget_iterations', null]);
    expect(done.decision_log.map((e) => e.rollout_id)[0]).toBe(rolloutId);
    // `tune watch` showed the wait once, when it began, then the run to its end.
    const watched = await watch;
    expect(watched.code).toBe(0);
    expect(watched.out.split(`awaiting approval: iteration 1, rollout ${rolloutId}`)).toHaveLength(2);
    expect(watched.out).toContain('completed: budget_iterations');
    // The approved rollout told its run of its wait: replayed by every later build.
    await recordHistoryIfAsked(env.client, 'tuning-approved-iteration-rollout', rolloutId);
    const second = (await stack.api.get(`/api/v1/workflows/${done.decision_log[1].rollout_id}`)).body as WorkflowState;
    expect([second.requires_approval, second.approved, second.audit.map((a) => a.action)]).toEqual([false, null, ['start']]);
  });
});
