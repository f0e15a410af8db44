import {
  describeCanaryFailure,
  CANARY_METRICS,
  EXACT_MAX_REPLICAS,
  binomial,
  cliffsDelta,
  judgeCanary,
  mannWhitneyU,
  median,
  normalSf,
  rankWithTies,
  smallestAttainableP,
} from '../../../core/canaryJudge';

// Reference values: scipy.stats.mannwhitneyu 1.17 (method='exact' / 'asymptotic', use_continuity=True),
// and for tied data a brute-force enumeration of every C(n, n1) choice of the first group (scipy's
// exact method ignores ties, so it is not the reference there).

describe('helpers', () => {
  it('takes medians of odd and even groups', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('gives tied values their midrank and reports tie groups', () => {
    expect(rankWithTies([10, 20, 20, 5, 20])).toEqual({ ranks: [2, 4, 4, 1, 4], ties: [1, 1, 3] });
  });

  it('computes binomial coefficients', () => {
    expect(binomial(9, 5)).toBe(126);
    expect(binomial(10, 1)).toBe(10);
    expect(binomial(50, 25)).toBe(126410606437752);
  });

  it('matches the normal upper tail (scipy.stats.norm.sf) to 1e-7', () => {
    const table: Array<[number, number]> = [
      [0, 0.5],
      [0.5, 0.3085375387259869],
      [1, 0.15865525393145707],
      [1.96, 0.024997895148220435],
      [3, 0.0013498980316300933],
      [-1, 0.8413447460685429],
      [-2.3, 0.9892758899783242],
      [5, 2.866515718791933e-7],
    ];
    for (const [z, p] of table) expect(Math.abs(normalSf(z) - p)).toBeLessThan(1e-7 * Math.max(1, p * 10));
  });

  it("turns U into Cliff's delta", () => {
    expect(cliffsDelta(25, 5, 5)).toBe(1);
    expect(cliffsDelta(0, 5, 5)).toBe(-1);
    expect(cliffsDelta(12.5, 5, 5)).toBe(0);
  });
});

describe('mannWhitneyU', () => {
  // Worked by hand: pooled order 11y 12y 16x 17y 19x 20y 22x 24x 29x, so R_x = 3+5+7+8+9 = 32 and
  // U = 32 − 5·6/2 = 17 of a possible 20. U ≥ 17 happens for 1 (U=20) + 1 (19) + 2 (18) + 3 (17) = 7 of
  // the C(9,5) = 126 equally likely choices of the x group: p = 7/126 = 0.0556 one-sided.
  const x = [19, 22, 16, 29, 24];
  const y = [20, 11, 17, 12];

  it('computes U and the exact one-sided p-value of a textbook example', () => {
    const r = mannWhitneyU(x, y, 'greater');
    expect(r).toEqual({ u: 17, p_value: 7 / 126, method: 'exact' });
  });

  it('doubles the smaller tail for the two-sided p-value (scipy: 0.1111)', () => {
    expect(mannWhitneyU(x, y, 'two-sided').p_value).toBeCloseTo(0.1111111111111111, 12);
    expect(mannWhitneyU(y, x, 'two-sided').p_value).toBeCloseTo(0.1111111111111111, 12);
    expect(mannWhitneyU(y, x, 'greater').u).toBe(3);
  });

  it('matches scipy exact for 5 vs 5 fully separated and 1 vs 9', () => {
    expect(mannWhitneyU([120, 125, 130, 128, 122], [100, 102, 98, 101, 99]).p_value).toBeCloseTo(1 / 252, 15);
    const one = mannWhitneyU([130], [100, 101, 99, 98, 102, 100, 97, 103, 100]);
    expect(one.u).toBe(9);
    expect(one.p_value).toBeCloseTo(0.1, 15);
  });

  it('handles ties exactly: the permutation distribution of midrank sums (brute-force enumeration)', () => {
    const a = mannWhitneyU([1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5], 'greater');
    expect(a.u).toBe(5.5);
    expect(a.p_value).toBeCloseTo(0.9696969696969697, 12);
    expect(mannWhitneyU([1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5], 'two-sided').p_value).toBeCloseTo(0.11255411255411256, 12);
    const b = mannWhitneyU([3, 4, 2, 6, 2, 5], [9, 7, 5, 10, 6, 8], 'two-sided');
    expect(b.u).toBe(2);
    expect(b.p_value).toBeCloseTo(0.010822510822510822, 12);
    expect(mannWhitneyU([3, 4, 2, 6, 2, 5], [9, 7, 5, 10, 6, 8], 'greater').p_value).toBeCloseTo(0.9989177489177489, 12);
  });

  it('gives the brute-force permutation p-value for random groups with and without ties', () => {
    // Every C(n, n1) choice of the first group, counted: the reference the pruned table must equal.
    const bruteForce = (x: number[], y: number[]) => {
      const { ranks } = rankWithTies([...x, ...y]);
      const observed = ranks.slice(0, x.length).reduce((s, r) => s + r, 0);
      let upper = 0;
      let lower = 0;
      let total = 0;
      const choose = (from: number, left: number, sum: number): void => {
        if (left === 0) {
          total++;
          if (sum >= observed) upper++;
          if (sum <= observed) lower++;
          return;
        }
        for (let i = from; i <= ranks.length - left; i++) choose(i + 1, left - 1, sum + ranks[i]);
      };
      choose(0, x.length, 0);
      return { greater: upper / total, twoSided: Math.min(1, 2 * Math.min(upper, lower) / total) };
    };
    let state = 7;
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
    for (let run = 0; run < 60; run++) {
      const levels = run % 2 === 0 ? 4 : 1000;
      const x = Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * levels));
      const y = Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * levels));
      const expected = bruteForce(x, y);
      expect(mannWhitneyU(x, y, 'greater').p_value).toBeCloseTo(expected.greater, 12);
      expect(mannWhitneyU(x, y, 'two-sided').p_value).toBeCloseTo(expected.twoSided, 12);
    }
  });

  it('gives p = 1 for identical groups', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5, 5], 'greater')).toEqual({ u: 6, p_value: 1, method: 'exact' });
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5, 5], 'two-sided').p_value).toBe(1);
  });

  // 30 vs 31 values: above EXACT_MAX_REPLICAS, so the normal approximation (scipy 'asymptotic').
  const big = {
    x: [113.5, 118.2, 113.3, 97.0, 119.1, 114.5, 104.6, 115.8, 113.6, 112.9, 110.3, 115.5, 102.6, 108.4, 105.2,
      116.0, 110.4, 107.1, 102.2, 107.4, 110.1, 107.2, 122.9, 120.1, 82.9, 91.1, 108.3, 105.8, 112.1, 112.2],
    y: [121.2, 88.9, 96.2, 120.4, 106.5, 106.6, 94.9, 83.5, 101.7, 101.1, 87.7, 93.2, 99.3, 90.6, 99.0, 101.0,
      100.4, 94.9, 105.9, 108.9, 103.2, 91.8, 107.3, 95.0, 108.8, 89.3, 109.1, 99.8, 87.5, 96.9, 100.5],
  };

  it('uses the normal approximation with continuity correction for large groups', () => {
    expect(big.x.length + big.y.length).toBeGreaterThan(EXACT_MAX_REPLICAS);
    const g = mannWhitneyU(big.x, big.y, 'greater');
    expect(g.method).toBe('normal');
    expect(g.u).toBe(750);
    expect(g.p_value / 2.0275207680934504e-5).toBeCloseTo(1, 5);
    expect(mannWhitneyU(big.x, big.y, 'two-sided').p_value / 4.055041536186901e-5).toBeCloseTo(1, 5);
  });

  it('applies the tie correction to the variance (scipy asymptotic)', () => {
    const x = [...Array(10).fill(1), ...Array(20).fill(2), ...Array(5).fill(3)];
    const y = [...Array(15).fill(1), ...Array(15).fill(2), 3];
    const g = mannWhitneyU(x, y, 'greater');
    expect(g.u).toBe(677.5);
    expect(g.p_value).toBeCloseTo(0.026375933242365226, 6);
    expect(mannWhitneyU(x, y, 'two-sided').p_value).toBeCloseTo(0.05275186648473045, 6);
    // All values tied: the variance is zero and nothing can be concluded.
    expect(mannWhitneyU(Array(30).fill(1), Array(30).fill(1)).p_value).toBe(1);
  });

  it('knows the smallest p-value group sizes allow', () => {
    expect(smallestAttainableP(1, 9)).toBeCloseTo(0.1, 15);
    expect(smallestAttainableP(1, 9, 'two-sided')).toBeCloseTo(0.2, 15);
    expect(smallestAttainableP(5, 5)).toBeCloseTo(1 / 252, 15);
    expect(smallestAttainableP(1, 1, 'two-sided')).toBe(1);
    expect(smallestAttainableP(30, 30)).toBeLessThan(1e-9);
  });
});

