import { CAPACITY_MARGIN, capacityVerdict, cornerDue, loadOf, saturationOf } from '../../../core/capacityVerdict';
import { DEFAULT_SLO, healthCeiling } from '../../../core/healthScore';
import type { DecisionLogEntry, LoadMeasurement } from '../../../models';
import { snapshot } from './snapshotFixture';

const load = (o: Partial<LoadMeasurement> = {}): LoadMeasurement => ({ replicas: 10, window_seconds: 10, offered_rps: 45, served_rps: 15, waiting_per_replica: 100, ...o });

describe('loadOf: offered and served from the engine counters', () => {
  test.each([
    ['finished and aborted requests', { request_rate: 40, error_rate: 0.25, requests_waiting: 30 }, { offered_rps: 40, served_rps: 30, waiting_per_replica: 3 }],
    ['no queue gauge', { request_rate: 40, error_rate: 0, requests_waiting: null }, { offered_rps: 40, served_rps: 40, waiting_per_replica: null }],
    ['an error ratio above 1 (abort dispatches) serves nothing', { request_rate: 10, error_rate: 1.2, requests_waiting: 0 }, { offered_rps: 10, served_rps: 0, waiting_per_replica: 0 }],
  ])('%s', (_name, overrides, expected) => {
    expect(loadOf(snapshot(overrides))).toMatchObject({ replicas: 10, ...expected });
  });

  test.each([
    ['no request rate', { request_rate: null }],
    ['no error rate (nothing ended, or not reported)', { error_rate: null }],
    ['no replicas', { replicas: 0 }],
  ])('%s → null', (_name, overrides) => {
    expect(loadOf(snapshot(overrides))).toBeNull();
  });
});

describe('healthCeiling: the best score an error rate allows', () => {
  test.each([
    [0, 100],
    [0.01, 100],
    [0.02, 87.5],
    [0.05, 80],
    [0.6, 75 + 0.25 * (100 / 60)],
  ])('error rate %p → %p', (rate, ceiling) => {
    expect(healthCeiling('error_rate', rate, DEFAULT_SLO)).toBeCloseTo(ceiling, 6);
  });
});

describe('saturationOf', () => {
  test.each([
    ['a standing queue and most of the load unserved', load(), 80, 1, true],
    ['the same with the margin: 1.5 × 15 of 45 still leaves half unserved', load(), 80, CAPACITY_MARGIN, true],
    ['no standing queue', load({ waiting_per_replica: 0.5 }), 80, 1, false],
    ['queue not reported', load({ waiting_per_replica: null }), 80, 1, false],
    ['served nearly all: the errors alone allow the target', load({ served_rps: 43.5 }), 80, 1, false],
    ['a margin that would serve the load', load({ served_rps: 30 }), 80, CAPACITY_MARGIN, false],
    ['a target below what errors can cap (75)', load(), 70, 1, false],
    ['no load', load({ offered_rps: 0, served_rps: 0 }), 80, 1, false],
  ])('%s', (_name, l, target, margin, saturated) => {
    expect(saturationOf(l, DEFAULT_SLO, target, margin).saturated).toBe(saturated);
  });

  test('names the least unserved share and the ceiling it sets', () => {
    const s = saturationOf(load(), DEFAULT_SLO, 80);
    expect(s.minErrorRate).toBeCloseTo(2 / 3, 6);
    expect(s.reason).toContain('66.7 %');
    expect(s.ceiling).toBeLessThan(80);
  });
});

describe('cornerDue', () => {
  const entry = (source: DecisionLogEntry['source']) => ({ source }) as DecisionLogEntry;
  test.each([
    [0, [], false],
    [1, [], false],
    [2, [entry('rules')], true],
    [3, [entry('rules'), entry('search')], true],
    [5, [entry('rules'), entry('capacity')], false],
  ])('%p saturated probes after %j', (probes, log, due) => {
    expect(cornerDue(probes, log as DecisionLogEntry[])).toBe(due);
  });
});

describe('capacityVerdict', () => {
  const input = (corner: LoadMeasurement) => ({ probe: load(), corner, cornerArgs: { mem_fraction_static: 0.93 }, cornerHealth: 20, rolloutId: 'rollout-1', slo: DEFAULT_SLO, target: 80 });

  test('the corner serves 2 rps per replica of the 4.5 offered: proved, with the replicas the load needs', () => {
    const v = capacityVerdict(input(load({ replicas: 5, offered_rps: 22.5, served_rps: 10, waiting_per_replica: 120 })))!;
    expect(v).toMatchObject({
      rollout_id: 'rollout-1',
      corner_args: { mem_fraction_static: 0.93 },
      replicas: 10,
      offered_rps: 45,
      corner_offered_rps_per_replica: 4.5,
      corner_served_rps_per_replica: 2,
      corner_health: 20,
      capacity_margin: CAPACITY_MARGIN,
      replicas_needed: 23,
    });
    expect(v.min_error_rate).toBeCloseTo(1 / 3, 3);
    expect(v.health_ceiling).toBeLessThan(80);
    expect(v.argument).toContain('served ≤ 2 rps of the 4.5 rps');
    expect(v.argument).toContain("no configuration in the flags' bounds serves the load");
    expect(v.argument).toContain('needs 23 replicas (10 run)');
  });

  test.each([
    ['the corner serves the load', load({ served_rps: 45, waiting_per_replica: 0 })],
    ['the corner serves two thirds: 1.5 × that would serve it all', load({ served_rps: 30 })],
    ['no standing queue at the corner', load({ waiting_per_replica: 0 })],
    ['the corner served nothing (an engine down is not capacity)', load({ served_rps: 0 })],
  ])('no verdict when %s', (_name, corner) => {
    expect(capacityVerdict(input(corner))).toBeNull();
  });
});
