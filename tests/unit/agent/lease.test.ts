/**
 * The lease on the agent's HTTP surface (docs/replica-leases.md), with an injected clock. The engine
 * side is a recording stand-in: what matters here is which pushes reach it at all.
 */
import request from 'supertest';
import { createAgentApp } from '../../../agent/app';
import type { PushOutcome, Supervisor } from '../../../agent/supervisor';
import { ReplicaLease } from '../../../core/replicaLease';
import { LeaseHeldBodySchema, LeaseReleaseSchema, LeaseStateSchema, type ConfigPush } from '../../../models';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);

function agentWithClock() {
  let now = T0;
  const applied: ConfigPush[] = [];
  const supervisor = {
    async push(push: ConfigPush): Promise<PushOutcome> {
      applied.push(push);
      return { status: 200, config: { revision: push.revision, engine: 'vllm', engine_args: push.engine_args }, changed: true };
    },
  } as unknown as Supervisor;
  const app = createAgentApp({ supervisor, engineUrl: 'http://127.0.0.1:1', healthPath: '/health', lease: new ReplicaLease(() => now) });
  return { app, applied, advance: (ms: number) => void (now += ms) };
}

const push = (revision: string, holder?: string, lease_seconds?: number) => ({ revision, engine_args: { max_num_seqs: 128 }, holder, lease_seconds });

describe('agent lease', () => {
  it('the first holder takes the replica; another holder gets 409 naming the holder and the expiry, and the engine is not touched', async () => {
    const { app, applied } = agentWithClock();
    await request(app).put('/servetune/v1/config').send(push('a-1', 'rollout-a', 600)).expect(200);
    expect(LeaseStateSchema.parse((await request(app).get('/servetune/v1/lease').expect(200)).body)).toEqual({
      holder: 'rollout-a',
      expires_at: '2026-12-02T03:10:00.000Z',
    });
    const refused = await request(app).put('/servetune/v1/config').send(push('b-1', 'rollout-b', 600)).expect(409);
    const body = LeaseHeldBodySchema.parse(refused.body);
    expect(body.lease).toEqual({ holder: 'rollout-a', expires_at: '2026-12-02T03:10:00.000Z' });
    expect(body.error.message).toMatch(/held by rollout rollout-a until 2026-12-02T03:10:00.000Z/);
    expect(body.error.details).toEqual([
      { field: 'holder', message: 'rollout-a' },
      { field: 'expires_at', message: '2026-12-02T03:10:00.000Z' },
    ]);
    // A push that names no holder (a hand-made PUT, an old worker) is refused too while the lease is live.
    await request(app).put('/servetune/v1/config').send(push('manual')).expect(409);
    expect(applied.map((p) => p.revision)).toEqual(['a-1']);
  });

  it("each push of the holder renews the lease; it expires when the holder stops pushing, then another takes it", async () => {
    const { app, applied, advance } = agentWithClock();
    await request(app).put('/servetune/v1/config').send(push('a-1', 'rollout-a', 60)).expect(200);
    advance(50_000);
    await request(app).put('/servetune/v1/config').send(push('a-2', 'rollout-a', 60)).expect(200);
    advance(50_000);
    // 100 s after the first push, but only 50 s after the renewal: still held.
    await request(app).put('/servetune/v1/config').send(push('b-1', 'rollout-b', 60)).expect(409);
    advance(10_000);
    await request(app).put('/servetune/v1/config').send(push('b-1', 'rollout-b', 60)).expect(200);
    expect((await request(app).get('/servetune/v1/lease')).body.holder).toBe('rollout-b');
    expect(applied.map((p) => p.revision)).toEqual(['a-1', 'a-2', 'b-1']);
  });

  it('the holder releases (idempotently); a release by another holder leaves the lease alone; force releases anyone', async () => {
    const { app } = agentWithClock();
    await request(app).put('/servetune/v1/config').send(push('a-1', 'rollout-a', 600)).expect(200);
    const notYours = await request(app).delete('/servetune/v1/lease?holder=rollout-b').expect(409);
    expect(LeaseHeldBodySchema.parse(notYours.body).lease.holder).toBe('rollout-a');
    const released = LeaseReleaseSchema.parse((await request(app).delete('/servetune/v1/lease?holder=rollout-a').expect(200)).body);
    expect(released).toEqual({ released: true, released_holder: 'rollout-a', lease: { holder: null, expires_at: null } });
    expect((await request(app).delete('/servetune/v1/lease?holder=rollout-a').expect(200)).body).toEqual({ released: false, released_holder: null, lease: { holder: null, expires_at: null } });
    await request(app).put('/servetune/v1/config').send(push('b-1', 'rollout-b', 600)).expect(200);

    // The operator's way out after a terminated rollout: force, whoever holds it.
    const forced = LeaseReleaseSchema.parse((await request(app).delete('/servetune/v1/lease?force=1').expect(200)).body);
    expect(forced).toEqual({ released: true, released_holder: 'rollout-b', lease: { holder: null, expires_at: null } });
    await request(app).put('/servetune/v1/config').send(push('c-1', 'rollout-c', 600)).expect(200);
  });

  it('refuses a release that names no holder and no force, and a lease longer than the maximum, naming the field', async () => {
    const { app, applied } = agentWithClock();
    const noHolder = await request(app).delete('/servetune/v1/lease').expect(400);
    expect(noHolder.body.error.details[0].field).toBe('holder');
    const tooLong = await request(app).put('/servetune/v1/config').send(push('a-1', 'rollout-a', 8 * 24 * 3600)).expect(400);
    expect(tooLong.body.error.details[0].field).toBe('lease_seconds');
    expect(applied).toEqual([]);
  });

  it('a push without a holder changes a free replica and takes no lease (older workers keep working)', async () => {
    const { app, applied } = agentWithClock();
    await request(app).put('/servetune/v1/config').send({ revision: 'old-1', engine_args: {} }).expect(200);
    expect((await request(app).get('/servetune/v1/lease')).body).toEqual({ holder: null, expires_at: null });
    expect(applied).toHaveLength(1);
  });
});
