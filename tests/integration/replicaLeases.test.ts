/**
 * Replica leases end to end (docs/replica-leases.md): a real Temporal dev server, the real worker and
 * activities, the fleet simulator over HTTP. Two rollouts that share a replica; a terminated rollout's
 * replicas; the operator's release.
 */
import axios from 'axios';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { run } from '../../cli/main';
import type { LeaseState, ReplicaConfig, SimState } from '../../models';
import { isTerminal, startStack, waitForState, type Stack } from '../helpers/stack';
import { startDevServer } from '../helpers/temporal';

jest.setTimeout(180_000);

let env: TestWorkflowEnvironment;
let stack: Stack;

beforeAll(async () => {
  env = await startDevServer();
  stack = await startStack(env, 4, 4);
});

afterAll(async () => {
  await stack?.stop();
  await env?.teardown();
});

async function startRollout(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api.post('/api/v1/workflows').send({ instance_type: 'vllm', monitoring_duration_seconds: 1, health_threshold: 0.5, ...body });
  expect(res.status).toBe(201);
  return res.body.workflow_id as string;
}

const replica = (deployment: string, i: number) => `${deployment}/replicas/${i}`;
const leaseOf = async (address: string) => (await axios.get<LeaseState>(`${address}/servetune/v1/lease`)).data;
const configOf = async (address: string) => (await axios.get<ReplicaConfig>(`${address}/servetune/v1/config`)).data;
/**
 * A rollout plans nothing for a fleet already on the plan's config at the same load; three times the
 * load makes the planner raise max_num_seqs, so a second rollout over tuned replicas has a change to push.
 */
async function tripleLoad(deployment: string): Promise<void> {
  const { load } = (await axios.get(`${deployment}/sim/v1/load`)).data;
  await axios.put(`${deployment}/sim/v1/load`, { ...load, requests_per_second: load.requests_per_second * 3 });
}
const pushesAndRevisions = (sim: SimState) => sim.replicas.map((r) => [r.revision, r.config_pushes]);

// Each test has deployments of its own (d1 and d2, d3, d4), so they run at once (test.concurrent).
test.concurrent('two deployments that share a replica: the second rollout is refused by the lease and rolls back only what it changed', async () => {
  const [d1, d2] = stack.deployments;
  const shared = replica(d1, 0);
  // Rollout A changes d1's first replica and waits for a promotion, holding it.
  // Neither rollout is judged on improvement (that check comes after the 25% stage, before the promotion
  // wait): what is tested here is who holds the replicas.
  const a = await startRollout({ instance_id: d1, stages: [25, 100], auto_rollout: false, approval_timeout_seconds: 600, require_improvement: false });
  const waiting = await waitForState(stack, a, (s) => s.current_step === 'await_promotion' || isTerminal(s));
  expect(waiting.current_step).toBe('await_promotion');
  const revA = waiting.optimization_plan!.revision;
  expect(await leaseOf(shared)).toMatchObject({ holder: a });

  // d2's first replica already runs A's config (pushed by hand, no lease), so B's two replicas share one config.
  const onA = await configOf(shared);
  expect(onA.revision).toBe(revA);
  expect((await axios.put(`${replica(d2, 0)}/servetune/v1/config`, { revision: onA.revision, engine_args: onA.engine_args })).status).toBe(200);
  const d2Before = await stack.simState(d2);
  await Promise.all([tripleLoad(d1), tripleLoad(d2)]);

  // Rollout B, another deployment name over a list that includes A's replica: its first stage changes
  // d2's replica, its second reaches the shared one.
  const b = await startRollout({ instance_id: 'http://127.0.0.1:9/shared-fleet-b', replicas: [replica(d2, 0), shared], stages: [50, 100], require_improvement: false });
  const bDone = await waitForState(stack, b, isTerminal, 120_000);
  // The 50% stage (d2's replica) went through; the 100% stage's push reached the shared replica.
  expect(bDone.rollout_history.map((s) => s.stage)).toEqual(['50%', '100%']);
  expect(bDone.rollout_history[0].status).toBe('success');
  expect(bDone.status).toBe('rolled_back');
  expect(bDone.error_message).toContain(`${shared}: the replica is held by rollout ${a} until `);
  expect(bDone.error_message).toMatch(/rolled back changes$/);

  // B undid its own change (d2's replica back on A's revision, pushed twice: forward and back) …
  const d2After = await stack.simState(d2);
  expect(d2After.replicas[0].revision).toBe(revA);
  expect(d2After.replicas[0].config_pushes).toBe(d2Before.replicas[0].config_pushes + 2);
  expect(await leaseOf(replica(d2, 0))).toEqual({ holder: null, expires_at: null });
  // … and never touched A's: still on A's revision from A's one push, still A's.
  expect(pushesAndRevisions(await stack.simState(d1))).toEqual([[revA, 1], ['initial', 0], ['initial', 0], ['initial', 0]]);
  expect(await leaseOf(shared)).toMatchObject({ holder: a });

  // A's abort rolls its replica back and releases it at the end.
  expect((await stack.api.post(`/api/v1/workflows/${a}/abort`).send({ reason: 'test over' })).status).toBe(200);
  const aDone = await waitForState(stack, a, isTerminal);
  expect(aDone.status).toBe('rolled_back');
  expect(pushesAndRevisions(await stack.simState(d1))).toEqual([['initial', 2], ['initial', 0], ['initial', 0], ['initial', 0]]);
  expect(await leaseOf(shared)).toEqual({ holder: null, expires_at: null });
});

