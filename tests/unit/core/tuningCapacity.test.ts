import { capacityStep, cornerValues, verdictAfterCorner } from '../../../core/tuningCapacity';
import { DEFAULT_SLO } from '../../../core/healthScore';
import type { AnalysisResult, DecisionLogEntry, LoadMeasurement, Snapshot, WorkflowState } from '../../../models';
import { snapshot } from './snapshotFixture';

const saturated: Partial<Snapshot> = { request_rate: 45, error_rate: 0.65, requests_waiting: 1000 };
const analysis = (m: Partial<Snapshot>): AnalysisResult => ({ bottlenecks: [], overall_health_score: 18, health_components: [], metrics: snapshot(m) });
const step = (o: { metrics?: Partial<Snapshot>; probes?: number; args?: Record<string, number | boolean>; log?: DecisionLogEntry[] }) =>
  capacityStep({
    engine: 'sglang',
    currentArgs: o.args ?? { mem_fraction_static: 0.88 },
    analysis: analysis(o.metrics ?? saturated),
    log: o.log ?? [],
    constraints: [],
    saturatedProbes: o.probes ?? 0,
    slo: DEFAULT_SLO,
    target: 80,
  });

describe('capacityStep: counts saturated probes, then tries the corner', () => {
  test.each([
    ['a first saturated probe counts, nothing else yet', { probes: 0 }, 1, null],
    ['the second consecutive one: the corner', { probes: 1 }, 2, 'capacity'],
    ['a probe that is not saturated resets the count', { probes: 3, metrics: { request_rate: 45, error_rate: 0.002, requests_waiting: 0 } }, 0, null],
    ['a corner already tried in this run is not tried again', { probes: 4, log: [{ source: 'capacity' } as DecisionLogEntry] }, 5, null],
  ])('%s', (_name, o, probes, source) => {
    const s = step(o);
    expect(s.saturatedProbes).toBe(probes);
    expect(s.candidate?.source ?? null).toBe(source);
    expect(s.verdict).toBeNull();
  });

  test('the corner step moves the flags to the corner and says why', () => {
    const s = step({ probes: 1 });
    expect(s.candidate!.changes).toEqual([
      { flag: 'mem_fraction_static', from: 0.88, to: 0.93 },
      { flag: 'enable_mixed_chunk', from: null, to: true },
    ]);
    expect(s.candidate!.evidence).toMatch(/saturated in 2 consecutive probes .*trying the corner/);
    expect(s.probeLoad).toMatchObject({ offered_rps: 45, replicas: 10 });
  });

  test('a fleet already at the corner: the probe is the corner window, and proves it without a rollout', () => {
    const s = step({ probes: 1, args: { mem_fraction_static: 0.93, enable_mixed_chunk: true } });
    expect(s.candidate).toBeNull();
    expect(s.verdict).toMatchObject({ rollout_id: null, corner_args: { mem_fraction_static: 0.93, enable_mixed_chunk: true }, corner_health: 18, replicas_needed: 29 });
  });
});

describe('verdictAfterCorner: from the corner rollout\'s last stage that measured its load', () => {
  const probeLoad: LoadMeasurement = { replicas: 10, window_seconds: 5, offered_rps: 45, served_rps: 15, waiting_per_replica: 100 };
  const stage = (load: LoadMeasurement | null | undefined, health: number | null) => ({ load, health_score_after: health });
  const rollout = (stages: Array<ReturnType<typeof stage>>) => ({ workflow_id: 'w', rollout_history: stages }) as unknown as WorkflowState;
  const verdict = (r: WorkflowState) => verdictAfterCorner({ engine: 'sglang', probeLoad, cornerArgs: { mem_fraction_static: 0.93, schedule_conservativeness: 1 }, rolloutId: 'rollout-c', rollout: r, slo: DEFAULT_SLO, target: 80 });

  test('the last measured stage decides', () => {
    const v = verdict(
      rollout([
        stage({ replicas: 5, window_seconds: 2, offered_rps: 22.5, served_rps: 22.5, waiting_per_replica: 0 }, 90),
        stage({ replicas: 10, window_seconds: 2, offered_rps: 45, served_rps: 19, waiting_per_replica: 120 }, 21),
      ]),
    );
    expect(v).toMatchObject({ rollout_id: 'rollout-c', corner_served_rps_per_replica: 1.9, corner_health: 21, replicas_needed: 24, corner_args: { mem_fraction_static: 0.93 } });
  });

  test.each([
    ['no stage measured its load (a refused push, or a rollout from before loads were recorded)', [stage(undefined, null), stage(null, null)]],
    ['the corner served the load', [stage({ replicas: 5, window_seconds: 2, offered_rps: 22.5, served_rps: 22.4, waiting_per_replica: 0 }, 85)]],
  ])('no verdict when %s', (_name, stages) => {
    expect(verdict(rollout(stages))).toBeNull();
  });
});

test('cornerValues keeps only the corner flags the args set', () => {
  expect(cornerValues('sglang', { mem_fraction_static: 0.93, schedule_policy: 'lpm', enable_mixed_chunk: true, max_running_requests: null })).toEqual({ mem_fraction_static: 0.93, enable_mixed_chunk: true });
});
