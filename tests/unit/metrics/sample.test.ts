import { SnapshotSchema } from '../../../models/snapshot';
import {
  EngineSample,
  EngineSampleSchema,
  HistogramSample,
  mergeSamples,
  parseEngineSample,
  scrapeTextToSample,
  snapshotAcross,
  snapshotBetween,
  snapshotOf,
} from '../../../metrics';
import { readFixturePage } from './fixturePages';

const BOUNDS = [0.1, 0.2, 0.5, 1];
const hist = (counts: number[], count: number, sum: number | null = null, bounds = BOUNDS): HistogramSample => ({ bounds, counts, count, sum });

function sample(over: Partial<EngineSample> = {}): EngineSample {
  return { at_ms: 0, replicas: 1, counters: {}, gauges: {}, histograms: {}, ...over };
}

const PREV = sample({
  at_ms: 1_700_000_000_000,
  counters: {
    requests_total: 100,
    request_errors_total: 2,
    preemptions_total: 0,
    generation_tokens_total: 1000,
    prompt_tokens_total: 400,
    prefix_cache_queries_total: 1000,
    prefix_cache_hits_total: 100,
  },
  gauges: { requests_running: 1, requests_waiting: 9, kv_cache_usage: 0.9 },
  histograms: {
    ttft_seconds: hist([5, 10, 20, 20], 20, 4),
    itl_seconds: hist([50, 50, 50, 50], 50, 1),
    e2e_seconds: hist([0, 0, 0, 10], 10, 8),
  },
});
const CUR = sample({
  at_ms: 1_700_000_010_000, // 10 s later
  counters: {
    requests_total: 150,
    request_errors_total: 7,
    preemptions_total: 20,
    generation_tokens_total: 6000,
    prompt_tokens_total: 2400,
    prefix_cache_queries_total: 2000,
    prefix_cache_hits_total: 600,
  },
  gauges: { requests_running: 7, requests_waiting: 3, kv_cache_usage: 0.4 },
  histograms: {
    ttft_seconds: hist([15, 40, 100, 120], 120, 40), // window: [10,30,80,100] / 100
    itl_seconds: hist([90, 130, 150, 150], 150, 6), // window: [40,80,100,100] / 100
    e2e_seconds: hist([0, 0, 10, 30], 30, 20), // window: [0,0,10,20] / 20
  },
});

describe('snapshotBetween', () => {
  const snap = snapshotBetween(PREV, CUR);

  it('is a valid Snapshot', () => {
    expect(SnapshotSchema.parse(snap)).toEqual(snap);
  });

  it('computes per-second rates over the window', () => {
    expect(snap.window_seconds).toBe(10);
    expect(snap.replicas).toBe(1);
    expect(snap.request_rate).toBe(5);
    expect(snap.preemptions_per_second).toBe(2);
    expect(snap.generation_tokens_per_second).toBe(500);
  });

  it('computes window ratios and takes gauges from the current reading', () => {
    expect(snap.error_rate).toBe(0.1);
    expect(snap.prefix_cache_hit_rate).toBe(0.5);
    expect(snap).toMatchObject({ requests_running: 7, requests_waiting: 3, kv_cache_usage: 0.4 });
  });

  it('computes latency quantiles in ms from the histogram increase', () => {
    expect(snap.ttft_p50_ms).toBeCloseTo(320, 9); // 0.2 + 0.3·(20/50)
    expect(snap.ttft_p95_ms).toBeCloseTo(875, 9); // 0.5 + 0.5·(15/20)
    expect(snap.ttft_p99_ms).toBeCloseTo(975, 9);
    expect(snap.itl_p50_ms).toBeCloseTo(125, 9); // rank 50 in (0.1,0.2]: 0.1 + 0.1·(10/40)
    expect(snap.itl_p95_ms).toBeCloseTo(425, 9); // rank 95 in (0.2,0.5]: 0.2 + 0.3·(15/20)
    expect(snap.e2e_p95_ms).toBeCloseTo(950, 9); // rank 19 in (0.5,1]: 0.5 + 0.5·(9/10)
  });

  it('treats a counter that went down as a reset', () => {
    const s = snapshotBetween(PREV, { ...CUR, counters: { ...CUR.counters, requests_total: 30, request_errors_total: 1 } });
    expect(s.request_rate).toBe(3); // 30 since the restart, over 10 s
    expect(s.error_rate).toBeCloseTo(1 / 30, 12);
  });

  it('gives null, never 0, for metrics missing on either side', () => {
    const s = snapshotBetween(sample({ at_ms: 0 }), sample({ at_ms: 5000, counters: { requests_total: 5 } }));
    for (const [k, v] of Object.entries(s)) {
      if (k !== 'window_seconds' && k !== 'replicas') expect([k, v]).toEqual([k, null]);
    }
    const noHits = snapshotBetween(PREV, { ...CUR, counters: { ...CUR.counters, prefix_cache_hits_total: undefined } });
    expect(noHits.prefix_cache_hit_rate).toBeNull();
    expect(noHits.request_rate).toBe(5);
  });

  it('gives a real 0 for a counter that did not move, and null for ratios and quantiles of an idle window', () => {
    const idle = snapshotBetween(PREV, { ...PREV, at_ms: PREV.at_ms + 30_000 });
    expect(idle.request_rate).toBe(0);
    expect(idle.generation_tokens_per_second).toBe(0);
    expect(idle.error_rate).toBeNull();
    expect(idle.prefix_cache_hit_rate).toBeNull();
    expect(idle.ttft_p95_ms).toBeNull();
    expect(idle.e2e_p95_ms).toBeNull();
    expect(idle.requests_waiting).toBe(9);
  });

  it('has null rates for a zero-length window and rejects a reversed one', () => {
    const zero = snapshotBetween(PREV, { ...CUR, at_ms: PREV.at_ms });
    expect(zero.request_rate).toBeNull();
    expect(zero.error_rate).toBe(0.1);
    expect(() => snapshotBetween(CUR, PREV)).toThrow(RangeError);
  });

  it('reads quantiles as null when the histogram is missing on one side', () => {
    const s = snapshotBetween({ ...PREV, histograms: {} }, CUR);
    expect([s.ttft_p50_ms, s.itl_p95_ms, s.e2e_p95_ms]).toEqual([null, null, null]);
  });
});