test.concurrent('terminated mid-stage: the next rollout refuses the half-changed fleet before any push, naming its config groups', async () => {
  const d3 = stack.deployments[2];
  const a = await startRollout({ instance_id: d3, stages: [25, 100], monitoring_duration_seconds: 120 });
  const monitoring = await waitForState(stack, a, (s) => (s.current_step === 'monitor_stage' && s.current_stage === '25%') || isTerminal(s));
  expect(monitoring.current_step).toBe('monitor_stage');
  const revA = monitoring.optimization_plan!.revision;
  await env.client.workflow.getHandle(a).terminate('operator terminated mid-stage');

  const next = await startRollout({ instance_id: d3 });
  const refused = await waitForState(stack, next, isTerminal);
  expect(refused.status).toBe('failed');
  expect(refused.error_message).toMatch(new RegExp(`^the 4 replicas run 2 different configs \\(initial on 3, ${revA} on 1\\); a rollout plans from one config, so nothing was pushed`));
  expect(refused.rollout_history).toEqual([]);
  // Nothing the refused rollout planned reached any replica; the terminated rollout still holds its one.
  expect(pushesAndRevisions(await stack.simState(d3))).toEqual([[revA, 1], ['initial', 0], ['initial', 0], ['initial', 0]]);
  expect(await leaseOf(replica(d3, 0))).toMatchObject({ holder: a });
});

test.concurrent('terminated in its last stage: the lease refuses the next rollout until an operator releases the replicas with the CLI', async () => {
  const d4 = stack.deployments[3];
  const replicas = [0, 1, 2, 3].map((i) => replica(d4, i));
  const a = await startRollout({ instance_id: d4, stages: [100], monitoring_duration_seconds: 120 });
  const monitoring = await waitForState(stack, a, (s) => s.current_step === 'monitor_stage' || isTerminal(s));
  expect(monitoring.current_step).toBe('monitor_stage');
  const revA = monitoring.optimization_plan!.revision;
  await env.client.workflow.getHandle(a).terminate('operator terminated mid-stage');
  const afterTerminate = pushesAndRevisions(await stack.simState(d4));
  expect(afterTerminate).toEqual(Array(4).fill([revA, 1]));

  // One config everywhere, but every replica is still the terminated rollout's.
  await tripleLoad(d4);
  const held = await startRollout({ instance_id: d4 });
  const refused = await waitForState(stack, held, isTerminal);
  expect(refused.status).toBe('rolled_back');
  expect(refused.error_message).toContain(`${replicas[0]}: the replica is held by rollout ${a} until `);
  expect(pushesAndRevisions(await stack.simState(d4))).toEqual(afterTerminate);
  for (const r of replicas) expect(await leaseOf(r)).toMatchObject({ holder: a });

  // The operator frees them; the next rollout goes through.
  const out: string[] = [];
  const code = await run(['node', 'servetune', 'release-lease', ...replicas.flatMap((r) => ['--replica', r])], { out: (s) => void out.push(s), err: (s) => void out.push(s) });
  expect(code).toBe(0);
  expect(out.join('')).toBe(replicas.map((r) => `${r}: released the lease of rollout ${a}\n`).join(''));

  // Whether the change helps at this load is not this test's point (1-s windows over 4 replicas give
  // the improvement check one or two intervals): keep it either way, so the rollout ends and lets go.
  const after = await startRollout({ instance_id: d4, require_improvement: false });
  const done = await waitForState(stack, after, isTerminal, 120_000);
  expect(done.status).toBe('completed');
  expect(done.rollout_history.length).toBeGreaterThan(0);
  const revC = done.optimization_plan!.revision;
  expect(pushesAndRevisions(await stack.simState(d4))).toEqual(Array(4).fill([revC, 2]));
  // Completed, so it let go of its replicas.
  for (const r of replicas) expect(await leaseOf(r)).toEqual({ holder: null, expires_at: null });
});
