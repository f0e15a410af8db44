import { monitoringTicks, nextAfterStage, samplingIntervalSeconds, shouldStopMonitoring } from '../../../core/transitions';

describe('nextAfterStage', () => {
  it.each([
    [true, true, 'complete'],
    [true, false, 'complete'],
    [false, true, 'next_stage'],
    [false, false, 'await_promotion'],
  ] as const)('last %s, auto %s → %s', (isLastStage, autoRollout, expected) => {
    expect(nextAfterStage({ isLastStage, autoRollout })).toBe(expected);
  });
});

describe('shouldStopMonitoring', () => {
  it('stops early only after two consecutive failing samples', () => {
    expect(shouldStopMonitoring({ consecutiveFailures: 0, isFinalSample: false })).toBe(false);
    expect(shouldStopMonitoring({ consecutiveFailures: 1, isFinalSample: false })).toBe(false);
    expect(shouldStopMonitoring({ consecutiveFailures: 2, isFinalSample: false })).toBe(true);
  });

  it('at the end of the window one failing sample decides', () => {
    expect(shouldStopMonitoring({ consecutiveFailures: 1, isFinalSample: true })).toBe(true);
    expect(shouldStopMonitoring({ consecutiveFailures: 0, isFinalSample: true })).toBe(false);
  });
});

describe('monitoring schedule', () => {
  it('samples about five times per window, the last at its end', () => {
    expect(monitoringTicks(300, samplingIntervalSeconds(300))).toEqual([60, 120, 180, 240, 300]);
    expect(monitoringTicks(10, samplingIntervalSeconds(10))).toEqual([2, 4, 6, 8, 10]);
  });

  it('keeps samples at least 1 s apart and at most 60 s', () => {
    expect(samplingIntervalSeconds(2)).toBe(1);
    expect(samplingIntervalSeconds(3600)).toBe(60);
    expect(monitoringTicks(2.5, 1)).toEqual([1, 2, 2.5]);
  });

  it('samples at least once even for a window shorter than the interval', () => {
    expect(monitoringTicks(0.5, 1)).toEqual([0.5]);
  });
});
