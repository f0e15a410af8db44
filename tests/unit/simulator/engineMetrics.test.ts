import fs from 'fs';
import path from 'path';
import request from 'supertest';
import type { EngineType } from '../../../models';
import { adapterFor, UnsupportedEngineError } from '../../../metrics/engines/adapter';
import { scrapeTextToSample } from '../../../metrics/scrape';
import { TGI_DURATION_BUCKETS } from '../../../simulator/engines/tgiMetrics';
import { createFleetSimulator, type FleetSimulator } from '../../../simulator/simulatedFleet';
import { figuresOf } from '../../../simulator/figures';
import { histogramQuantile } from '../../../simulator/lognormal';
import { histogram, parsePage, value, windowOf, type Histogram, type Page } from './pages';

/** The TGI capture the exposition is modelled on (tests/fixtures/metrics). */
const TGI_FIXTURE = path.resolve(__dirname, '../../fixtures/metrics/tgi-datadog-integrations-core.prom');

let fleet: FleetSimulator;
let clockMs: number;
const url = (engine: EngineType) => fleet.deployments.find((d) => d.engine === engine)!.url;

beforeEach(async () => {
  clockMs = 1_000;
  fleet = await createFleetSimulator({
    deployments: [
      { engine: 'tgi', port: 0 },
      { engine: 'sglang', port: 0 },
    ],
    now: () => clockMs,
  });
});
afterEach(async () => {
  await fleet.close();
});

const rawPage = async (engine: EngineType, i: number): Promise<string> => {
  const res = await request(url(engine)).get(`/replicas/${i}/metrics`).expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
};
const scrape = async (engine: EngineType, i: number): Promise<Page> => parsePage(await rawPage(engine, i));

function expectWellFormed(h: Histogram): void {
  for (let i = 1; i < h.cumulative.length; i++) expect(h.cumulative[i]).toBeGreaterThanOrEqual(h.cumulative[i - 1]);
  expect(h.cumulative[h.cumulative.length - 1]).toBe(h.count);
  expect(h.count).toBeGreaterThan(0);
  expect(h.sum).toBeGreaterThan(0);
}

const p95 = (w: Histogram) => histogramQuantile(0.95, w.bounds, w.cumulative) * 1000;

