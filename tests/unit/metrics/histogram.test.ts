import {
  Bucket,
  HistogramMismatchError,
  HistogramSample,
  histogramDelta,
  histogramFromBuckets,
  histogramQuantile,
  mergeHistograms,
  sampleQuantile,
  toBuckets,
} from '../../../metrics';

// 100 observations: 10 ≤ 0.1 < 20 ≤ 0.2 < 50 ≤ 0.5 < 20 ≤ 1
const B: Bucket[] = [
  [0.1, 10],
  [0.2, 30],
  [0.5, 80],
  [1, 100],
  [Infinity, 100],
];

describe('histogramQuantile (PromQL histogram_quantile semantics)', () => {
  it.each([
    [0.5, 0.32], // rank 50 in (0.2,0.5]: 0.2 + 0.3·(20/50)
    [0.95, 0.875], // rank 95 in (0.5,1]: 0.5 + 0.5·(15/20)
    [0.99, 0.975], // 0.5 + 0.5·(19/20)
    [0.05, 0.05], // lowest bucket interpolates from 0: 0.1·(5/10)
    [0, 0],
    [1, 1], // rank 100 reached in the last finite bucket
    [0.1, 0.1],
  ])('q=%p → %p', (q, expected) => {
    expect(histogramQuantile(q, B)).toBeCloseTo(expected, 12);
  });

  it('matches a hand-computed Prometheus result on a skewed histogram', () => {
    const b: Bucket[] = [
      [0.05, 199881],
      [0.1, 212210],
      [0.2, 215395],
      [0.4, 319435],
      [0.8, 419576],
      [1.6, 469593],
      [Infinity, 519593],
    ];
    // rank = 0.75·519593 = 389694.75, in (0.4,0.8]: 0.4 + 0.4·(389694.75−319435)/(419576−319435)
    expect(histogramQuantile(0.75, b)).toBeCloseTo(0.4 + (0.4 * 70259.75) / 100141, 12);
  });

  it('returns the highest finite bound when the rank falls in the +Inf bucket', () => {
    expect(histogramQuantile(0.5, [[0.1, 10], [0.2, 30], [Infinity, 100]])).toBe(0.2);
    expect(histogramQuantile(0.99, [[30, 2513], [Infinity, 11008]])).toBe(30);
  });

  it('returns the lowest bound itself when it is ≤ 0 and holds the rank', () => {
    const b: Bucket[] = [[-1, 10], [0, 20], [1, 40], [Infinity, 40]];
    expect(histogramQuantile(0.1, b)).toBe(-1);
    expect(histogramQuantile(0.4, b)).toBeCloseTo(-0.4, 12); // (-1,0]: -1 + 1·(6/10)
    expect(histogramQuantile(0.25, [[0, 5], [1, 10], [Infinity, 10]])).toBe(0);
  });

  it('sorts buckets, sums equal bounds and forces counts monotonic', () => {
    expect(histogramQuantile(0.5, [[1, 5], [Infinity, 10], [0.5, 2], [1, 3]])).toBeCloseTo(0.75, 12);
    const nonMonotonic: Bucket[] = [[0.1, 10], [0.2, 5], [Infinity, 20]];
    expect(histogramQuantile(0.25, nonMonotonic)).toBeCloseTo(0.05, 12);
    expect(histogramQuantile(0.6, nonMonotonic)).toBe(0.2);
  });

  it('returns null where Prometheus returns NaN', () => {
    expect(histogramQuantile(0.5, [])).toBeNull();
    expect(histogramQuantile(0.5, [[0.1, 1], [1, 2]])).toBeNull(); // no +Inf bucket
    expect(histogramQuantile(0.5, [[Infinity, 5]])).toBeNull(); // fewer than 2 buckets
    expect(histogramQuantile(0.5, [[0.1, 0], [Infinity, 0]])).toBeNull(); // no observations
    expect(histogramQuantile(NaN, B)).toBeNull();
  });

  it('returns ±Infinity for q outside [0,1], as Prometheus does', () => {
    expect(histogramQuantile(-0.1, B)).toBe(-Infinity);
    expect(histogramQuantile(1.1, B)).toBe(Infinity);
  });

  it('does not modify its input', () => {
    const input: Bucket[] = [[1, 5], [0.5, 2], [Infinity, 10], [1, 3]];
    const copy = JSON.parse(JSON.stringify(input.map(([l, c]) => [String(l), c])));
    histogramQuantile(0.5, input);
    expect(input.map(([l, c]) => [String(l), c])).toEqual(copy);
  });
});

const h = (counts: number[], count: number, sum: number | null = null, bounds = [0.1, 0.2, 0.5, 1]): HistogramSample => ({ bounds, counts, count, sum });

describe('HistogramSample helpers', () => {
  it('toBuckets / sampleQuantile use the total as the +Inf bucket', () => {
    const s = h([10, 30, 80, 100], 100);
    expect(toBuckets(s)).toEqual(B);
    expect(sampleQuantile(0.5, s)).toBeCloseTo(0.32, 12);
  });

  it('histogramFromBuckets takes the total from +Inf, else from `total`, else gives up', () => {
    expect(histogramFromBuckets(B, { sum: 42 })).toEqual(h([10, 30, 80, 100], 100, 42));
    expect(histogramFromBuckets([[1, 3], [0.5, 1]], { total: 4 })).toEqual({ bounds: [0.5, 1], counts: [1, 3], count: 4, sum: null });
    expect(histogramFromBuckets([[1, 3]])).toBeNull();
  });
});

describe('histogramDelta', () => {
  it('subtracts bucket by bucket', () => {
    expect(histogramDelta(h([5, 10, 20, 20], 20, 4), h([15, 40, 100, 120], 125, 10))).toEqual(h([10, 30, 80, 100], 105, 6));
  });

  it('is the current histogram after a reset (total, or any bucket, went down)', () => {
    const cur = h([1, 2, 3, 3], 3, 0.5);
    expect(histogramDelta(h([5, 10, 20, 20], 20, 4), cur)).toEqual(cur);
    expect(histogramDelta(h([5, 10, 20, 20], 2, 4), h([4, 10, 20, 20], 20, 5))).toEqual(h([4, 10, 20, 20], 20, 5));
  });

  it('is the current histogram when the bucket layout changed (engine restarted with new buckets)', () => {
    const cur = h([1, 2], 3, 1, [0.5, 1]);
    expect(histogramDelta(h([5, 10, 20, 20], 20, 4), cur)).toEqual(cur);
  });

  it('has a null sum when either side lacks one, and an empty delta has no quantile', () => {
    const d = histogramDelta(h([5, 10, 20, 20], 20, null), h([5, 10, 20, 20], 20, 3));
    expect(d).toEqual(h([0, 0, 0, 0], 0, null));
    expect(sampleQuantile(0.95, d)).toBeNull();
  });
});

describe('mergeHistograms', () => {
  it('sums histograms with identical bounds', () => {
    expect(mergeHistograms([h([1, 2, 3, 4], 5, 1), h([10, 20, 30, 40], 50, 2)])).toEqual(h([11, 22, 33, 44], 55, 3));
    expect(mergeHistograms([h([1, 2, 3, 4], 5, 1), h([1, 2, 3, 4], 5, null)]).sum).toBeNull();
  });

  it('refuses different bounds and an empty list', () => {
    expect(() => mergeHistograms([h([1, 2, 3, 4], 5), h([1, 2], 3, null, [0.1, 0.2])])).toThrow(HistogramMismatchError);
    expect(() => mergeHistograms([])).toThrow(HistogramMismatchError);
  });
});
