import { SnapshotSchema } from '../../../models/snapshot';
import { EngineSample, EngineSampleSchema, adapterFor, parsePrometheusText, scrapeTextToSample, snapshotBetween, snapshotOf } from '../../../metrics';
import { ELIDED_PAGE, listFixturePages, readFixturePage, withoutElisions } from './fixturePages';

const AT = 1_750_000_000_000;
const TGI_PAGE = 'tgi-datadog-integrations-core.prom';
const read = (rel: string): EngineSample => scrapeTextToSample('tgi', readFixturePage(rel), AT);

/** TGI's duration buckets: 1e-4 · 1.5^k for k = 1..35 (router/src/server.rs). */
const DURATION_BOUNDS = Array.from({ length: 35 }, (_, i) => 1e-4 * 1.5 ** (i + 1));
const bucketAt = (h: EngineSample['histograms']['e2e_seconds'], le: number) => h?.counts[h.bounds.indexOf(le)];

/** Expected readings, with numbers taken from each TGI page. */
const EXPECTED: Record<string, (s: EngineSample) => void> = {
  [TGI_PAGE]: (s) => {
    expect(s.counters).toEqual({
      requests_total: 111, // tgi_request_success 109 + tgi_request_failure{err="validation"} 2
      request_errors_total: 2,
      generation_tokens_total: 3423, // tgi_request_generated_tokens_sum
      prompt_tokens_total: 662, // tgi_request_input_length_sum
    });
    expect(s.gauges).toEqual({ requests_running: 0, requests_waiting: 0 }); // tgi_batch_current_size, tgi_queue_size
    expect(Object.keys(s.histograms).sort()).toEqual(['e2e_seconds', 'itl_seconds']); // TGI has no TTFT histogram

    const e2e = s.histograms.e2e_seconds!;
    expect(e2e).toMatchObject({ count: 109, sum: 541.2140316159999 });
    expect(e2e.bounds).toHaveLength(35);
    e2e.bounds.forEach((b, i) => expect(b).toBeCloseTo(DURATION_BOUNDS[i], 12));
    expect(bucketAt(e2e, 0.7481827642679213)).toBe(0);
    expect(bucketAt(e2e, 1.122274146401882)).toBe(2);
    expect(bucketAt(e2e, 5.681512866159528)).toBe(77);
    expect(bucketAt(e2e, 8.52226929923929)).toBe(104);
    expect(bucketAt(e2e, 28.76265888493261)).toBe(109);

    const itl = s.histograms.itl_seconds!; // tgi_request_mean_time_per_token_duration
    expect(itl).toMatchObject({ count: 109, sum: 8.643160945 });
    expect(itl.bounds).toEqual(e2e.bounds);
    expect(bucketAt(itl, 0.043789389038085935)).toBe(0);
    expect(bucketAt(itl, 0.0656840835571289)).toBe(9);
    expect(bucketAt(itl, 0.09852612533569335)).toBe(109);

    const snap = snapshotOf(s);
    const lo = 0.0656840835571289;
    const hi = 0.09852612533569335;
    expect(snap.itl_p50_ms).toBeCloseTo(1000 * (lo + (hi - lo) * ((54.5 - 9) / 100)), 9);
    expect(snap.itl_p95_ms).toBeCloseTo(1000 * (lo + (hi - lo) * ((103.55 - 9) / 100)), 9);
    expect(snap.itl_p95_ms!).toBeGreaterThan(1000 * (8.643160945 / 109)); // above the mean (79 ms)
    expect(snap.e2e_p95_ms).toBeCloseTo(1000 * (5.681512866159528 + (8.52226929923929 - 5.681512866159528) * ((103.55 - 77) / 27)), 9);
    expect(snap.error_rate).toBeCloseTo(2 / 111, 12);
    expect([snap.ttft_p50_ms, snap.ttft_p95_ms, snap.ttft_p99_ms, snap.kv_cache_usage, snap.prefix_cache_hit_rate, snap.preemptions_per_second]).toEqual([
      null, null, null, null, null, null,
    ]);
  },
};

describe('TGI adapter over the TGI fixture pages', () => {
  const pages = listFixturePages().filter((p) => p.split('/').pop()?.startsWith('tgi-'));

  it('has an expectation for every TGI page', () => {
    expect(pages.length).toBeGreaterThanOrEqual(1);
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
    for (const rel of listFixturePages().filter((p) => !p.split('/').pop()?.startsWith('tgi-'))) {
      const text = rel === ELIDED_PAGE ? withoutElisions(readFixturePage(rel)) : readFixturePage(rel);
      const s = scrapeTextToSample('tgi', text, AT);
      expect([rel, s.counters, s.gauges, s.histograms]).toEqual([rel, {}, {}, {}]);
    }
  });

  it('is what adapterFor("tgi") returns', () => {
    const text = readFixturePage(TGI_PAGE);
    expect(adapterFor('tgi').engine).toBe('tgi');
    expect(adapterFor('tgi').toSample(parsePrometheusText(text), AT)).toEqual(read(TGI_PAGE));
    expect(() => adapterFor('tgi').toSample([], Infinity)).toThrow(RangeError);
  });
});

