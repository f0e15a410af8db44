import request from 'supertest';
import { createFleetSimulator, type FleetSimulator } from '../../../simulator/simulatedFleet';
import { figuresOf } from '../../../simulator/figures';
import { histogramQuantile } from '../../../simulator/lognormal';
import { histogram, parsePage, value, windowOf, type Page } from './pages';

const MODEL = { model_name: 'meta-llama/Llama-3.1-8B-Instruct', engine: '0' };
const HISTOGRAMS: Record<string, number[]> = {
  'vllm:time_to_first_token_seconds': [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560],
  'vllm:inter_token_latency_seconds': [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
  'vllm:e2e_request_latency_seconds': [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
  'vllm:request_queue_time_seconds': [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
};
const COUNTERS = [
  'vllm:num_preemptions_total',
  'vllm:prompt_tokens_total',
  'vllm:generation_tokens_total',
  'vllm:prefix_cache_queries_total',
  'vllm:prefix_cache_hits_total',
];

let fleet: FleetSimulator;
let url: string;
let clockMs: number;

beforeEach(async () => {
  clockMs = 1_000;
  fleet = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0 }], now: () => clockMs });
  url = fleet.deployments[0].url;
});
afterEach(async () => {
  await fleet.close();
});

const scrape = async (i: number): Promise<Page> => {
  const res = await request(url).get(`/replicas/${i}/metrics`).expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePage(res.text);
};

