/**
 * The rollout activities and the lease (docs/replica-leases.md), against the fleet simulator: a push to
 * a replica another rollout holds fails without retry, naming it; a rollback leaves such a replica
 * alone; the release frees only this rollout's leases.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import axios from 'axios';
import { fleetDigest } from '../../../activities/resolveFleet';
import { createActivities, defaultActivityDeps } from '../../../activities/rolloutActivities';
import type { SimState } from '../../../models';
import { createFleetSimulator, type FleetSimulator } from '../../../simulator/simulatedFleet';

let fleet: FleetSimulator;
let replicas: string[];

beforeEach(async () => {
  fleet = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0, replicas: 2 }] });
  replicas = fleet.deployments[0].replicaAddresses;
});
afterEach(async () => {
  await fleet.close();
});

const state = async () => (await axios.get<SimState>(`${fleet.deployments[0].url}/sim/v1/state`)).data.replicas.map((r) => [r.revision, r.config_pushes]);
const holderOf = async (replica: string) => (await axios.get(`${replica}/servetune/v1/lease`)).data.holder;

test('a stage reaching a replica another rollout holds fails naming it; the rollback undoes only this rollout\'s replica; the release leaves the other lease', async () => {
  // Another rollout holds replica 1.
  await axios.put(`${replicas[1]}/servetune/v1/config`, { revision: 'other-rev', engine_args: { max_num_seqs: 64 }, holder: 'rollout-other', lease_seconds: 3600 });
  const activities = createActivities(defaultActivityDeps());
  // This rollout is the mock's workflow, id "test"; its refused push logs a WARN that is expected here.
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const ref = { instance_id: fleet.deployments[0].url, count: 2, digest: fleetDigest(replicas) };

  const pushed = env.run(activities.applyConfig, { fleet: ref, range: { from: 0, to: 2 }, revision: 'mine', engine_args: { max_num_seqs: 512 }, lease_seconds: 600 });
  await expect(pushed).rejects.toMatchObject({
    type: 'ConfigRejected',
    nonRetryable: true,
    message: expect.stringMatching(new RegExp(`^applying config to ${replicas[1]}: the replica is held by rollout rollout-other until \\S+Z`)),
  });
  // The activity fails on the first refusal; its push to replica 0 may land a moment later.
  const deadline = Date.now() + 10_000;
  while ((await state())[0][0] !== 'mine' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(await state()).toEqual([['mine', 1], ['other-rev', 1]]);
  expect(await holderOf(replicas[0])).toBe('test');

  const rolledBack = await env.run(activities.rollbackReplicas, { groups: [{ revision: 'initial', engine_args: {}, addresses: replicas }] });
  expect(rolledBack).toEqual({ restored: 1, held_by_others: [{ address: replicas[1], holder: 'rollout-other' }] });
  expect(await state()).toEqual([['initial', 2], ['other-rev', 1]]);

  expect(await env.run(activities.releaseReplicas, { addresses: replicas })).toEqual({ released: 1, held_by_others: 1 });
  expect(await holderOf(replicas[0])).toBeNull();
  expect(await holderOf(replicas[1])).toBe('rollout-other');
});