/** A small TGI page in the Rust exporter's format: blank lines between families, no `_total`. */
function tgiPage(o: { success?: number; failures?: Record<string, number>; generated?: number; e2e?: number[]; queue?: number; batch?: number }): string {
  const lines: string[] = [];
  if (o.success !== undefined) lines.push('# TYPE tgi_request_success counter', `tgi_request_success ${o.success}`, '');
  if (o.failures) {
    lines.push('# TYPE tgi_request_failure counter');
    for (const [err, v] of Object.entries(o.failures)) lines.push(`tgi_request_failure{err="${err}"} ${v}`);
    lines.push('');
  }
  if (o.queue !== undefined) lines.push('# TYPE tgi_queue_size gauge', `tgi_queue_size ${o.queue}`, '');
  if (o.batch !== undefined) lines.push('# TYPE tgi_batch_current_size gauge', `tgi_batch_current_size ${o.batch}`, '');
  if (o.generated !== undefined) lines.push('# TYPE tgi_request_generated_tokens histogram', `tgi_request_generated_tokens_bucket{le="+Inf"} 1`, `tgi_request_generated_tokens_sum ${o.generated}`, 'tgi_request_generated_tokens_count 1', '');
  if (o.e2e) {
    const [a, b, inf] = o.e2e;
    lines.push(
      '# TYPE tgi_request_duration histogram',
      `tgi_request_duration_bucket{le="0.5"} ${a}`,
      `tgi_request_duration_bucket{le="2"} ${b}`,
      `tgi_request_duration_bucket{le="+Inf"} ${inf}`,
      `tgi_request_duration_sum ${inf}`,
      `tgi_request_duration_count ${inf}`,
      '',
    );
  }
  return lines.join('\n');
}

describe('TGI adapter on synthetic pages', () => {
  it('sums failures over err labels and counts finished requests as success + failures', () => {
    const s = scrapeTextToSample('tgi', tgiPage({ success: 90, failures: { validation: 4, overloaded: 5, generation: 1 } }), AT);
    expect(s.counters).toEqual({ requests_total: 100, request_errors_total: 10 });
  });

  it('reads a missing half of the success/failure pair as 0 only next to the other half', () => {
    expect(scrapeTextToSample('tgi', tgiPage({ success: 7 }), AT).counters).toEqual({ requests_total: 7, request_errors_total: 0 });
    expect(scrapeTextToSample('tgi', tgiPage({ failures: { overloaded: 3 } }), AT).counters).toEqual({ requests_total: 3, request_errors_total: 3 });
    expect(scrapeTextToSample('tgi', tgiPage({ queue: 0 }), AT).counters).toEqual({}); // nothing finished yet: unknown, not 0
    expect(scrapeTextToSample('tgi', '# TYPE tgi_request_success counter\ntgi_request_success NaN\n', AT).counters).toEqual({});
    expect(scrapeTextToSample('tgi', tgiPage({ success: 5, failures: { generation: -1 } }), AT).counters).toEqual({});
  });

  it('ignores tgi_request_count (arrivals) and the method-labelled batch histograms', () => {
    const text = '# TYPE tgi_request_count counter\ntgi_request_count 50\n\n# TYPE tgi_batch_inference_duration histogram\ntgi_batch_inference_duration_bucket{method="prefill",le="0.1"} 1\ntgi_batch_inference_duration_bucket{method="prefill",le="+Inf"} 1\ntgi_batch_inference_duration_sum{method="prefill"} 0.05\ntgi_batch_inference_duration_count{method="prefill"} 1\n';
    const s = scrapeTextToSample('tgi', text, AT);
    expect([s.counters, s.gauges, s.histograms]).toEqual([{}, {}, {}]);
  });

  it('gives window rates, error rate and e2e quantiles between two scrapes', () => {
    const prev = scrapeTextToSample('tgi', tgiPage({ success: 100, failures: { validation: 0 }, generated: 1000, e2e: [10, 90, 100], queue: 1, batch: 4 }), AT);
    const cur = scrapeTextToSample('tgi', tgiPage({ success: 190, failures: { validation: 10 }, generated: 6000, e2e: [10, 170, 190], queue: 6, batch: 8 }), AT + 10_000);
    const snap = snapshotBetween(prev, cur);
    expect(snap.request_rate).toBe(10); // 100 finished in 10 s
    expect(snap.error_rate).toBe(0.1);
    expect(snap.generation_tokens_per_second).toBe(500);
    expect(snap.e2e_p95_ms).toBeCloseTo(2000, 9); // rank 85.5 of 90 new requests is past the 80 in (0.5,2] → +Inf bucket → top finite bound
    expect([snap.requests_running, snap.requests_waiting]).toEqual([8, 6]);
    expect(snap.ttft_p95_ms).toBeNull();
  });
});
