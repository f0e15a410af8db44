import { SnapshotSchema } from '../../../models/snapshot';
import { EngineSample, EngineSampleSchema, adapterFor, mergeSamples, parsePrometheusText, scrapeTextToSample, snapshotBetween, snapshotOf } from '../../../metrics';
import { ELIDED_PAGE, listFixturePages, readFixturePage, withoutElisions } from './fixturePages';

const AT = 1_750_000_000_000;
const read = (rel: string): EngineSample => scrapeTextToSample('sglang', readFixturePage(rel), AT);
const bucketAt = (h: EngineSample['histograms']['e2e_seconds'], le: number) => h?.counts[h.bounds.indexOf(le)];
/** PromQL-style linear interpolation inside a bucket. */
const interp = (lo: number, hi: number, below: number, upTo: number, rank: number) => lo + (hi - lo) * ((rank - below) / (upTo - below));

/** Expected readings, with numbers taken from each SGLang page. */
const EXPECTED: Record<string, (s: EngineSample) => void> = {
  'sglang-docs-nov2024-single-request.prom': (s) => {
    // one request, 7 prompt / 8 generated tokens; no num_requests_total yet → e2e _count
    expect(s.counters).toEqual({ requests_total: 1, generation_tokens_total: 8, prompt_tokens_total: 7 });
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0, kv_cache_usage: 0, prefix_cache_hit_rate: 0 });
    expect(s.histograms.ttft_seconds).toMatchObject({ count: 1, sum: 0.30457592010498047 });
    expect(s.histograms.ttft_seconds!.bounds).toEqual([0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 15, 20, 25, 30]);
    expect(s.histograms.itl_seconds).toMatchObject({ count: 1, sum: 0.0381757915019989 }); // old name time_per_output_token_seconds
    expect(s.histograms.e2e_seconds).toMatchObject({ count: 1, sum: 0.30521273612976074 });
    const snap = snapshotOf(s);
    expect(snap.ttft_p50_ms).toBeCloseTo(375, 9); // 0.305 s in (0.25,0.5]
    expect(snap.itl_p50_ms).toBeCloseTo(35, 9); // 0.038 s in (0.03,0.04]
    expect(snap.e2e_p95_ms).toBeCloseTo(490, 9); // 0.305 s in (0.3,0.5]
    expect(snap.prefix_cache_hit_rate).toBe(0); // from the gauge: no counters on this version
    expect(snap.error_rate).toBeNull(); // no abort counter on this version: unknown, not 0
  },
  'sglang-docs-feb2025-llama31-8b.prom': (s) => {
    expect(s.counters).toEqual({ requests_total: 11228, generation_tokens_total: 7557572, prompt_tokens_total: 8128902 });
    expect(s.gauges).toEqual({ requests_running: 162, requests_waiting: 2826, kv_cache_usage: 0.28, prefix_cache_hit_rate: 0.007507552643049313 });
    const ttft = s.histograms.ttft_seconds!;
    expect(ttft).toMatchObject({ count: 11008, sum: 2.3518979474117756e6 });
    expect([bucketAt(ttft, 1), bucketAt(ttft, 10), bucketAt(ttft, 30)]).toEqual([27, 1330, 2513]);
    const itl = s.histograms.itl_seconds!;
    expect(itl).toMatchObject({ count: 7400757, sum: 866964.5791549598 });
    expect([bucketAt(itl, 0.075), bucketAt(itl, 0.1), bucketAt(itl, 0.15)]).toEqual([433413, 4950195, 7039435]);
    expect(s.histograms.e2e_seconds).toMatchObject({ count: 11228, sum: 3.116093850019932e6 });
    expect(bucketAt(s.histograms.e2e_seconds, 60)).toBe(1513);

    const snap = snapshotOf(s);
    // Overloaded server (2,826 queued): 77% of TTFTs and 87% of e2e latencies are past the top
    // bucket, so the quantiles read as that bound (PromQL semantics), i.e. "at least 30 s / 60 s".
    expect([snap.ttft_p50_ms, snap.ttft_p95_ms, snap.ttft_p99_ms, snap.e2e_p95_ms]).toEqual([30000, 30000, 30000, 60000]);
    expect(snap.itl_p50_ms).toBeCloseTo(1000 * interp(0.075, 0.1, 433413, 4950195, 0.5 * 7400757), 9);
    expect(snap.itl_p95_ms).toBeCloseTo(1000 * interp(0.1, 0.15, 4950195, 7039435, 0.95 * 7400757), 9);
    expect(snap.prefix_cache_hit_rate).toBe(0.007507552643049313);
    expect(snap.error_rate).toBeNull();
  },
  'edited/sglang-datadog-trimmed-fixture.prom': (s) => {
    // Hand-edited: one finite bucket per histogram, tp_rank on tokenizer counters. Parser input only.
    expect(s.counters).toEqual({
      requests_total: 1,
      generation_tokens_total: 32,
      prompt_tokens_total: 5,
      prefix_cache_queries_total: 5, // prompt_tokens_total
      prefix_cache_hits_total: 1, // cached_tokens_total
    });
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0, kv_cache_usage: 0.25, prefix_cache_hit_rate: 0.2 });
    expect(s.histograms).toEqual({
      ttft_seconds: { bounds: [0.1], counts: [1], count: 1, sum: 0.02 },
      itl_seconds: { bounds: [0.01], counts: [31], count: 31, sum: 0.05 },
      e2e_seconds: { bounds: [0.1], counts: [1], count: 1, sum: 0.07 },
    });
    const snap = snapshotOf(s);
    expect(snap.prefix_cache_hit_rate).toBe(0.2); // 1 / 5 from the counters
    expect(snap.ttft_p95_ms).toBeCloseTo(95, 9);
    expect(snap.itl_p95_ms).toBeCloseTo(9.5, 9);
  },
  'fragments/sglang-pr1853-nov2024-llama32-3b-fragment.prom': (s) => {
    // first merged version, label `name`; the excerpt holds config gauges and one counter
    expect(s.counters).toEqual({ prompt_tokens_total: 230794 });
    expect(s.gauges).toEqual({});
    expect(s.histograms).toEqual({});
  },
  'fragments/sglang-pr4412-mar2025-llama3-8b-fragment.prom': (s) => {
    // scheduler gauges with engine_type="unified"
    expect(s.counters).toEqual({});
    expect(s.gauges).toEqual({ requests_running: 0, kv_cache_usage: 0 });
  },
  'fragments/sglang-pr7944-jul2025-deepseek-r1-fragment.prom': (s) => {
    // cached_tokens_total 2688 is on the excerpt, prompt_tokens_total is not: no hit/query pair
    expect(s.counters).toEqual({ requests_total: 217, request_errors_total: 157 });
    expect(s.gauges).toEqual({ requests_running: 0, kv_cache_usage: 0 });
    const snap = snapshotOf(s);
    expect(snap.error_rate).toBeCloseTo(157 / 217, 12);
    expect(snap.prefix_cache_hit_rate).toBeNull();
  },
};