describe('snapshotAcross (per-replica windows)', () => {
  it('keeps one replica restart from looking like a fleet-wide reset', () => {
    const a0 = sample({ at_ms: 0, counters: { requests_total: 1000, request_errors_total: 10 } });
    const a1 = sample({ at_ms: 10_000, counters: { requests_total: 1100, request_errors_total: 10 } }); // +100
    const b0 = sample({ at_ms: 0, counters: { requests_total: 5000, request_errors_total: 50 } });
    const b1 = sample({ at_ms: 10_000, counters: { requests_total: 40, request_errors_total: 4 } }); // restarted: +40
    const s = snapshotAcross([
      { prev: a0, cur: a1 },
      { prev: b0, cur: b1 },
    ]);
    expect(s.replicas).toBe(2);
    expect(s.request_rate).toBe(14);
    expect(s.error_rate).toBeCloseTo(4 / 140, 12);
    // the same data merged first reads B's restart as a reset of the whole fleet
    expect(snapshotBetween(mergeSamples([a0, b0]), mergeSamples([a1, b1])).request_rate).toBe(114);
  });

  it('sums per-replica rates over their own windows and merges histogram increases', () => {
    const s = snapshotAcross([
      { prev: PREV, cur: CUR },
      { prev: { ...PREV, at_ms: PREV.at_ms + 5000 }, cur: CUR }, // a 5 s window
    ]);
    expect(s.window_seconds).toBe(10);
    expect(s.request_rate).toBe(5 + 10);
    expect(s.ttft_p50_ms).toBeCloseTo(320, 9);
    expect(s.requests_running).toBe(14);
    expect(s.kv_cache_usage).toBeCloseTo(0.4, 12);
  });

  it('rejects an empty list', () => {
    expect(() => snapshotAcross([])).toThrow();
  });
});

