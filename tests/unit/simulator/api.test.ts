import http from 'node:http';
import request from 'supertest';
import { ErrorBodySchema, ReplicaConfigSchema, ReplicaListSchema, SimStateSchema } from '../../../models';
import { createFleetSimulator, type FleetSimulator } from '../../../simulator/simulatedFleet';
import { parsePage } from './pages';

let fleet: FleetSimulator;
let url: string;
let replicas: string[];

beforeEach(async () => {
  fleet = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0 }] });
  url = fleet.deployments[0].url;
  replicas = fleet.deployments[0].replicaAddresses;
});
afterEach(async () => {
  await fleet.close();
});

/** Path of a replica address relative to the deployment root. */
const rel = (address: string) => address.slice(url.length);
const state = async () => SimStateSchema.parse((await request(url).get('/sim/v1/state').expect(200)).body);

function rawGet(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(address, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('fleet simulator: discovery', () => {
  it('binds a real port and lists 10 replica addresses under /replicas/<i>', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url.endsWith(':0')).toBe(false);
    const res = await request(url).get('/servetune/v1/replicas').expect(200);
    const list = ReplicaListSchema.parse(res.body);
    expect(list.replicas).toHaveLength(10);
    expect(list.replicas).toEqual(replicas);
    list.replicas.forEach((a, i) => expect(a).toBe(`${url}/replicas/${i}`));
  });

  it('each replica answers health and 404s an unknown replica', async () => {
    await request(url).get(`${rel(replicas[3])}/health`).expect(200);
    const res = await request(url).get('/replicas/10/health').expect(404);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('not_found');
  });

  it('honours the replica count and starts every replica on "initial" with the default args', async () => {
    const small = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0, replicas: 3 }] });
    try {
      const s = SimStateSchema.parse((await request(small.deployments[0].url).get('/sim/v1/state').expect(200)).body);
      expect(s.replicas).toHaveLength(3);
      expect(s.load.requests_per_second).toBeCloseTo(12, 9); // same per-replica share as 40 rps over 10
    } finally {
      await small.close();
    }
    const s = await state();
    expect(s.load).toEqual({ requests_per_second: 40, prompt_tokens: 1024, output_tokens: 256, shared_prefix_fraction: 0.5 });
    for (const r of s.replicas) {
      expect(r.revision).toBe('initial');
      expect(r.config_pushes).toBe(0);
      expect(r.engine_args).toEqual({
        max_num_seqs: 256,
        gpu_memory_utilization: 0.9,
        enable_prefix_caching: false,
        max_num_batched_tokens: 2048,
        kv_cache_dtype: 'auto',
        block_size: 16,
      });
    }
  });
});

describe('fleet simulator: agent config', () => {
  const tuned = { revision: 'rev-2', engine_args: { max_num_seqs: 256, gpu_memory_utilization: 0.95, enable_prefix_caching: true } };

  it('GET reports the running config', async () => {
    const res = await request(url).get(`${rel(replicas[0])}/servetune/v1/config`).expect(200);
    const cfg = ReplicaConfigSchema.parse(res.body);
    expect(cfg.revision).toBe('initial');
    expect(cfg.engine).toBe('vllm');
    expect(cfg.engine_args.gpu_memory_utilization).toBe(0.9);
  });

  it('PUT applies a new revision once; the same revision again is a no-op', async () => {
    const path = `${rel(replicas[2])}/servetune/v1/config`;
    const first = await request(url).put(path).send(tuned).expect(200);
    expect(first.body).toEqual({ revision: 'rev-2', engine: 'vllm', engine_args: tuned.engine_args });
    await request(url).put(path).send(tuned).expect(200);
    // Same revision with different args is still a no-op: the revision names the config.
    const again = await request(url).put(path).send({ revision: 'rev-2', engine_args: { max_num_seqs: 8 } }).expect(200);
    expect(again.body.engine_args).toEqual(tuned.engine_args);
    let s = await state();
    expect(s.replicas[2]).toMatchObject({ revision: 'rev-2', config_pushes: 1, engine_args: tuned.engine_args });
    expect(s.replicas[1]).toMatchObject({ revision: 'initial', config_pushes: 0 });
    // Rolling back is a change too.
    await request(url).put(path).send({ revision: 'initial', engine_args: s.replicas[1].engine_args }).expect(200);
    s = await state();
    expect(s.replicas[2]).toMatchObject({ revision: 'initial', config_pushes: 2 });
    const get = await request(url).get(path).expect(200);
    expect(get.body.revision).toBe('initial');
  });

  it('PUT with args the engine refuses is a 400 with a reason and changes nothing', async () => {
    const path = `${rel(replicas[0])}/servetune/v1/config`;
    for (const engine_args of [{ gpu_memory_utilization: 1.5 }, { max_num_seqs: 0 }, { not_a_flag: true }]) {
      const res = await request(url).put(path).send({ revision: 'bad', engine_args }).expect(400);
      const body = ErrorBodySchema.parse(res.body);
      expect(body.error.details[0].field).toBe(`engine_args.${Object.keys(engine_args)[0]}`);
      expect(body.error.message.length).toBeGreaterThan(0);
    }
    expect((await state()).replicas[0]).toMatchObject({ revision: 'initial', config_pushes: 0 });
  });

  it('PUT with a malformed body is a 400 invalid_request naming the field', async () => {
    const path = `${rel(replicas[0])}/servetune/v1/config`;
    let res = await request(url).put(path).send({ engine_args: {} }).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details).toEqual([{ field: 'revision', message: 'Required' }]);
    res = await request(url).put(path).set('content-type', 'application/json').send('{"revision": ').expect(400);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('invalid_request');
  });

  it('apply_error replicas answer PUT with 422 and a reason, and keep their config', async () => {
    await request(url).post('/sim/v1/faults').send({ kind: 'apply_error', replicas: [replicas[4]] }).expect(201);
    const res = await request(url).put(`${rel(replicas[4])}/servetune/v1/config`).send(tuned).expect(422);
    const body = ErrorBodySchema.parse(res.body);
    expect(body.error.code).toBe('apply_failed');
    expect(body.error.message).toMatch(/rev-2/);
    await request(url).put(`${rel(replicas[5])}/servetune/v1/config`).send(tuned).expect(200);
    const s = await state();
    expect(s.replicas[4]).toMatchObject({ revision: 'initial', config_pushes: 0 });
    expect(s.replicas[5]).toMatchObject({ revision: 'rev-2', config_pushes: 1 });
  });
});

