/** The simulator's agent routes keep a lease per replica, like the agent (docs/replica-leases.md). */
import request from 'supertest';
import { LeaseHeldBodySchema, LeaseReleaseSchema } from '../../../models';
import { createDeploymentApp } from '../../../simulator/app';
import { SimDeployment } from '../../../simulator/deployment';
import { engineModel } from '../../../simulator/engines';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);

function simulator() {
  let wall = T0;
  const deployment = new SimDeployment({ engine: engineModel('vllm'), baseUrl: 'http://sim', replicas: 3, now: () => 0, leaseClock: () => wall });
  return { deployment, app: createDeploymentApp(deployment), advance: (ms: number) => void (wall += ms) };
}

const push = (revision: string, holder?: string, lease_seconds?: number) => ({ revision, engine_args: { max_num_seqs: 128 }, holder, lease_seconds });

describe('simulator lease', () => {
  it('one lease per replica: a holder on replica 0 does not hold replica 1; another holder gets 409 on replica 0 and the replica is unchanged', async () => {
    const { app, deployment } = simulator();
    await request(app).put('/replicas/0/servetune/v1/config').send(push('a-1', 'rollout-a', 120)).expect(200);
    await request(app).put('/replicas/1/servetune/v1/config').send(push('b-1', 'rollout-b', 120)).expect(200);
    const refused = await request(app).put('/replicas/0/servetune/v1/config').send(push('b-1', 'rollout-b', 120)).expect(409);
    expect(LeaseHeldBodySchema.parse(refused.body).lease).toEqual({ holder: 'rollout-a', expires_at: '2026-12-02T03:02:00.000Z' });
    expect(deployment.replicas.map((r) => [r.revision, r.configPushes])).toEqual([['a-1', 1], ['b-1', 1], ['initial', 0]]);
    expect((await request(app).get('/replicas/1/servetune/v1/lease').expect(200)).body).toEqual({ holder: 'rollout-b', expires_at: '2026-12-02T03:02:00.000Z' });
  });

  it('renewal by the holder, expiry with the injected clock', async () => {
    const { app, advance } = simulator();
    await request(app).put('/replicas/2/servetune/v1/config').send(push('a-1', 'rollout-a', 60)).expect(200);
    advance(59_000);
    // Same revision: a no-op for the engine, but still the holder's push, so it renews.
    await request(app).put('/replicas/2/servetune/v1/config').send(push('a-1', 'rollout-a', 60)).expect(200);
    advance(59_000);
    await request(app).put('/replicas/2/servetune/v1/config').send(push('b-1', 'rollout-b', 60)).expect(409);
    advance(1_000);
    await request(app).put('/replicas/2/servetune/v1/config').send(push('b-1', 'rollout-b', 60)).expect(200);
  });

  it('release by the holder, refusal for another, forced release', async () => {
    const { app } = simulator();
    await request(app).put('/replicas/0/servetune/v1/config').send(push('a-1', 'rollout-a', 600)).expect(200);
    expect(LeaseHeldBodySchema.parse((await request(app).delete('/replicas/0/servetune/v1/lease?holder=rollout-b').expect(409)).body).lease.holder).toBe('rollout-a');
    expect(LeaseReleaseSchema.parse((await request(app).delete('/replicas/0/servetune/v1/lease?holder=rollout-a').expect(200)).body).released_holder).toBe('rollout-a');
    expect((await request(app).delete('/replicas/0/servetune/v1/lease?holder=rollout-a').expect(200)).body.released).toBe(false);
    await request(app).put('/replicas/0/servetune/v1/config').send(push('b-1', 'rollout-b', 600)).expect(200);
    expect((await request(app).delete('/replicas/0/servetune/v1/lease?force=1').expect(200)).body).toEqual({ released: true, released_holder: 'rollout-b', lease: { holder: null, expires_at: null } });
    await request(app).put('/replicas/0/servetune/v1/config').send(push('c-1', 'rollout-c', 600)).expect(200);
    // No such replica: 404, as for every replica route.
    await request(app).get('/replicas/9/servetune/v1/lease').expect(404);
  });
});