describe('mergeSamples', () => {
  const a = sample({
    at_ms: 1000,
    counters: { requests_total: 10, preemptions_total: 1 },
    gauges: { requests_running: 2, requests_waiting: 1, kv_cache_usage: 0.2 },
    histograms: { ttft_seconds: hist([1, 2, 3, 4], 5, 1), itl_seconds: hist([1, 1, 1, 1], 1, 0.1) },
  });
  const b = sample({
    at_ms: 3000,
    replicas: 2,
    counters: { requests_total: 30 },
    gauges: { requests_running: 5, requests_waiting: 0, kv_cache_usage: 0.6 },
    histograms: { ttft_seconds: hist([10, 20, 30, 40], 50, 2), itl_seconds: hist([1, 1], 1, 0.1, [0.5, 1]) },
  });
  const m = mergeSamples([a, b]);

  it('sums counters, running/waiting and histograms; averages KV usage; takes the latest time', () => {
    expect(m.at_ms).toBe(3000);
    expect(m.replicas).toBe(3);
    expect(m.counters.requests_total).toBe(40);
    expect(m.gauges).toEqual({ requests_running: 7, requests_waiting: 1, kv_cache_usage: 0.4 });
    expect(m.histograms.ttft_seconds).toEqual(hist([11, 22, 33, 44], 55, 3));
  });

  it('keeps a key only when every input has it, and drops histograms whose bounds differ', () => {
    expect(m.counters).not.toHaveProperty('preemptions_total');
    expect(m.histograms).not.toHaveProperty('itl_seconds');
  });

  it('is the identity on one sample and rejects none', () => {
    expect(mergeSamples([a])).toEqual(a);
    expect(() => mergeSamples([])).toThrow();
  });
});

describe('snapshotOf (one cumulative reading)', () => {
  it('has quantiles over the whole history, lifetime ratios and no rates', () => {
    const s = snapshotOf(CUR);
    expect(SnapshotSchema.parse(s)).toEqual(s);
    expect(s.window_seconds).toBe(0);
    expect([s.request_rate, s.preemptions_per_second, s.generation_tokens_per_second]).toEqual([null, null, null]);
    expect(s.error_rate).toBeCloseTo(7 / 150, 12);
    expect(s.prefix_cache_hit_rate).toBe(0.3);
    // cumulative TTFT [15,40,100,120]/120: rank 60 in (0.2,0.5]: 0.2 + 0.3·(20/60)
    expect(s.ttft_p50_ms).toBeCloseTo(300, 9);
    expect(s.requests_running).toBe(7);
  });

  it('gives null ratios when nothing was counted', () => {
    const s = snapshotOf(sample({ counters: { requests_total: 0, request_errors_total: 0 } }));
    expect(s.error_rate).toBeNull();
    expect(s.ttft_p50_ms).toBeNull();
  });
});

describe('EngineSample JSON round-trip', () => {
  it('survives JSON.stringify/parse unchanged, synthetic and from a real page', () => {
    const real = scrapeTextToSample('vllm', readFixturePage('vllm-datadog-v0.5-opt125m.prom'), 1_718_140_600_000);
    for (const s of [PREV, CUR, mergeSamples([PREV, CUR]), real]) {
      const back = JSON.parse(JSON.stringify(s));
      expect(back).toEqual(s);
      expect(parseEngineSample(back)).toEqual(s);
      expect(snapshotOf(back)).toEqual(snapshotOf(s));
    }
    expect(snapshotBetween(JSON.parse(JSON.stringify(PREV)), JSON.parse(JSON.stringify(CUR)))).toEqual(snapshotBetween(PREV, CUR));
  });

  it('stores no Infinity: the +Inf bucket is the `count` field', () => {
    const text = JSON.stringify(CUR);
    expect(text).not.toMatch(/Infinity|NaN/);
    expect(JSON.parse(text).histograms.ttft_seconds).toEqual({ bounds: BOUNDS, counts: [15, 40, 100, 120], count: 120, sum: 40 });
  });

  it('rejects samples that would not survive JSON or are inconsistent', () => {
    expect(EngineSampleSchema.safeParse({ ...CUR, gauges: { kv_cache_usage: NaN } }).success).toBe(false);
    expect(EngineSampleSchema.safeParse({ ...CUR, histograms: { ttft_seconds: hist([1, 2, 3, 4], 5, null, [0.1, 0.2, 0.5, Infinity]) } }).success).toBe(false);
    expect(EngineSampleSchema.safeParse({ ...CUR, histograms: { ttft_seconds: hist([3, 2, 3, 4], 5) } }).success).toBe(false);
    expect(EngineSampleSchema.safeParse({ ...CUR, histograms: { ttft_seconds: hist([1, 2, 3, 9], 5) } }).success).toBe(false);
    expect(EngineSampleSchema.safeParse({ ...CUR, counters: { requests_total: -1 } }).success).toBe(false);
    expect(EngineSampleSchema.safeParse({ ...CUR, counters: { bogus_total: 1 } }).success).toBe(false);
    expect(() => parseEngineSample({ at_ms: 1 })).toThrow();
  });
});