const healthy = { ttft_p95_ms: 400, itl_p95_ms: 40, e2e_p95_ms: 9000, error_rate: 0.002 };
function group(n: number, scale: Partial<Record<keyof typeof healthy, number>> = {}, jitter = 0.02) {
  const out: Record<string, number[]> = {};
  for (const [m, v] of Object.entries(healthy)) {
    const k = scale[m as keyof typeof healthy] ?? 1;
    out[m] = Array.from({ length: n }, (_, i) => v * k * (1 + jitter * ((i % 5) - 2) / 2));
  }
  return out;
}

describe('judgeCanary', () => {
  it('passes a canary like its baseline and records every metric', () => {
    const j = judgeCanary({ canary: group(5), baseline: group(5) });
    expect(j.verdict).toBe('pass');
    expect(j.decisions.map((d) => d.metric)).toEqual([...CANARY_METRICS]);
    for (const d of j.decisions) {
      expect(d.verdict).toBe('pass');
      expect(d.decided_by).toBe('significance');
      expect(d.reason).toMatch(/within tolerance/);
    }
  });

  it('fails a canary that is worse beyond tolerance and significantly so', () => {
    const j = judgeCanary({ canary: group(5, { ttft_p95_ms: 1.5 }), baseline: group(5) });
    expect(j.verdict).toBe('fail');
    const ttft = j.decisions.find((d) => d.metric === 'ttft_p95_ms')!;
    expect(ttft).toMatchObject({ verdict: 'fail', canary_value: 600, baseline_value: 400, u_statistic: 25, cliffs_delta: 1, method: 'exact' });
    expect(ttft.threshold).toBeCloseTo(440, 9);
    expect(ttft.effect_size).toBeCloseTo(0.5, 9);
    expect(ttft.p_value).toBeCloseTo(1 / 252, 12);
    expect(ttft.reason).toMatch(/50% above baseline 400.*significant at alpha 0.05/);
    expect(j.decisions.filter((d) => d.verdict === 'fail')).toHaveLength(1);
  });

  it('passes a worse canary whose difference is not significant', () => {
    // Medians 14% apart but the groups overlap: U = 14 of 25, p = 106/252 = 0.4206 (scipy exact).
    const j = judgeCanary({ canary: { itl_p95_ms: [30, 56, 57, 58, 70] }, baseline: { itl_p95_ms: [35, 45, 50, 60, 65] } });
    const d = j.decisions.find((x) => x.metric === 'itl_p95_ms')!;
    expect(d.canary_value).toBe(57);
    expect(d.verdict).toBe('pass');
    expect(d.u_statistic).toBe(14);
    expect(d.p_value).toBeCloseTo(0.42063492063492064, 12);
    expect(d.reason).toMatch(/worse but not significant/);
  });

  it('does not fail a canary that is significantly better (two-sided)', () => {
    const j = judgeCanary({ canary: group(5, { ttft_p95_ms: 0.5 }), baseline: group(5), alternative: 'two-sided' });
    const ttft = j.decisions.find((d) => d.metric === 'ttft_p95_ms')!;
    expect(ttft.p_value).toBeCloseTo(2 / 252, 12);
    expect(ttft.verdict).toBe('pass');
    expect(ttft.reason).toMatch(/50% below/);
  });

  it('falls back to effect size alone for 1 canary against 9 baseline replicas, and says so', () => {
    const baseline = group(9);
    const slightly = judgeCanary({ canary: group(1, { ttft_p95_ms: 1.2 }), baseline });
    const d1 = slightly.decisions.find((d) => d.metric === 'ttft_p95_ms')!;
    expect(d1).toMatchObject({ verdict: 'pass', decided_by: 'effect_size' });
    expect(d1.threshold).toBeCloseTo(500, 9); // 25% small-sample tolerance
    expect(d1.reason).toMatch(/too few replicas for significance \(smallest attainable p 0.1 ≥ alpha 0.05\)/);
    const much = judgeCanary({ canary: group(1, { ttft_p95_ms: 1.4 }), baseline });
    expect(much.verdict).toBe('fail');
    expect(much.decisions.find((d) => d.metric === 'ttft_p95_ms')!.reason).toMatch(/worse beyond the small-sample tolerance/);
    const custom = judgeCanary({ canary: group(1, { ttft_p95_ms: 1.2 }), baseline, small_sample_tolerance: 0.15 });
    expect(custom.verdict).toBe('fail');
  });

  it('uses an absolute tolerance for error rates near zero', () => {
    const zero = { error_rate: [0, 0, 0, 0, 0] };
    const small = judgeCanary({ canary: { error_rate: [0.001, 0.002, 0.003, 0.002, 0.001] }, baseline: zero });
    const d = small.decisions.find((x) => x.metric === 'error_rate')!;
    expect(d).toMatchObject({ verdict: 'pass', effect_size: null, threshold: 0.005 });
    expect(d.reason).toMatch(/absolute tolerance 0.005/);
    const big = judgeCanary({ canary: { error_rate: [0.05, 0.06, 0.04, 0.05, 0.07] }, baseline: zero });
    expect(big.verdict).toBe('fail');
    expect(big.decisions.find((x) => x.metric === 'error_rate')!.reason).toMatch(/0.05 above baseline 0/);
    const stricter = judgeCanary({ canary: { error_rate: [0.001, 0.002, 0.003, 0.002, 0.001] }, baseline: zero, absolute_tolerance: { error_rate: 0.0005 } });
    expect(stricter.verdict).toBe('fail');
  });

  it('says no_data without baseline replicas (a 100% stage)', () => {
    const j = judgeCanary({ canary: group(10), baseline: {} });
    expect(j.verdict).toBe('no_data');
    expect(j.decisions).toHaveLength(4);
    for (const d of j.decisions) {
      expect(d).toMatchObject({ verdict: 'no_data', baseline_value: null, p_value: null, baseline_n: 0, canary_n: 10 });
      expect(d.reason).toMatch(/no baseline values .*100% stage/);
    }
  });

  it('says no_data for empty or non-finite groups, per metric, and judges the rest', () => {
    const j = judgeCanary({
      canary: { ttft_p95_ms: [], itl_p95_ms: [NaN, Infinity], e2e_p95_ms: [9000, 9100, 8900, 9050, 9000], extra_metric: [1, 2] },
      baseline: { ttft_p95_ms: [400], itl_p95_ms: [40, 41], e2e_p95_ms: [9000, 9020, 8980, 9010, 8990] },
    });
    expect(j.verdict).toBe('pass');
    const by = Object.fromEntries(j.decisions.map((d) => [d.metric, d]));
    expect(by.ttft_p95_ms.reason).toBe('no canary values for ttft_p95_ms');
    expect(by.itl_p95_ms).toMatchObject({ verdict: 'no_data', canary_n: 0, baseline_n: 2 });
    expect(by.error_rate.reason).toMatch(/no canary and baseline values for error_rate/);
    expect(by.e2e_p95_ms.verdict).toBe('pass');
    expect(by.extra_metric.verdict).toBe('no_data');
    expect(judgeCanary({ canary: {}, baseline: {} }).verdict).toBe('no_data');
  });

  it('passes identical groups with p = 1', () => {
    const same = { ttft_p95_ms: [400, 400, 400], itl_p95_ms: [40, 40, 40], e2e_p95_ms: [9000, 9000, 9000], error_rate: [0, 0, 0] };
    const j = judgeCanary({ canary: same, baseline: same, alternative: 'two-sided' });
    expect(j.verdict).toBe('pass');
    for (const d of j.decisions) expect(d).toMatchObject({ p_value: 1, cliffs_delta: 0, effect_size: d.metric === 'error_rate' ? null : 0 });
  });

  it('honours custom tolerance and alpha', () => {
    const canary = group(5, { itl_p95_ms: 1.08 });
    expect(judgeCanary({ canary, baseline: group(5) }).verdict).toBe('pass');
    expect(judgeCanary({ canary, baseline: group(5), tolerance: 0.05 }).verdict).toBe('fail');
    expect(judgeCanary({ canary, baseline: group(5), tolerance: 0.05, alpha: 0.001 }).decisions[1].decided_by).toBe('effect_size');
  });
});

describe('describeCanaryFailure', () => {
  it('names each failing metric with canary value, threshold, baseline and p-value', () => {
    const judgement = judgeCanary({
      canary: { error_rate: [0.05, 0.06, 0.05, 0.055, 0.05], ttft_p95_ms: [100, 101, 99, 100, 100] },
      baseline: { error_rate: [0.005, 0.004, 0.005, 0.006, 0.005], ttft_p95_ms: [100, 100, 101, 99, 100] },
    });
    expect(judgement.verdict).toBe('fail');
    const message = describeCanaryFailure(judgement);
    expect(message).toMatch(/^Canary worse than baseline: error_rate 0\.05 > 0\.01 \(baseline 0\.005, p=0\.00397\)$/);
  });
});
