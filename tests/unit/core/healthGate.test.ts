import { formatScore, healthGate } from '../../../core/healthGate';

describe('healthGate', () => {
  it('passes at exactly threshold × before', () => {
    const r = healthGate({ before: 80, after: 72, threshold: 0.9 });
    expect(r.passed).toBe(true);
    expect(r.required).toBeCloseTo(72);
  });

  it('passes when the score improved', () => {
    expect(healthGate({ before: 75, after: 85, threshold: 0.9 }).passed).toBe(true);
  });

  it('fails below the threshold and names both numbers', () => {
    const r = healthGate({ before: 85, after: 70, threshold: 0.9 });
    expect(r.passed).toBe(false);
    expect(r.reason).toBe('Health score dropped below threshold (70.0 < 76.5)');
  });

  it('fails without data after the stage (no data is not health)', () => {
    const r = healthGate({ before: 85, after: null, threshold: 0.9 });
    expect(r.passed).toBe(false);
    expect(r.required).toBeCloseTo(76.5);
    expect(r.reason).toMatch(/No health data/);
  });

  it('fails without a baseline', () => {
    const r = healthGate({ before: null, after: 90, threshold: 0.9 });
    expect(r.passed).toBe(false);
    expect(r.required).toBeNull();
  });

  it('with threshold 1 requires no drop at all', () => {
    expect(healthGate({ before: 80, after: 79.9, threshold: 1 }).passed).toBe(false);
    expect(healthGate({ before: 80, after: 80, threshold: 1 }).passed).toBe(true);
  });

  it('formats scores with one decimal', () => {
    expect(formatScore(76.49)).toBe('76.5');
  });
});