describe('SGLang adapter over the SGLang fixture pages', () => {
  const pages = listFixturePages().filter((p) => p.split('/').pop()?.startsWith('sglang-'));

  it('has an expectation for every SGLang page', () => {
    expect(pages.length).toBeGreaterThanOrEqual(6);
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

  it("reads nothing from other engines' pages", () => {
    for (const rel of listFixturePages().filter((p) => !p.split('/').pop()?.startsWith('sglang-'))) {
      const text = rel === ELIDED_PAGE ? withoutElisions(readFixturePage(rel)) : readFixturePage(rel);
      const s = scrapeTextToSample('sglang', text, AT);
      expect([rel, s.counters, s.gauges, s.histograms]).toEqual([rel, {}, {}, {}]);
    }
  });

  it('is what adapterFor("sglang") returns', () => {
    const text = readFixturePage('sglang-docs-feb2025-llama31-8b.prom');
    expect(adapterFor('sglang').engine).toBe('sglang');
    expect(adapterFor('sglang').toSample(parsePrometheusText(text), AT)).toEqual(read('sglang-docs-feb2025-llama31-8b.prom'));
    expect(() => adapterFor('sglang').toSample([], NaN)).toThrow(RangeError);
  });
});

/**
 * A late-2025 style page: DP attention with two data-parallel ranks, every TP rank reporting
 * (`--enable-metrics-for-all-schedulers`), tokenizer metrics split by an extra label.
 */
function currentPage(o: { finished: number; aborted?: number; retracted: number; cachedDevice: number; prompt: number; generated: number; itl: [number, number, number] }): string {
  const sched = (dp: number, tp: number) => `dp_rank="${dp}",engine_type="unified",model_name="m",moe_ep_rank="0",pp_rank="0",tp_rank="${tp}"`;
  const lines = [
    '# TYPE sglang:num_running_reqs gauge',
    `sglang:num_running_reqs{${sched(0, 0)}} 10.0`,
    `sglang:num_running_reqs{${sched(0, 1)}} 10.0`,
    `sglang:num_running_reqs{${sched(1, 2)}} 6.0`,
    `sglang:num_running_reqs{${sched(1, 3)}} 6.0`,
    '# TYPE sglang:num_queue_reqs gauge',
    `sglang:num_queue_reqs{${sched(0, 0)}} 3.0`,
    `sglang:num_queue_reqs{${sched(0, 1)}} 3.0`,
    `sglang:num_queue_reqs{${sched(1, 2)}} 1.0`,
    `sglang:num_queue_reqs{${sched(1, 3)}} 1.0`,
    '# TYPE sglang:token_usage gauge',
    `sglang:token_usage{${sched(0, 0)}} 0.9`,
    `sglang:token_usage{${sched(0, 1)}} 0.9`,
    `sglang:token_usage{${sched(1, 2)}} 0.5`,
    `sglang:token_usage{${sched(1, 3)}} 0.5`,
    '# TYPE sglang:kv_cache_usage_perc gauge',
    `sglang:kv_cache_usage_perc{${sched(0, 0)}} 0.95`,
    `sglang:kv_cache_usage_perc{${sched(1, 2)}} 0.55`,
    '# TYPE sglang:cache_hit_rate gauge',
    `sglang:cache_hit_rate{${sched(0, 0)}} 0.9`,
    `sglang:cache_hit_rate{${sched(1, 2)}} 0.7`,
    '# TYPE sglang:num_retracted_requests_total counter',
    `sglang:num_retracted_requests_total{${sched(0, 0)}} ${o.retracted}`,
    `sglang:num_retracted_requests_total{${sched(0, 1)}} ${o.retracted}`,
    '# TYPE sglang:num_requests_total counter',
    `sglang:num_requests_total{model_name="m",request_type="chat"} ${o.finished - 10}`,
    `sglang:num_requests_total{model_name="m",request_type="completion"} 10.0`,
    '# TYPE sglang:prompt_tokens_total counter',
    `sglang:prompt_tokens_total{model_name="m"} ${o.prompt}`,
    '# TYPE sglang:generation_tokens_total counter',
    `sglang:generation_tokens_total{model_name="m"} ${o.generated}`,
    '# TYPE sglang:cached_tokens_total counter',
    `sglang:cached_tokens_total{cache_source="device",model_name="m"} ${o.cachedDevice}`,
    `sglang:cached_tokens_total{cache_source="storage",model_name="m"} 100.0`,
    ...(o.aborted === undefined ? [] : ['# TYPE sglang:num_aborted_requests_total counter', `sglang:num_aborted_requests_total{model_name="m"} ${o.aborted}`]),
    '# TYPE sglang:inter_token_latency_seconds histogram',
    `sglang:inter_token_latency_seconds_sum{model_name="m"} 1.0`,
    `sglang:inter_token_latency_seconds_bucket{le="0.02",model_name="m"} ${o.itl[0]}`,
    `sglang:inter_token_latency_seconds_bucket{le="0.04",model_name="m"} ${o.itl[1]}`,
    `sglang:inter_token_latency_seconds_bucket{le="+Inf",model_name="m"} ${o.itl[2]}`,
    `sglang:inter_token_latency_seconds_count{model_name="m"} ${o.itl[2]}`,
    '# TYPE sglang:time_per_output_token_seconds histogram',
    `sglang:time_per_output_token_seconds_bucket{le="9",model_name="m"} 1`,
    `sglang:time_per_output_token_seconds_bucket{le="+Inf",model_name="m"} 1`,
    '',
  ];
  return lines.join('\n');
}

describe('SGLang adapter on synthetic pages', () => {
  const base = { finished: 100, aborted: 4, retracted: 2, cachedDevice: 900, prompt: 4000, generated: 20000, itl: [100, 180, 200] as [number, number, number] };

  it('counts a reading repeated per TP rank once, sums data-parallel ranks and extra labels', () => {
    const s = scrapeTextToSample('sglang', currentPage(base), AT);
    expect(s.counters).toEqual({
      requests_total: 100, // chat 90 + completion 10
      request_errors_total: 4,
      preemptions_total: 2, // two TP ranks report the same 2 retractions
      generation_tokens_total: 20000,
      prompt_tokens_total: 4000,
      prefix_cache_queries_total: 4000,
      prefix_cache_hits_total: 1000, // device 900 + storage 100
    });
    expect(s.gauges.requests_running).toBe(16); // dp0 10 (×2 TP ranks) + dp1 6
    expect(s.gauges.requests_waiting).toBe(4);
    expect(s.gauges.kv_cache_usage).toBeCloseTo(0.75, 12); // kv_cache_usage_perc wins over token_usage; mean of the DP ranks
    expect(s.gauges.prefix_cache_hit_rate).toBeCloseTo(0.8, 12);
    expect(s.histograms.itl_seconds).toEqual({ bounds: [0.02, 0.04], counts: [100, 180], count: 200, sum: 1 }); // new name wins
  });

  it('prefers the counters over the cache_hit_rate gauge, and uses the gauge when the counters are missing', () => {
    const s = scrapeTextToSample('sglang', currentPage(base), AT);
    expect(snapshotOf(s).prefix_cache_hit_rate).toBe(0.25);
    const noCached = currentPage(base).split('\n').filter((l) => !l.includes('cached_tokens_total')).join('\n');
    const g = scrapeTextToSample('sglang', noCached, AT);
    expect(g.counters.prefix_cache_hits_total).toBeUndefined();
    expect(snapshotOf(g).prefix_cache_hit_rate).toBeCloseTo(0.8, 12);
    expect(snapshotBetween(g, { ...g, at_ms: AT + 5000 }).prefix_cache_hit_rate).toBeCloseTo(0.8, 12);
    expect(mergeSamples([g, { ...g, gauges: { ...g.gauges, prefix_cache_hit_rate: 0.2 } }]).gauges.prefix_cache_hit_rate).toBeCloseTo(0.5, 12);
  });

  it('leaves errors unknown, not 0, without an abort counter', () => {
    const s = scrapeTextToSample('sglang', currentPage({ ...base, aborted: undefined }), AT);
    expect(s.counters.request_errors_total).toBeUndefined();
    expect(snapshotOf(s).error_rate).toBeNull();
  });

  it('rejects out-of-range fractions and non-finite readings', () => {
    const text = '# TYPE sglang:token_usage gauge\nsglang:token_usage{model_name="m"} 1.5\n# TYPE sglang:cache_hit_rate gauge\nsglang:cache_hit_rate{model_name="m"} -1\n# TYPE sglang:num_running_reqs gauge\nsglang:num_running_reqs{model_name="m",tp_rank="0"} 1\nsglang:num_running_reqs{model_name="m",tp_rank="1"} NaN\n';
    expect(scrapeTextToSample('sglang', text, AT).gauges).toEqual({});
  });

  it('gives window rates, ratios and ITL quantiles between two scrapes', () => {
    const prev = scrapeTextToSample('sglang', currentPage(base), AT);
    const cur = scrapeTextToSample('sglang', currentPage({ finished: 150, aborted: 9, retracted: 12, cachedDevice: 2900, prompt: 8000, generated: 45000, itl: [100, 980, 1200] }), AT + 10_000);
    const snap = snapshotBetween(prev, cur);
    expect(snap.request_rate).toBe(5);
    expect(snap.error_rate).toBe(0.1); // 5 aborts / 50 finished
    expect(snap.preemptions_per_second).toBe(1);
    expect(snap.generation_tokens_per_second).toBe(2500);
    expect(snap.prefix_cache_hit_rate).toBe(0.5); // 2000 cached of 4000 prompt tokens
    expect(snap.itl_p50_ms).toBeCloseTo(20 + 20 * (500 / 800), 9); // window [0,800,1000]: rank 500 in (0.02,0.04]
    expect(snap.itl_p95_ms).toBeCloseTo(40, 9); // rank 950 > 800 → +Inf bucket → top finite bound
  });
});
