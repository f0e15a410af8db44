import { detectBottlenecks } from '../../../core/bottlenecks';
import { DEFAULT_SLO } from '../../../core/healthScore';
import { clearsThreshold, MARGIN_STANDARD_ERRORS, noiseMargins, sampleStdDev } from '../../../core/noiseMargin';
import { snapshot } from './snapshotFixture';

/** One replica's window: every metric healthy but the ones given. */
const replica = (overrides: Parameters<typeof snapshot>[0]) => snapshot({ replicas: 1, requests_waiting: 0, ...overrides });

describe('noiseMargins: the baseline window read per replica', () => {
  it('is 2 standard errors of the mean for a pooled metric: 2 × s/√N', () => {
    // itl values 46, 50, 54: s = 4, N = 3 → margin = 2 × 4/√3 = 4.62
    const m = noiseMargins([46, 50, 54].map((v) => replica({ itl_p95_ms: v }))).itl_p95_ms!;
    expect(m.replicas).toBe(3);
    expect(m.spread).toBeCloseTo(4, 10);
    expect(m.margin).toBeCloseTo((MARGIN_STANDARD_ERRORS * 4) / Math.sqrt(3), 10);
  });

  it('is 2 standard errors of the sum for a fleet-wide rate: 2 × s·√N', () => {
    const m = noiseMargins([0.01, 0.03].map((v) => replica({ preemptions_per_second: v }))).preemptions_per_second!;
    expect(m.margin).toBeCloseTo(2 * sampleStdDev([0.01, 0.03]) * Math.sqrt(2), 12);
  });

  it('has no margin with fewer than two replicas with data (nulls do not count)', () => {
    const m = noiseMargins([replica({ ttft_p95_ms: 600 }), replica({ ttft_p95_ms: null })]).ttft_p95_ms!;
    expect(m).toEqual({ margin: 0, replicas: 1, spread: 0 });
  });

  it('clearsThreshold: strictly past threshold + margin', () => {
    const m = { margin: 4, replicas: 3, spread: 3.46 };
    const table: Array<[number | null, boolean]> = [[null, false], [50, false], [54, false], [54.01, true], [62, true]];
    for (const [value, clears] of table) expect(clearsThreshold(value, 50, m)).toBe(clears);
    expect(clearsThreshold(50.1, 50, undefined)).toBe(true);
  });
});

describe('detectBottlenecks with noise margins', () => {
  // Two replicas at ITL 48 and 56 (fleet 52): spread 5.66, margin 2 × 5.66/√2 = 8.
  const noisy = noiseMargins([48, 56].map((v) => replica({ itl_p95_ms: v })));
  const table: Array<{ name: string; itl: number; fires: boolean }> = [
    { name: 'sits right at its target (52 vs 50, margin 8): does not fire', itl: 52, fires: false },
    { name: 'just inside the margin (57.9): does not fire', itl: 57.9, fires: false },
    { name: 'clears target + margin (62): fires', itl: 62, fires: true },
  ];
  for (const row of table) {
    it(row.name, () => {
      const found = detectBottlenecks(snapshot({ itl_p95_ms: row.itl }), DEFAULT_SLO, noisy);
      expect(found.some((b) => b.kind === 'high_itl')).toBe(row.fires);
    });
  }

  it('says in the evidence by how much it had to clear the target and why', () => {
    const [itl] = detectBottlenecks(snapshot({ itl_p95_ms: 62 }), DEFAULT_SLO, noisy);
    expect(itl).toMatchObject({ kind: 'high_itl', value: 62, threshold: 50, margin: 8 });
    expect(itl.description).toContain('itl_p95_ms 62 > 50 threshold + 8 margin (2 × standard error; spread 5.66 over 2 replicas)');
  });

  it('without margins (one reading) the threshold alone decides, as before', () => {
    const [itl] = detectBottlenecks(snapshot({ itl_p95_ms: 52 }), DEFAULT_SLO);
    expect(itl).toEqual({ kind: 'high_itl', metric: 'itl_p95_ms', value: 52, threshold: 50, description: 'Inter-token latency p95 is above its SLO' });
  });

  it('a queue must clear the waiting margin too, and then the KV-cache reading follows it', () => {
    const waiting = noiseMargins([0, 4].map((v) => replica({ requests_waiting: v }))); // margin 2 × 2.83/√2 = 4
    expect(detectBottlenecks(snapshot({ requests_waiting: 40, replicas: 10 }), DEFAULT_SLO, waiting)).toEqual([]);
    expect(detectBottlenecks(snapshot({ requests_waiting: 60, replicas: 10 }), DEFAULT_SLO, waiting).map((b) => b.kind)).toEqual(['queue_backlog', 'low_batch_utilisation']);
  });

  it('a single replica with data: no spread, margin 0, and the evidence says so', () => {
    const one = noiseMargins([replica({ itl_p95_ms: 51 })]);
    const [itl] = detectBottlenecks(snapshot({ itl_p95_ms: 51 }), DEFAULT_SLO, one);
    expect(itl.description).toContain('1 replica with data: no spread to measure noise by');
  });
});
