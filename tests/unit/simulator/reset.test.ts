/** `POST /sim/v1/reset`: the walkthrough's clean slate, on real HTTP servers of a two-deployment simulator. */
import request from 'supertest';
import { ErrorBodySchema, SimStateSchema, type SimState } from '../../../models';
import { engineModel } from '../../../simulator/engines';
import { createFleetSimulator, type FleetSimulator } from '../../../simulator/simulatedFleet';

let fleet: FleetSimulator;
let vllm: string;
let sglang: string;

beforeEach(async () => {
  fleet = await createFleetSimulator({
    deployments: [
      { engine: 'vllm', port: 0, replicas: 3 },
      { engine: 'sglang', port: 0, replicas: 3 },
    ],
  });
  [vllm, sglang] = fleet.deployments.map((d) => d.url);
});
afterEach(async () => {
  await fleet.close();
});

const state = async (url: string): Promise<SimState> => SimStateSchema.parse((await request(url).get('/sim/v1/state').expect(200)).body);
const lease = async (url: string, i: number) => (await request(url).get(`/replicas/${i}/servetune/v1/lease`).expect(200)).body as { holder: string | null };

/** Pushes a tuned config (under a lease) to replica 0, adds a fault and changes the load. */
async function dirty(url: string, args: Record<string, unknown>): Promise<SimState> {
  const before = await state(url);
  await request(url).put('/replicas/0/servetune/v1/config').send({ revision: 'tuned', engine_args: args, holder: 'rollout-x', lease_seconds: 600 }).expect(200);
  await request(url).post('/sim/v1/faults').send({ kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 }).expect(201);
  await request(url).put('/sim/v1/load').send({ ...before.load, requests_per_second: before.load.requests_per_second * 2 }).expect(200);
  const after = await state(url);
  expect(after.replicas[0]).toMatchObject({ revision: 'tuned', config_pushes: 1 });
  expect(after.faults).toHaveLength(1);
  expect(await lease(url, 0)).toMatchObject({ holder: 'rollout-x' });
  return before;
}

describe('POST /sim/v1/reset', () => {
  it('with no body puts every deployment back on its first config, faults, load and leases', async () => {
    const vllmBefore = await dirty(vllm, { ...engineModel('vllm').defaultArgs, enable_prefix_caching: true });
    const sglangBefore = await dirty(sglang, { ...engineModel('sglang').defaultArgs, enable_mixed_chunk: true });

    const res = await request(vllm).post('/sim/v1/reset').expect(200);
    expect(res.body).toEqual({ reset: ['vllm', 'sglang'] });

    expect(await state(vllm)).toEqual(vllmBefore);
    expect(await state(sglang)).toEqual(sglangBefore);
    expect(await lease(vllm, 0)).toMatchObject({ holder: null });
    expect(await lease(sglang, 0)).toMatchObject({ holder: null });
    // A push of the revision the replica had before the reset changes it again (nothing remembered).
    await request(vllm).put('/replicas/0/servetune/v1/config').send({ revision: 'tuned', engine_args: { ...engineModel('vllm').defaultArgs, enable_prefix_caching: true } }).expect(200);
    expect((await state(vllm)).replicas[0]).toMatchObject({ revision: 'tuned', config_pushes: 1 });
  });

  it('with deployments named resets only those, from any deployment\'s port', async () => {
    const vllmBefore = await dirty(vllm, { ...engineModel('vllm').defaultArgs, enable_prefix_caching: true });
    await dirty(sglang, { ...engineModel('sglang').defaultArgs, enable_mixed_chunk: true });

    expect((await request(sglang).post('/sim/v1/reset').send({ deployments: ['vllm'] }).expect(200)).body).toEqual({ reset: ['vllm'] });

    expect(await state(vllm)).toEqual(vllmBefore);
    const untouched = await state(sglang);
    expect(untouched.replicas[0].revision).toBe('tuned');
    expect(untouched.faults).toHaveLength(1);
    expect(await lease(sglang, 0)).toMatchObject({ holder: 'rollout-x' });
  });

  it('keeps the counters growing: a scrape after the reset never goes below one before it', async () => {
    const total = (page: string) => Number(/^vllm:request_success_total\{[^}]*\} (\S+)$/m.exec(page)?.[1] ?? NaN);
    const before = total((await request(vllm).get('/replicas/0/metrics').expect(200)).text);
    await request(vllm).post('/sim/v1/reset').expect(200);
    const after = total((await request(vllm).get('/replicas/0/metrics').expect(200)).text);
    expect(Number.isFinite(before)).toBe(true);
    expect(after).toBeGreaterThanOrEqual(before);
  });

  it.each([
    [{ deployments: ['tgi'] }, 'deployments[0]', 'no tgi deployment in this simulator'],
    [{ deployments: ['vllm', 'llamacpp'] }, 'deployments[1]', ''],
    [{ deployments: [] }, 'deployments', ''],
    [{ deployment: 'vllm' }, 'deployment', 'unknown field: deployment'],
    [['vllm'], 'body', ''],
  ])('refuses %j with a 400 naming %s, and changes nothing', async (body, field, message) => {
    await dirty(vllm, { ...engineModel('vllm').defaultArgs, enable_prefix_caching: true });
    const res = await request(vllm).post('/sim/v1/reset').send(body as object).expect(400);
    const error = ErrorBodySchema.parse(res.body).error;
    expect(error.details.map((d) => d.field)).toEqual([field]);
    if (message) expect(error.details[0].message).toBe(message);
    expect((await state(vllm)).replicas[0].revision).toBe('tuned');
  });
});
