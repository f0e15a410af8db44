import { isLastComparedStage, planStages, replicasForStage, stageLabel } from '../../../core/stagePlan';

const replicas = Array.from({ length: 10 }, (_, i) => `r${i}`);

describe('replicasForStage', () => {
  it.each([
    [10, 10, 0, 1],
    [50, 10, 1, 5],
    [100, 10, 5, 10],
    [10, 3, 0, 1], // ceil(0.3) = 1
    [50, 3, 1, 2], // ceil(1.5) = 2
    [1, 1000, 0, 10],
    [33, 7, 0, 3], // ceil(2.31) = 3
    [20, 5, 0, 1], // exactly 1.0, float noise must not make it 2
    [10, 1, 0, 1],
  ])('%i%% of %i (previous %i) → %i', (p, n, prev, expected) => {
    expect(replicasForStage(p, n, prev)).toBe(expected);
  });

  it('never moves fewer replicas than the stage before', () => {
    expect(replicasForStage(10, 10, 4)).toBe(4);
  });

  it('moves at least one replica and never more than there are', () => {
    expect(replicasForStage(0.1, 10, 0)).toBe(1);
    expect(replicasForStage(100, 10, 12)).toBe(10);
    expect(replicasForStage(50, 0, 0)).toBe(0);
  });
});

describe('planStages', () => {
  it('keeps replica identity: each stage extends the one before', () => {
    const plan = planStages([10, 50, 100], replicas);
    expect(plan.map((s) => s.label)).toEqual(['10%', '50%', '100%']);
    expect(plan[0].replicas).toEqual(['r0']);
    expect(plan[1].replicas).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(plan[1].added).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(plan[2].replicas).toEqual(replicas);
    expect(plan[2].added).toEqual(['r5', 'r6', 'r7', 'r8', 'r9']);
  });

  it('gives a stage nothing to add when rounding already covered it', () => {
    const plan = planStages([10, 20, 100], ['a', 'b']);
    expect(plan.map((s) => s.replicas.length)).toEqual([1, 1, 2]);
    expect(plan[1].added).toEqual([]);
  });

  it('labels fractional percentages readably', () => {
    expect(stageLabel(12.5)).toBe('12.5%');
    expect(stageLabel(100)).toBe('100%');
  });
});

describe('isLastComparedStage', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);
  it.each([
    // stages, replicas, the index of the last stage that still leaves replicas on the old config (or none)
    [[10, 50, 100], 10, 1],
    [[50, 100], 10, 0],
    [[50, 100], 4, 0],
    [[10, 50, 100], 2, 1], // 10% and 50% of 2 both move r0 alone; the 50% stage is the last with a baseline
    [[100], 10, null], // no stage leaves a baseline
    [[50, 100], 1, null], // 50% of one replica is the whole fleet
    [[10, 20, 100], 2, 1],
    [[10, 90, 100], 10, 1],
  ])('stages %j over %i replicas: %p', (stages, count, expected) => {
    const plan = planStages(stages, names(count));
    const found = plan.map((_, i) => isLastComparedStage(plan, i, count)).flatMap((last, i) => (last ? [i] : []));
    expect(found).toEqual(expected === null ? [] : [expected]);
  });

  it('is false past the end', () => {
    expect(isLastComparedStage(planStages([50, 100], names(4)), 5, 4)).toBe(false);
  });
});
