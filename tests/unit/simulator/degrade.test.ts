import request from 'supertest';
import type { Fault } from '../../../models';
import { degradeSeverity } from '../../../simulator/degrade';
import { SimDeployment } from '../../../simulator/deployment';
import { vllmEngine } from '../../../simulator/engines/vllm';
import { createFleetSimulator } from '../../../simulator/simulatedFleet';
import { figuresOf } from '../../../simulator/figures';
import { histogram, parsePage, windowOf } from './pages';
import { histogramQuantile } from '../../../simulator/lognormal';

const TUNED = { gpu_memory_utilization: 0.95, enable_prefix_caching: true };

function deployment(replicas = 10): SimDeployment {
  let t = 0;
  return new SimDeployment({ engine: vllmEngine, baseUrl: 'http://127.0.0.1:9', replicas, now: () => (t += 10) });
}

function push(d: SimDeployment, i: number, revision = 'new') {
  const r = d.pushConfig(i, { revision, engine_args: TUNED });
  expect(r.status).toBe(200);
}

describe('degradeSeverity', () => {
  const faults: Fault[] = [{ kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 }];
  it('applies only to replicas on a new revision once the changed fraction reaches min_fraction', () => {
    expect(degradeSeverity(faults, true, 0.4)).toBe(0);
    expect(degradeSeverity(faults, true, 0.5)).toBe(0.4);
    expect(degradeSeverity(faults, false, 1)).toBe(0);
    expect(degradeSeverity([], true, 1)).toBe(0);
    expect(degradeSeverity([{ kind: 'degrade_new_config', min_fraction: 1 / 3, severity: 1 }], true, 1 / 3)).toBe(1);
  });
  it('takes the largest severity among the faults that apply', () => {
    const two: Fault[] = [...faults, { kind: 'degrade_new_config', min_fraction: 0.1, severity: 0.2 }, { kind: 'unreachable', replicas: [] }];
    expect(degradeSeverity(two, true, 0.1)).toBe(0.2);
    expect(degradeSeverity(two, true, 0.6)).toBe(0.4);
  });
});

describe('degrade_new_config in a deployment', () => {
  it('min_fraction 0 degrades the first changed replica at once, and only it', () => {
    const d = deployment();
    d.addFault({ kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 });
    expect(d.severityOf(0)).toBe(0);
    push(d, 0);
    expect(d.severityOf(0)).toBe(0.4);
    for (let i = 1; i < 10; i++) expect(d.severityOf(i)).toBe(0);
    const bad = figuresOf(d.performanceOf(0));
    const healthy = figuresOf(d.performanceOf(1));
    expect(bad.ttft_p95_ms).toBeCloseTo(1.4 * healthy.ttft_p95_ms, 6);
    expect(bad.itl_p95_ms).toBeCloseTo(1.4 * healthy.itl_p95_ms, 6);
    expect(bad.error_rate).toBeCloseTo(healthy.error_rate + 0.1, 9);
  });

  it('min_fraction 0.5 degrades nothing until 5 of 10 replicas have changed, then all changed ones', () => {
    const d = deployment();
    d.addFault({ kind: 'degrade_new_config', min_fraction: 0.5, severity: 0.4 });
    for (let i = 0; i < 4; i++) push(d, i);
    for (let i = 0; i < 10; i++) expect(d.severityOf(i)).toBe(0);
    // Without degradation the new config is an improvement.
    expect(figuresOf(d.performanceOf(0)).ttft_p95_ms).toBeLessThan(figuresOf(d.performanceOf(9)).ttft_p95_ms);
    push(d, 4);
    for (let i = 0; i < 5; i++) expect(d.severityOf(i)).toBe(0.4);
    for (let i = 5; i < 10; i++) expect(d.severityOf(i)).toBe(0);
    expect(figuresOf(d.performanceOf(0)).ttft_p95_ms).toBeGreaterThan(figuresOf(d.performanceOf(9)).ttft_p95_ms);
    // Rolling one back below the threshold heals the rest.
    const back = d.pushConfig(4, { revision: 'initial', engine_args: { ...vllmEngine.defaultArgs } });
    expect(back.status).toBe(200);
    for (let i = 0; i < 10; i++) expect(d.severityOf(i)).toBe(0);
  });

  it('clearing faults removes the degradation', () => {
    const d = deployment();
    d.addFault({ kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 });
    push(d, 0);
    expect(d.severityOf(0)).toBe(0.4);
    d.clearFaults();
    expect(d.severityOf(0)).toBe(0);
  });

  it('shows on the degraded replica\'s /metrics (TTFT p95 over a window) and nowhere else', async () => {
    let clock = 0;
    const fleet = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0 }], now: () => clock });
    try {
      const { url } = fleet.deployments[0];
      await request(url).post('/sim/v1/faults').send({ kind: 'degrade_new_config', min_fraction: 0, severity: 0.4 }).expect(201);
      await request(url).put('/replicas/0/servetune/v1/config').send({ revision: 'new', engine_args: TUNED }).expect(200);
      const p95 = async (i: number) => {
        const a = parsePage((await request(url).get(`/replicas/${i}/metrics`)).text);
        clock += 50;
        const b = parsePage((await request(url).get(`/replicas/${i}/metrics`)).text);
        const w = windowOf(histogram(a, 'vllm:time_to_first_token_seconds'), histogram(b, 'vllm:time_to_first_token_seconds'));
        return histogramQuantile(0.95, w.bounds, w.cumulative);
      };
      const degraded = await p95(0);
      const healthy = await p95(1);
      expect(degraded).toBeGreaterThan(1.25 * healthy);
    } finally {
      await fleet.close();
    }
  });
});
