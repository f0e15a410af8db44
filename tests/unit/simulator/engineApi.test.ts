import http from 'node:http';
import request from 'supertest';
import { ErrorBodySchema, ReplicaConfigSchema, ReplicaListSchema, SimStateSchema, type EngineType } from '../../../models';
import { SGLANG_DEFAULT_ARGS, SGLANG_DEFAULT_LOAD } from '../../../simulator/engines/sglang';
import { TGI_DEFAULT_ARGS, TGI_DEFAULT_LOAD } from '../../../simulator/engines/tgi';
import { VLLM_DEFAULT_ARGS, VLLM_DEFAULT_LOAD } from '../../../simulator/engines/vllm';
import { createFleetSimulator, DEFAULT_PORTS, type FleetSimulator } from '../../../simulator/simulatedFleet';
import { histogramQuantile } from '../../../simulator/lognormal';
import { histogram, parsePage, windowOf } from './pages';

let fleet: FleetSimulator;
let clockMs: number;
const ENGINES: EngineType[] = ['vllm', 'tgi', 'sglang'];
const deployment = (engine: EngineType) => fleet.deployments.find((d) => d.engine === engine)!;
const url = (engine: EngineType) => deployment(engine).url;

beforeEach(async () => {
  clockMs = 0;
  fleet = await createFleetSimulator({ deployments: ENGINES.map((engine) => ({ engine, port: 0 })), now: () => clockMs });
});
afterEach(async () => {
  await fleet.close();
});