describe('fleet simulator: faults and load', () => {
  it('faults are recorded with defaults, reflected in state, and cleared by DELETE', async () => {
    const res = await request(url).post('/sim/v1/faults').send({ kind: 'degrade_new_config', min_fraction: 0.5 }).expect(201);
    expect(res.body.faults).toEqual([{ kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 }]);
    await request(url).post('/sim/v1/faults').send({ kind: 'malformed_metrics', replicas: [replicas[1]] }).expect(201);
    let s = await state();
    expect(s.faults).toEqual([
      { kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 },
      { kind: 'malformed_metrics', replicas: [replicas[1]] },
    ]);
    expect((await request(url).get('/sim/v1/faults').expect(200)).body.faults).toHaveLength(2);
    await request(url).delete('/sim/v1/faults').expect(200);
    s = await state();
    expect(s.faults).toEqual([]);
    const page = await request(url).get(`${rel(replicas[1])}/metrics`).expect(200);
    expect(() => parsePage(page.text)).not.toThrow();
  });

  it('rejects invalid faults with the offending field', async () => {
    let res = await request(url).post('/sim/v1/faults').send({ kind: 'meteor_strike' }).expect(400);
    expect(ErrorBodySchema.parse(res.body).error.details[0].field).toBe('kind');
    res = await request(url).post('/sim/v1/faults').send({ kind: 'degrade_new_config', min_fraction: 2 }).expect(400);
    expect(res.body.error.details[0].field).toBe('min_fraction');
    res = await request(url).post('/sim/v1/faults').send({ kind: 'unreachable', replicas: ['http://elsewhere:1/replicas/99'] }).expect(400);
    expect(res.body.error.details[0].field).toBe('replicas[0]');
    res = await request(url).post('/sim/v1/faults').send({ kind: 'unreachable', replicas: [], extra: 1 }).expect(400);
    expect(res.body.error.details).toEqual([{ field: 'extra', message: 'unknown field: extra' }]);
    expect((await state()).faults).toEqual([]);
  });

  it('unreachable replicas reset the connection on every route; others keep answering', async () => {
    await request(url).post('/sim/v1/faults').send({ kind: 'unreachable', replicas: [replicas[7], '8'] }).expect(201);
    for (const path of ['/metrics', '/health', '/servetune/v1/config']) {
      await expect(rawGet(`${replicas[7]}${path}`)).rejects.toMatchObject({ code: 'ECONNRESET' });
    }
    await expect(rawGet(`${replicas[8]}/metrics`)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(
      request(url).put(`${rel(replicas[7])}/servetune/v1/config`).send({ revision: 'x', engine_args: {} }),
    ).rejects.toThrow();
    expect(await rawGet(`${replicas[6]}/health`)).toBe(200);
    expect(await rawGet(`${url}/sim/v1/state`)).toBe(200);
    await request(url).delete('/sim/v1/faults').expect(200);
    expect(await rawGet(`${replicas[7]}/health`)).toBe(200);
  });

  it('malformed_metrics replicas serve text that is not valid exposition', async () => {
    await request(url).post('/sim/v1/faults').send({ kind: 'malformed_metrics', replicas: [replicas[0]] }).expect(201);
    const bad = await request(url).get(`${rel(replicas[0])}/metrics`).expect(200);
    expect(bad.headers['content-type']).toMatch(/^text\/plain/);
    expect(() => parsePage(bad.text)).toThrow();
    const good = await request(url).get(`${rel(replicas[1])}/metrics`).expect(200);
    expect(parsePage(good.text).samples.length).toBeGreaterThan(50);
  });

  it('PUT load validates every field and replaces the load', async () => {
    let res = await request(url).put('/sim/v1/load').send({ requests_per_second: -1, prompt_tokens: 1, output_tokens: 1, shared_prefix_fraction: 0 }).expect(400);
    expect(ErrorBodySchema.parse(res.body).error.details.map((d) => d.field)).toEqual(['requests_per_second']);
    res = await request(url).put('/sim/v1/load').send({ requests_per_second: 10, prompt_tokens: 1, output_tokens: 1, shared_prefix_fraction: 1.5 }).expect(400);
    expect(res.body.error.details[0].field).toBe('shared_prefix_fraction');
    res = await request(url).put('/sim/v1/load').send({ requests_per_second: 10 }).expect(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['output_tokens', 'prompt_tokens', 'shared_prefix_fraction']);
    const load = { requests_per_second: 20, prompt_tokens: 512, output_tokens: 128, shared_prefix_fraction: 0.2 };
    res = await request(url).put('/sim/v1/load').send(load).expect(200);
    expect(res.body.load).toEqual(load);
    expect((await state()).load).toEqual(load);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await request(url).get('/nope').expect(404);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('not_found');
  });
});