describe('replica /metrics page', () => {
  it('has vLLM V1 names, types, HELP lines and labels', async () => {
    clockMs += 5_000;
    const page = await scrape(0);
    const expectedTypes: Record<string, string> = {
      'vllm:num_requests_running': 'gauge',
      'vllm:num_requests_waiting': 'gauge',
      'vllm:kv_cache_usage_perc': 'gauge',
      'vllm:cache_config_info': 'gauge',
      'vllm:request_success_total': 'counter',
      ...Object.fromEntries(COUNTERS.map((c) => [c, 'counter'])),
      ...Object.fromEntries(Object.keys(HISTOGRAMS).map((h) => [h, 'histogram'])),
    };
    expect(page.types).toEqual(expectedTypes);
    for (const name of Object.keys(expectedTypes)) expect(page.helps[name]).toBeTruthy();
    for (const s of page.samples.filter((x) => x.name !== 'vllm:cache_config_info')) {
      expect(s.labels).toMatchObject(MODEL);
    }
    const kv = value(page, 'vllm:kv_cache_usage_perc');
    expect(kv).toBeGreaterThan(0.9);
    expect(kv).toBeLessThanOrEqual(1);
    for (const reason of ['stop', 'length', 'abort']) {
      expect(value(page, 'vllm:request_success_total', { finished_reason: reason })).toBeGreaterThan(0);
    }
    const info = page.samples.find((s) => s.name === 'vllm:cache_config_info')!;
    expect(info.value).toBe(1);
    expect(info.labels).toMatchObject({
      engine: '0',
      gpu_memory_utilization: '0.9',
      enable_prefix_caching: 'False',
      block_size: '16',
      cache_dtype: 'auto',
    });
    expect(Number(info.labels.num_gpu_blocks)).toBeGreaterThan(1000);
  });

  it('histograms have the real bucket bounds, non-decreasing cumulative counts and +Inf = _count', async () => {
    clockMs += 2_000;
    const page = await scrape(1);
    for (const [name, bounds] of Object.entries(HISTOGRAMS)) {
      const h = histogram(page, name);
      expect(h.bounds).toEqual(bounds);
      for (let i = 1; i < h.cumulative.length; i++) expect(h.cumulative[i]).toBeGreaterThanOrEqual(h.cumulative[i - 1]);
      expect(h.cumulative[h.cumulative.length - 1]).toBe(h.count);
      expect(h.count).toBeGreaterThan(0);
      expect(h.sum).toBeGreaterThan(0);
    }
  });

  it('counters and histograms grow exactly with the injected clock, not with wall time', async () => {
    const p0 = await scrape(2);
    const again = await scrape(2);
    expect(value(again, 'vllm:prompt_tokens_total')).toBe(value(p0, 'vllm:prompt_tokens_total'));
    clockMs += 1_000;
    const p1 = await scrape(2);
    const perf = fleet.deployments[0].simulator.performanceOf(2);
    expect(value(p1, 'vllm:prompt_tokens_total') - value(p0, 'vllm:prompt_tokens_total')).toBeCloseTo(perf.prompt_tokens_per_second, 6);
    expect(value(p1, 'vllm:num_preemptions_total') - value(p0, 'vllm:num_preemptions_total')).toBeCloseTo(perf.preemptions_per_second, 9);
    const ttft = windowOf(histogram(p0, 'vllm:time_to_first_token_seconds'), histogram(p1, 'vllm:time_to_first_token_seconds'));
    expect(ttft.count).toBeCloseTo(perf.served_rps, 9);
    clockMs += 3_000;
    const p2 = await scrape(2);
    for (const c of ['vllm:prompt_tokens_total', 'vllm:generation_tokens_total', 'vllm:num_preemptions_total']) {
      const d1 = value(p1, c) - value(p0, c);
      const d2 = value(p2, c) - value(p1, c);
      expect(d2).toBeCloseTo(3 * d1, 6);
    }
  });

  it('a 20 ms window already gives the modelled rates and p95s', async () => {
    const p0 = await scrape(3);
    clockMs += 20;
    const p1 = await scrape(3);
    const perf = fleet.deployments[0].simulator.performanceOf(3);
    const f = figuresOf(perf);
    const q95 = (name: string) => {
      const w = windowOf(histogram(p0, name), histogram(p1, name));
      expect(w.count).toBeGreaterThan(0);
      return histogramQuantile(0.95, w.bounds, w.cumulative) * 1000;
    };
    // Bucket interpolation is coarse; the analytic p95 must be recovered within the bucket's resolution.
    expect(q95('vllm:time_to_first_token_seconds')).toBeGreaterThan(0.8 * f.ttft_p95_ms);
    expect(q95('vllm:time_to_first_token_seconds')).toBeLessThan(1.25 * f.ttft_p95_ms);
    expect(q95('vllm:inter_token_latency_seconds')).toBeGreaterThan(0.8 * f.itl_p95_ms);
    expect(q95('vllm:inter_token_latency_seconds')).toBeLessThan(1.25 * f.itl_p95_ms);
    expect(q95('vllm:e2e_request_latency_seconds')).toBeGreaterThan(0.8 * f.e2e_p95_ms);
    expect(q95('vllm:e2e_request_latency_seconds')).toBeLessThan(1.25 * f.e2e_p95_ms);
    const gen = (value(p1, 'vllm:generation_tokens_total') - value(p0, 'vllm:generation_tokens_total')) / 0.02;
    expect(gen).toBeCloseTo(perf.generation_tokens_per_second, 3);
    const ok = ['stop', 'length'].reduce((a, r) => a + value(p1, 'vllm:request_success_total', { finished_reason: r }) - value(p0, 'vllm:request_success_total', { finished_reason: r }), 0);
    const abort = value(p1, 'vllm:request_success_total', { finished_reason: 'abort' }) - value(p0, 'vllm:request_success_total', { finished_reason: 'abort' });
    expect(abort / (ok + abort)).toBeCloseTo(perf.error_fraction, 9);
  });

  it('a config push changes the rates from that moment on, and the page reflects the new cache config', async () => {
    const p0 = await scrape(4);
    clockMs += 1_000;
    await request(url)
      .put('/replicas/4/servetune/v1/config')
      .send({ revision: 'tuned', engine_args: { gpu_memory_utilization: 0.95, enable_prefix_caching: true } })
      .expect(200);
    clockMs += 1_000;
    const p1 = await scrape(4);
    const hits = value(p1, 'vllm:prefix_cache_hits_total') - value(p0, 'vllm:prefix_cache_hits_total');
    const perf = fleet.deployments[0].simulator.performanceOf(4);
    // Only the second (post-push) second had prefix caching on.
    expect(hits).toBeCloseTo(perf.prefix_cache_hits_per_second, 6);
    expect(value(p1, 'vllm:kv_cache_usage_perc')).toBeLessThan(0.6);
    const info = p1.samples.find((s) => s.name === 'vllm:cache_config_info')!;
    expect(info.labels).toMatchObject({ gpu_memory_utilization: '0.95', enable_prefix_caching: 'True' });
  });

  it('PUT load changes the metrics: no traffic, no growth', async () => {
    await request(url).put('/sim/v1/load').send({ requests_per_second: 0, prompt_tokens: 100, output_tokens: 10, shared_prefix_fraction: 0 }).expect(200);
    const p0 = await scrape(5);
    clockMs += 10_000;
    const p1 = await scrape(5);
    expect(value(p1, 'vllm:prompt_tokens_total')).toBe(value(p0, 'vllm:prompt_tokens_total'));
    expect(value(p1, 'vllm:num_requests_running')).toBe(0);
    expect(value(p1, 'vllm:kv_cache_usage_perc')).toBe(0);
  });
});