function rawGet(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(address, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('fleet simulator: three engines side by side', () => {
  it('starts one deployment per engine on its own port, each with 10 replicas, the engine defaults and its own load', async () => {
    expect(DEFAULT_PORTS).toEqual({ vllm: 8000, tgi: 3000, sglang: 30000 });
    expect(new Set(fleet.deployments.map((d) => d.url)).size).toBe(3);
    const expected = {
      vllm: [VLLM_DEFAULT_ARGS, VLLM_DEFAULT_LOAD],
      tgi: [TGI_DEFAULT_ARGS, TGI_DEFAULT_LOAD],
      sglang: [SGLANG_DEFAULT_ARGS, SGLANG_DEFAULT_LOAD],
    } as const;
    for (const engine of ENGINES) {
      const list = ReplicaListSchema.parse((await request(url(engine)).get('/servetune/v1/replicas').expect(200)).body);
      expect(list.replicas).toHaveLength(10);
      const s = SimStateSchema.parse((await request(url(engine)).get('/sim/v1/state').expect(200)).body);
      expect(s.load).toEqual(expected[engine][1]);
      for (const r of s.replicas) expect(r.engine_args).toEqual(expected[engine][0]);
      const cfg = ReplicaConfigSchema.parse((await request(url(engine)).get('/replicas/0/servetune/v1/config').expect(200)).body);
      expect(cfg).toEqual({ revision: 'initial', engine, engine_args: expected[engine][0] });
    }
  });

  it('other sizes start at the same per-replica share of each engine default load', async () => {
    const small = await createFleetSimulator({ deployments: [{ engine: 'tgi', port: 0, replicas: 4 }, { engine: 'sglang', port: 0, replicas: 2 }] });
    try {
      const [tgi, sglang] = small.deployments;
      expect(tgi.simulator.getLoad().requests_per_second).toBeCloseTo((TGI_DEFAULT_LOAD.requests_per_second * 4) / 10, 9);
      expect(sglang.simulator.getLoad().requests_per_second).toBeCloseTo((SGLANG_DEFAULT_LOAD.requests_per_second * 2) / 10, 9);
    } finally {
      await small.close();
    }
  });

  it('TGI replicas answer GET /info with the launcher settings, following config pushes', async () => {
    const info = (await request(url('tgi')).get('/replicas/3/info').expect(200)).body;
    expect(info).toMatchObject({
      model_id: 'meta-llama/Llama-3.1-8B-Instruct',
      router: 'text-generation-router',
      max_concurrent_requests: 128,
      max_input_tokens: 4095,
      max_total_tokens: 4096,
      max_waiting_tokens: 20,
      waiting_served_ratio: 0.3,
      max_batch_size: null,
      prefix_caching: true,
      support_chunking: true,
    });
    expect(info.max_batch_total_tokens).toBeGreaterThan(50_000); // inferred at warmup
    await request(url('tgi'))
      .put('/replicas/3/servetune/v1/config')
      .send({ revision: 'r2', engine_args: { ...TGI_DEFAULT_ARGS, max_waiting_tokens: 8, max_batch_total_tokens: 60000, max_concurrent_requests: 256 } })
      .expect(200);
    const after = (await request(url('tgi')).get('/replicas/3/info').expect(200)).body;
    expect(after).toMatchObject({ max_waiting_tokens: 8, max_batch_total_tokens: 60000, max_concurrent_requests: 256 });
    expect((await request(url('tgi')).get('/replicas/2/info').expect(200)).body.max_waiting_tokens).toBe(20);
  });

  it('SGLang replicas answer GET /get_server_info with the server args and the pool size', async () => {
    const info = (await request(url('sglang')).get('/replicas/1/get_server_info').expect(200)).body;
    expect(info).toMatchObject({
      model_path: 'meta-llama/Llama-3.1-8B-Instruct',
      mem_fraction_static: 0.88,
      schedule_conservativeness: 1,
      schedule_policy: 'fcfs',
      chunked_prefill_size: 8192,
      disable_radix_cache: false,
      cuda_graph_max_bs: 160,
      max_running_requests: null,
    });
    expect(info.max_total_num_tokens).toBeGreaterThan(30_000);
    expect(typeof info.version).toBe('string');
    await request(url('sglang'))
      .put('/replicas/1/servetune/v1/config')
      .send({ revision: 'r2', engine_args: { ...SGLANG_DEFAULT_ARGS, mem_fraction_static: 0.93, schedule_policy: 'lpm' } })
      .expect(200);
    const after = (await request(url('sglang')).get('/replicas/1/get_server_info').expect(200)).body;
    expect(after).toMatchObject({ mem_fraction_static: 0.93, schedule_policy: 'lpm' });
    expect(after.max_total_num_tokens).toBeGreaterThan(1.2 * info.max_total_num_tokens);
  });

  it('introspection routes exist only for their engine, and unreachable replicas reset them too', async () => {
    await request(url('vllm')).get('/replicas/0/info').expect(404);
    await request(url('tgi')).get('/replicas/0/get_server_info').expect(404);
    await request(url('sglang')).get('/replicas/0/info').expect(404);
    await request(url('tgi')).post('/sim/v1/faults').send({ kind: 'unreachable', replicas: ['4'] }).expect(201);
    await expect(rawGet(`${deployment('tgi').replicaAddresses[4]}/info`)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(await rawGet(`${deployment('tgi').replicaAddresses[5]}/info`)).toBe(200);
  });

  it.each<[EngineType, Record<string, unknown>, string]>([
    ['tgi', { max_batch_prefill_tokens: 2048 }, 'engine_args.max_batch_prefill_tokens'],
    ['tgi', { gpu_memory_utilization: 0.9 }, 'engine_args.gpu_memory_utilization'],
    ['sglang', { mem_fraction_static: 0.97 }, 'engine_args.mem_fraction_static'],
    ['sglang', { max_num_seqs: 64 }, 'engine_args.max_num_seqs'],
  ])('%s refuses %j with a 400 naming the flag, and keeps its config', async (engine, args, field) => {
    const res = await request(url(engine))
      .put('/replicas/0/servetune/v1/config')
      .send({ revision: 'bad', engine_args: { ...args } })
      .expect(400);
    const body = ErrorBodySchema.parse(res.body);
    expect(body.error.code).toBe('invalid_engine_args');
    expect(body.error.details[0].field).toBe(field);
    expect((await request(url(engine)).get('/replicas/0/servetune/v1/config').expect(200)).body.revision).toBe('initial');
  });

  it.each<[EngineType, Record<string, unknown>, string]>([
    ['tgi', { max_batch_prefill_tokens: 8192, max_waiting_tokens: 8 }, 'tgi_request_duration'],
    ['sglang', { mem_fraction_static: 0.93 }, 'sglang:time_to_first_token_seconds'],
  ])('%s: degrade_new_config makes a replica on the new config worse than the untouched ones', async (engine, tuned, metric) => {
    const u = url(engine);
    await request(u).post('/sim/v1/faults').send({ kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 }).expect(201);
    await request(u).put('/replicas/0/servetune/v1/config').send({ revision: 'new', engine_args: { ...deployment(engine).simulator.engine.defaultArgs, ...tuned } }).expect(200);
    // Without the fault the same config is an improvement on replica 2.
    const sim = deployment(engine).simulator;
    expect(sim.severityOf(0)).toBe(0.4);
    const p95 = async (i: number) => {
      clockMs += 1_000;
      const a = parsePage((await request(u).get(`/replicas/${i}/metrics`)).text);
      clockMs += 100;
      const b = parsePage((await request(u).get(`/replicas/${i}/metrics`)).text);
      const w = windowOf(histogram(a, metric), histogram(b, metric));
      return histogramQuantile(0.95, w.bounds, w.cumulative);
    };
    const degraded = await p95(0);
    const healthy = await p95(1);
    expect(degraded).toBeGreaterThan(1.2 * healthy);
    await request(u).delete('/sim/v1/faults').expect(200);
    expect(await p95(0)).toBeLessThan(healthy);
  });
});

describe('config push latency (an engine restart)', () => {
  it('answers a revision change after the delay, a repeated revision at once', async () => {
    const { createFleetSimulator } = await import('../../../simulator/simulatedFleet');
    const fleet = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0, replicas: 1 }], applyDelayMs: 300 });
    try {
      const replica = fleet.deployments[0].replicaAddresses[0];
      const push = { revision: 'r1', engine_args: { max_num_seqs: 128 } };
      const t0 = Date.now();
      const first = await fetch(`${replica}/servetune/v1/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(push) });
      expect(first.status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      const t1 = Date.now();
      const again = await fetch(`${replica}/servetune/v1/config`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(push) });
      expect(again.status).toBe(200);
      expect(Date.now() - t1).toBeLessThan(250);
      expect(fleet.deployments[0].simulator.state().replicas[0].config_pushes).toBe(1);
    } finally {
      await fleet.close();
    }
  });
});
