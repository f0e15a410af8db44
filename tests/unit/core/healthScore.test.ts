import { componentScore, DEFAULT_SLO, healthScore, withDefaults } from '../../../core/healthScore';
import { snapshot } from './snapshotFixture';

describe('healthScore', () => {
  it('is 100 when every SLO is met', () => {
    expect(healthScore(snapshot()).score).toBe(100);
  });

  it('falls in proportion to how far a metric exceeds its target', () => {
    expect(componentScore(1000, 500)).toBe(50);
    expect(componentScore(400, 500)).toBe(100);
    // TTFT at twice its target: 0.3 × 50 + 0.7 × 100 = 85
    expect(healthScore(snapshot({ ttft_p95_ms: 1000 })).score).toBe(85);
  });

  it('reports each component with its value, target and weight', () => {
    const { components } = healthScore(snapshot({ error_rate: 0.02 }));
    expect(components.map((c) => c.metric)).toEqual(['ttft_p95_ms', 'itl_p95_ms', 'e2e_p95_ms', 'error_rate']);
    const errors = components.find((c) => c.metric === 'error_rate')!;
    expect(errors).toMatchObject({ value: 0.02, target: DEFAULT_SLO.error_rate, weight: 0.25, score: 50 });
    expect(components.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1);
  });

  it('scores only the components that have data, reweighting the rest', () => {
    // ITL missing; TTFT at 2× target: (0.3 × 50 + 0.2 × 100 + 0.25 × 100) / 0.75 = 80
    expect(healthScore(snapshot({ itl_p95_ms: null, ttft_p95_ms: 1000 })).score).toBe(80);
  });

  it('says "no data" (null) when half or more of the components are missing', () => {
    expect(healthScore(snapshot({ ttft_p95_ms: null, itl_p95_ms: null })).score).toBeNull();
    expect(healthScore(snapshot({ ttft_p95_ms: null, itl_p95_ms: null, e2e_p95_ms: null, error_rate: null })).score).toBeNull();
  });

  it('takes SLO targets from the caller', () => {
    const strict = { ...DEFAULT_SLO, ttft_p95_ms: 200 };
    expect(healthScore(snapshot({ ttft_p95_ms: 400 }), strict).score).toBe(85);
  });

  it('fills the targets a request leaves out from the defaults', () => {
    expect(withDefaults({ ttft_p95_ms: 200 })).toEqual({ ...DEFAULT_SLO, ttft_p95_ms: 200 });
    expect(withDefaults(undefined)).toEqual(DEFAULT_SLO);
  });
});