describe('TGI replica /metrics page', () => {
  const TYPES: Record<string, string> = {
    tgi_request_success: 'counter',
    tgi_batch_concat: 'counter',
    tgi_request_count: 'counter',
    tgi_request_failure: 'counter',
    tgi_batch_inference_success: 'counter',
    tgi_batch_inference_count: 'counter',
    tgi_queue_size: 'gauge',
    tgi_batch_current_max_tokens: 'gauge',
    tgi_batch_current_size: 'gauge',
    tgi_batch_max_total_tokens: 'gauge',
    tgi_request_input_length: 'histogram',
    tgi_request_max_new_tokens: 'histogram',
    tgi_request_inference_duration: 'histogram',
    tgi_request_skipped_tokens: 'summary',
    tgi_batch_forward_duration: 'histogram',
    tgi_request_duration: 'histogram',
    tgi_request_validation_duration: 'histogram',
    tgi_request_queue_duration: 'histogram',
    tgi_batch_filter_duration: 'histogram',
    tgi_batch_inference_duration: 'histogram',
    tgi_request_mean_time_per_token_duration: 'histogram',
    tgi_batch_concat_duration: 'histogram',
    tgi_request_generated_tokens: 'histogram',
    tgi_batch_decode_duration: 'histogram',
    tgi_batch_next_size: 'histogram',
  };
  /** Families TGI never describes, so they carry no HELP line. */
  const NO_HELP = ['tgi_request_failure', 'tgi_batch_concat', 'tgi_batch_concat_duration', 'tgi_batch_max_total_tokens'];

  it('has TGI names and types (no _total), HELP where TGI describes the metric, and only method/err/reason labels', async () => {
    clockMs += 5_000;
    const page = await scrape('tgi', 0);
    expect(page.types).toEqual(TYPES);
    for (const name of Object.keys(TYPES)) {
      if (NO_HELP.includes(name)) expect(page.helps[name]).toBeUndefined();
      else expect(page.helps[name]).toBeTruthy();
    }
    expect(page.samples.some((s) => s.name.endsWith('_total'))).toBe(false);
    const labelNames = new Set(page.samples.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['err', 'le', 'method', 'quantile', 'reason']);
    for (const method of ['prefill', 'decode']) {
      expect(value(page, 'tgi_batch_inference_count', { method })).toBeGreaterThan(0);
    }
    // The default args queue behind the prefill budget: joins are mostly backpressure concats.
    expect(value(page, 'tgi_batch_concat', { reason: 'backpressure' })).toBeGreaterThan(value(page, 'tgi_batch_concat', { reason: 'wait_exceeded' }));
    expect(value(page, 'tgi_queue_size')).toBeGreaterThan(1);
    expect(value(page, 'tgi_batch_max_total_tokens')).toBeGreaterThan(50_000);
    const success = value(page, 'tgi_request_success');
    const failures = page.samples.filter((s) => s.name === 'tgi_request_failure').reduce((a, s) => a + s.value, 0);
    expect(success + failures).toBeCloseTo(value(page, 'tgi_request_count'), 6);
  });

  it('keeps the Rust exporter format: a blank line after every family, `le` last, Rust floats, buckets → _sum → _count', async () => {
    clockMs += 2_000;
    const text = await rawPage('tgi', 1);
    expect(text.endsWith('\n\n')).toBe(true);
    const blocks = text.slice(0, -2).split('\n\n');
    expect(blocks).toHaveLength(Object.keys(TYPES).length);
    for (const block of blocks) {
      const typeLines = block.split('\n').filter((l) => l.startsWith('# TYPE '));
      expect(typeLines).toHaveLength(1);
      expect(block.split('\n').every((l) => l !== '')).toBe(true);
    }
    expect(text).toContain('tgi_batch_inference_duration_bucket{method="prefill",le="0.00015000000000000001"}');
    expect(text).toMatch(/^tgi_batch_next_size_bucket\{le="128"\} /m); // no ".0"
    expect(text).toMatch(/^tgi_request_count \d+(\.\d+)?$/m);
    expect(text).not.toMatch(/e[+-]\d/); // Rust never prints exponents
    const lines = text.split('\n');
    const first = lines.findIndex((l) => l.startsWith('tgi_request_duration_bucket'));
    const sumAt = lines.findIndex((l) => l.startsWith('tgi_request_duration_sum'));
    const countAt = lines.findIndex((l) => l.startsWith('tgi_request_duration_count'));
    expect(lines[sumAt - 1]).toMatch(/^tgi_request_duration_bucket\{le="\+Inf"\}/);
    expect(first).toBeLessThan(sumAt);
    expect(countAt).toBe(sumAt + 1);
  });

  it('duration histograms use the 35 geometric buckets exactly as TGI prints them; token buckets follow the launch limits', async () => {
    clockMs += 2_000;
    const page = await scrape('tgi', 2);
    const fixtureLes = [...fs.readFileSync(TGI_FIXTURE, 'utf8').matchAll(/^tgi_request_queue_duration_bucket\{le="([^"]+)"\}/gm)].map((m) => m[1]);
    expect(fixtureLes).toHaveLength(36);
    expect(TGI_DURATION_BUCKETS).toHaveLength(35);
    for (const [name, labels] of [
      ['tgi_request_duration', {}],
      ['tgi_request_queue_duration', {}],
      ['tgi_request_mean_time_per_token_duration', {}],
      ['tgi_batch_inference_duration', { method: 'prefill' }],
      ['tgi_batch_inference_duration', { method: 'decode' }],
      ['tgi_batch_forward_duration', { method: 'decode' }],
    ] as const) {
      const h = histogram(page, name, labels);
      expect(h.les).toEqual(fixtureLes);
      expectWellFormed(h);
    }
    const input = histogram(page, 'tgi_request_input_length');
    expect(input.bounds).toHaveLength(100);
    expect(input.les.slice(0, 3)).toEqual(['40.95', '81.9', '122.85000000000001']);
    expectWellFormed(input);
    expect(histogram(page, 'tgi_request_generated_tokens').les[99]).toBe('4096');
    const next = histogram(page, 'tgi_batch_next_size');
    expect(next.bounds).toEqual(Array.from({ length: 1024 }, (_, i) => i + 1));
    expectWellFormed(next);
    const skipped = page.samples.filter((s) => s.name === 'tgi_request_skipped_tokens');
    expect(skipped.map((s) => s.labels.quantile)).toEqual(['0', '0.5', '0.9', '0.95', '0.99', '0.999', '1']);
  });

  it('a fresh replica registers series lazily: gauges only until traffic has been served', async () => {
    const page = await scrape('tgi', 3);
    expect(Object.keys(page.types).sort()).toEqual(['tgi_batch_current_max_tokens', 'tgi_batch_current_size', 'tgi_batch_max_total_tokens', 'tgi_queue_size']);
  });

  it('grows with the injected clock: counters by rate × dt, histogram windows give the modelled p95s', async () => {
    const p0 = await scrape('tgi', 4);
    clockMs += 1_000;
    const p1 = await scrape('tgi', 4);
    clockMs += 50;
    const p2 = await scrape('tgi', 4);
    const perf = fleet.deployments.find((d) => d.engine === 'tgi')!.simulator.performanceOf(4);
    expect(value(p2, 'tgi_request_count')).toBeCloseTo((1.05 * perf.offered_rps), 6);
    // Generated tokens are credited per successful request (the histogram's sum).
    const ok = perf.offered_rps * (1 - perf.error_fraction);
    const perRequest = perf.generation_tokens_per_second / perf.served_rps;
    expect(value(p2, 'tgi_request_generated_tokens_sum') - value(p1, 'tgi_request_generated_tokens_sum')).toBeCloseTo(0.05 * ok * perRequest, 6);
    const f = figuresOf(perf);
    const w = (name: string) => windowOf(histogram(p1, name), histogram(p2, name));
    expect(w('tgi_request_duration').count).toBeCloseTo(0.05 * perf.offered_rps * (1 - perf.error_fraction), 9);
    expect(p95(w('tgi_request_mean_time_per_token_duration'))).toBeGreaterThan(0.8 * f.itl_p95_ms);
    expect(p95(w('tgi_request_mean_time_per_token_duration'))).toBeLessThan(1.25 * f.itl_p95_ms);
    expect(p95(w('tgi_request_duration'))).toBeGreaterThan(0.8 * f.e2e_p95_ms);
    expect(p95(w('tgi_request_duration'))).toBeLessThan(1.25 * f.e2e_p95_ms);
    expect(p0.types.tgi_request_count).toBeUndefined();
  });

  it('parses with the project parser and, through the TGI adapter, yields counters, gauges and histograms', async () => {
    clockMs += 3_000;
    const text = await rawPage('tgi', 5);
    expect(() => parsePage(text)).not.toThrow();
    let adapterReady = true;
    try {
      adapterFor('tgi');
    } catch (err) {
      if (!(err instanceof UnsupportedEngineError)) throw err;
      adapterReady = false;
    }
    if (!adapterReady) return;
    const sample = scrapeTextToSample('tgi', text, Date.now());
    expect(sample.counters.requests_total).toBeGreaterThan(0);
    expect(sample.counters.request_errors_total).toBeGreaterThan(0);
    expect(sample.counters.generation_tokens_total).toBeGreaterThan(0);
    expect(sample.gauges.requests_waiting).toBeGreaterThan(0);
    expect(sample.histograms.itl_seconds?.count).toBeGreaterThan(0);
    expect(sample.histograms.e2e_seconds?.count).toBeGreaterThan(0);
  });
});

describe('SGLang replica /metrics page', () => {
  const SCHEDULER = { engine_type: 'unified', model_name: 'meta-llama/Llama-3.1-8B-Instruct', moe_ep_rank: '0', pp_rank: '0', tp_rank: '0' };
  const TOKENIZER = { model_name: 'meta-llama/Llama-3.1-8B-Instruct' };
  const HISTOGRAMS: Record<string, number[]> = {
    'sglang:time_to_first_token_seconds': [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400],
    'sglang:inter_token_latency_seconds': [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8],
    'sglang:e2e_request_latency_seconds': [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400],
    'sglang:num_retractions': [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 75, 100],
    'sglang:queue_time_seconds': [0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000],
  };
  const COUNTERS = [
    'sglang:prompt_tokens_total',
    'sglang:generation_tokens_total',
    'sglang:cached_tokens_total',
    'sglang:num_requests_total',
    'sglang:num_aborted_requests_total',
    'sglang:num_retracted_requests_total',
    'sglang:num_retracted_input_tokens_total',
    'sglang:num_retracted_output_tokens_total',
  ];
  const GAUGES = [
    'sglang:num_running_reqs',
    'sglang:num_used_tokens',
    'sglang:token_usage',
    'sglang:decode_sum_seq_lens',
    'sglang:gen_throughput',
    'sglang:num_queue_reqs',
    'sglang:num_grammar_queue_reqs',
    'sglang:cache_hit_rate',
    'sglang:max_total_num_tokens',
    'sglang:num_retracted_reqs',
    'sglang:new_token_ratio',
    'sglang:is_cuda_graph',
  ];

  it('has the collector.py names, types and HELP, tokenizer vs scheduler label sets', async () => {
    clockMs += 5_000;
    const page = await scrape('sglang', 0);
    expect(page.types).toEqual({
      ...Object.fromEntries(COUNTERS.map((c) => [c, 'counter'])),
      ...Object.fromEntries(GAUGES.map((g) => [g, 'gauge'])),
      ...Object.fromEntries(Object.keys(HISTOGRAMS).map((h) => [h, 'histogram'])),
    });
    for (const name of Object.keys(page.types)) expect(page.helps[name]).toBeTruthy();
    for (const s of page.samples) {
      const { le, pid, ...rest } = s.labels;
      expect(pid === undefined || s.name === 'sglang:num_retracted_reqs').toBe(true);
      const scheduler = GAUGES.includes(s.name) || s.name.startsWith('sglang:num_retracted_') || s.name.startsWith('sglang:queue_time_seconds');
      expect(rest).toEqual(scheduler ? SCHEDULER : TOKENIZER);
      void le;
    }
    expect(value(page, 'sglang:token_usage')).toBeGreaterThan(0.5);
    expect(value(page, 'sglang:token_usage')).toBeLessThan(1);
    expect(value(page, 'sglang:cache_hit_rate')).toBeCloseTo(0.5, 2);
    expect(value(page, 'sglang:num_retracted_requests_total')).toBeGreaterThan(0);
    expect(value(page, 'sglang:new_token_ratio')).toBeGreaterThan(0.098);
  });

  it('writes prometheus_client multiprocess output: sorted labels, _sum → buckets → _count, Go-style floats', async () => {
    clockMs += 1_200_000;
    const text = await rawPage('sglang', 1);
    const lines = text.split('\n');
    const sumAt = lines.findIndex((l) => l.startsWith('sglang:time_to_first_token_seconds_sum'));
    expect(lines[sumAt - 1]).toBe('# TYPE sglang:time_to_first_token_seconds histogram');
    expect(lines[sumAt + 1]).toMatch(/^sglang:time_to_first_token_seconds_bucket\{le="0\.1",model_name=/);
    const countAt = lines.findIndex((l) => l.startsWith('sglang:time_to_first_token_seconds_count'));
    expect(lines[countAt - 1]).toMatch(/le="\+Inf"/);
    expect(text).toMatch(/sglang:num_running_reqs\{engine_type="unified",model_name="[^"]+",moe_ep_rank="0",pp_rank="0",tp_rank="0"\} /);
    expect(text).toMatch(/^sglang:max_total_num_tokens\{[^}]+\} \d+\.0$/m);
    // Twenty minutes of prompt tokens pass a million: prometheus_client prints 1.23e+06, not 1230000.0.
    expect(text).toMatch(/^sglang:prompt_tokens_total\{[^}]+\} \d\.\d+e\+06$/m);
    expect(text).not.toContain('\n\n');
    expect(text).not.toMatch(/^(process_|python_)/m);
  });

  it('histograms have the real buckets, cumulative counts and +Inf = _count', async () => {
    clockMs += 5_000;
    const page = await scrape('sglang', 2);
    for (const [name, bounds] of Object.entries(HISTOGRAMS)) {
      const h = histogram(page, name);
      expect(h.bounds).toEqual(bounds);
      for (let i = 1; i < h.cumulative.length; i++) expect(h.cumulative[i]).toBeGreaterThanOrEqual(h.cumulative[i - 1]);
      expect(h.cumulative[h.cumulative.length - 1]).toBe(h.count);
      expect(h.count).toBeGreaterThan(0);
    }
    // Retractions per request are counts: most requests see none.
    const r = histogram(page, 'sglang:num_retractions');
    expect(r.cumulative[0] / r.count).toBeGreaterThan(0.95);
  });

  it('grows with the injected clock and a 50 ms window gives the modelled TTFT and ITL p95', async () => {
    const p0 = await scrape('sglang', 3);
    expect(p0.types['sglang:num_requests_total']).toBeUndefined(); // lazily registered
    clockMs += 1_000;
    const p1 = await scrape('sglang', 3);
    clockMs += 50;
    const p2 = await scrape('sglang', 3);
    const perf = fleet.deployments.find((d) => d.engine === 'sglang')!.simulator.performanceOf(3);
    const f = figuresOf(perf);
    expect(value(p2, 'sglang:num_requests_total') - value(p1, 'sglang:num_requests_total')).toBeCloseTo(0.05 * perf.offered_rps, 9);
    const aborted = value(p2, 'sglang:num_aborted_requests_total') - value(p1, 'sglang:num_aborted_requests_total');
    expect(aborted / (0.05 * perf.offered_rps)).toBeCloseTo(perf.error_fraction, 9);
    const w = (name: string) => windowOf(histogram(p1, name), histogram(p2, name));
    expect(p95(w('sglang:time_to_first_token_seconds'))).toBeGreaterThan(0.8 * f.ttft_p95_ms);
    expect(p95(w('sglang:time_to_first_token_seconds'))).toBeLessThan(1.25 * f.ttft_p95_ms);
    expect(p95(w('sglang:inter_token_latency_seconds'))).toBeGreaterThan(0.8 * f.itl_p95_ms);
    expect(p95(w('sglang:inter_token_latency_seconds'))).toBeLessThan(1.25 * f.itl_p95_ms);
    // e2e buckets are coarse (20, 40 s): the p95 lands in the right bucket.
    const e2e = p95(w('sglang:e2e_request_latency_seconds')) / 1000;
    expect(e2e).toBeGreaterThan(20);
    expect(e2e).toBeLessThanOrEqual(40);
    expect(f.e2e_p95_ms / 1000).toBeGreaterThan(20);
  });

  it('parses with the project parser and, through the SGLang adapter, yields counters, gauges and histograms', async () => {
    clockMs += 3_000;
    const text = await rawPage('sglang', 4);
    expect(() => parsePage(text)).not.toThrow();
    let adapterReady = true;
    try {
      adapterFor('sglang');
    } catch (err) {
      if (!(err instanceof UnsupportedEngineError)) throw err;
      adapterReady = false;
    }
    if (!adapterReady) return;
    const sample = scrapeTextToSample('sglang', text, Date.now());
    expect(sample.counters.requests_total).toBeGreaterThan(0);
    expect(sample.counters.request_errors_total).toBeGreaterThan(0);
    expect(sample.counters.preemptions_total).toBeGreaterThan(0);
    expect(sample.counters.prefix_cache_hits_total).toBeGreaterThan(0);
    expect(sample.gauges.kv_cache_usage).toBeGreaterThan(0.5);
    expect(sample.histograms.ttft_seconds?.count).toBeGreaterThan(0);
    expect(sample.histograms.itl_seconds?.count).toBeGreaterThan(0);
    expect(sample.histograms.e2e_seconds?.count).toBeGreaterThan(0);
  });
});
