import { emptyAccumulated, advanceAccumulated } from '../../../simulator/accumulator';
import {
  erf,
  histogramQuantile,
  lognormalCdf,
  lognormalMean,
  lognormalQuantile,
  normalQuantile,
} from '../../../simulator/lognormal';
import { formatLabels, goFloat, histogramLines, multiprocessHistogramSamples, pyFloat, rustFloat, rustHistogramSamples } from '../../../simulator/prom';

describe('log-normal helpers', () => {
  it('erf and the normal quantile match known values', () => {
    expect(erf(0)).toBeCloseTo(0, 7);
    expect(erf(1)).toBeCloseTo(0.8427007929, 6);
    expect(erf(-1)).toBeCloseTo(-0.8427007929, 6);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536, 6);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.0902323, 5);
  });

  it('CDF is 0.5 at the median, inverts the quantile, and the mean is median·e^(σ²/2)', () => {
    const d = { median: 0.2, sigma: 0.7 };
    expect(lognormalCdf(0.2, d)).toBeCloseTo(0.5, 7);
    expect(lognormalCdf(lognormalQuantile(0.95, d), d)).toBeCloseTo(0.95, 6);
    expect(lognormalCdf(0, d)).toBe(0);
    expect(lognormalCdf(Infinity, d)).toBe(1);
    expect(lognormalMean(d)).toBeCloseTo(0.2 * Math.exp(0.245), 12);
  });

  it('histogramQuantile interpolates like Prometheus', () => {
    const bounds = [1, 2, 4];
    // 10 obs ≤1, 10 in (1,2], 20 in (2,4], 0 above.
    expect(histogramQuantile(0.5, bounds, [10, 20, 40, 40])).toBeCloseTo(2, 9);
    expect(histogramQuantile(0.75, bounds, [10, 20, 40, 40])).toBeCloseTo(3, 9);
    expect(histogramQuantile(0.1, bounds, [10, 20, 40, 40])).toBeCloseTo(0.4, 9);
    expect(histogramQuantile(0.99, bounds, [0, 0, 0, 5])).toBe(4);
    expect(histogramQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNaN();
  });
});

describe('Prometheus text helpers', () => {
  it('prints floats as Python repr does', () => {
    expect(pyFloat(0)).toBe('0.0');
    expect(pyFloat(1)).toBe('1.0');
    expect(pyFloat(0.25)).toBe('0.25');
    expect(pyFloat(2560)).toBe('2560.0');
    expect(pyFloat(1.7537953269352946e9)).toBe('1753795326.9352946');
    expect(pyFloat(1e16)).toBe('1e+16');
    expect(pyFloat(4.275e-16)).toBe('4.275e-16');
    expect(pyFloat(1e-5)).toBe('1e-05');
    expect(pyFloat(Infinity)).toBe('+Inf');
  });

  it('prints sample values as prometheus_client floatToGoString does', () => {
    expect(goFloat(162)).toBe('162.0');
    expect(goFloat(866964.5791549598)).toBe('866964.5791549598');
    expect(goFloat(8128902)).toBe('8.128902e+06');
    expect(goFloat(2351897.9474117756)).toBe('2.3518979474117756e+06');
    expect(goFloat(1e6)).toBe('1e+06');
    expect(goFloat(1e16)).toBe('1e+16');
    expect(goFloat(0)).toBe('0.0');
    expect(goFloat(Infinity)).toBe('+Inf');
  });

  it('prints floats as Rust Display does (metrics-exporter-prometheus)', () => {
    expect(rustFloat(128)).toBe('128');
    expect(rustFloat(0)).toBe('0');
    expect(rustFloat(0.00015000000000000001)).toBe('0.00015000000000000001');
    expect(rustFloat(541.2140316159999)).toBe('541.2140316159999');
    expect(rustFloat(1.5e-7)).toBe('0.00000015');
    expect(rustFloat(1.25e22)).toBe('12500000000000000000000');
    expect(rustFloat(Infinity)).toBe('+Inf');
  });

  it('writes multiprocess (_sum first) and Rust (le last, _sum then _count) histogram layouts', () => {
    expect(multiprocessHistogramSamples('h', { m: 'x' }, [1, 2], [3, 2.5], 2.75, 9)).toEqual([
      'h_sum{m="x"} 9.0',
      'h_bucket{le="1.0",m="x"} 2.75',
      'h_bucket{le="2.0",m="x"} 2.75',
      'h_bucket{le="+Inf",m="x"} 2.75',
      'h_count{m="x"} 2.75',
    ]);
    expect(rustHistogramSamples('h', { method: 'prefill' }, [1, 2.5], [1, 2], 3, 4.5)).toEqual([
      'h_bucket{method="prefill",le="1"} 1',
      'h_bucket{method="prefill",le="2.5"} 2',
      'h_bucket{method="prefill",le="+Inf"} 3',
      'h_sum{method="prefill"} 4.5',
      'h_count{method="prefill"} 3',
    ]);
  });

  it('sorts labels and escapes values', () => {
    expect(formatLabels({ model_name: 'm', engine: '0', le: '1.0' })).toBe('{engine="0",le="1.0",model_name="m"}');
    expect(formatLabels({ a: 'x"y\\z\n' })).toBe('{a="x\\"y\\\\z\\n"}');
    expect(formatLabels({})).toBe('');
  });

  it('histogram lines are cumulative, capped at the count, +Inf = _count, then _sum', () => {
    const lines = histogramLines('h', 'help', {}, [1, 2], [3, 2.5], 2.75, 9);
    expect(lines).toEqual([
      '# HELP h help',
      '# TYPE h histogram',
      'h_bucket{le="1.0"} 2.75',
      'h_bucket{le="2.0"} 2.75',
      'h_bucket{le="+Inf"} 2.75',
      'h_count 2.75',
      'h_sum 9.0',
    ]);
  });
});

describe('fluid accumulation', () => {
  it('spreads rate × dt observations over the buckets by the CDF and grows counters linearly', () => {
    const buckets = { h: [0.1, 0.2, 0.4] };
    const acc = emptyAccumulated(buckets);
    const stream = { rate: 100, median: 0.2, sigma: 0.5 };
    advanceAccumulated(acc, buckets, 0.02, { c: 50 }, { h: stream });
    expect(acc.counters.c).toBeCloseTo(1, 12);
    expect(acc.histograms.h.count).toBeCloseTo(2, 12);
    expect(acc.histograms.h.buckets[1]).toBeCloseTo(1, 6); // half the mass is below the median
    expect(acc.histograms.h.buckets[0]).toBeCloseTo(2 * lognormalCdf(0.1, stream), 12);
    expect(acc.histograms.h.sum).toBeCloseTo(2 * lognormalMean(stream), 12);
    advanceAccumulated(acc, buckets, 0, { c: 50 }, { h: stream });
    advanceAccumulated(acc, buckets, -1, { c: 50 }, { h: stream });
    expect(acc.counters.c).toBeCloseTo(1, 12);
  });
});
