import { judgeCanary, type CanaryJudgement } from '../../../core/canaryJudge';
import { budgetedSamplingIntervalSeconds, decideSample, MONITORING_TICK_BUDGET, SERIES_INTERVALS } from '../../../core/monitoring';
import { monitoringTicks, samplingIntervalSeconds } from '../../../core/transitions';

const judged = (canary: number[], baseline: number[]): CanaryJudgement => judgeCanary({ canary: { ttft_p95_ms: canary }, baseline: { ttft_p95_ms: baseline } });
const canaryPass = judged([100, 101, 99, 100, 102, 98], [100, 101, 99, 100, 102, 98]);
const canaryFail = judged([300, 310, 305, 320, 315, 330], [100, 101, 99, 100, 102, 98]);
const noData: CanaryJudgement = { verdict: 'no_data', decisions: [] };

describe('decideSample', () => {
  test('the verdicts are what the table fixtures say', () => {
    expect(canaryPass.verdict).toBe('pass');
    expect(canaryFail.verdict).toBe('fail');
  });

  test.each([
    // before, after, judgement, failures so far, final?, → failures, outcome, reason contains
    ['healthy mid-window sample keeps sampling', 80, 80, canaryPass, 0, false, 0, 'continue', 'Health score 80.0 ≥ 72.0'],
    ['healthy sample resets the failure count', 80, 80, canaryPass, 1, false, 0, 'continue', '≥'],
    ['one failing mid-window sample is not enough', 80, 50, canaryPass, 0, false, 1, 'continue', 'dropped below threshold'],
    ['two failing samples in a row stop the stage', 80, 50, canaryPass, 1, false, 2, 'fail', 'dropped below threshold (50.0 < 72.0)'],
    ['a canary worse than baseline counts as failing', 80, 80, canaryFail, 1, false, 2, 'fail', 'Canary worse than baseline: ttft_p95_ms'],
    ['the absolute gate is named first when both fail', 80, 50, canaryFail, 1, false, 2, 'fail', 'dropped below threshold'],
    ['at the end of the window one failure decides', 80, 50, canaryPass, 0, true, 1, 'fail', 'dropped below threshold'],
    ['a healthy final sample passes the stage', 80, 80, noData, 0, true, 0, 'pass', '(0.9 × 80.0)'],
    ['silence from the canary never passes', 80, null, noData, 0, true, 1, 'fail', 'No health data'],
    ['no score before the stage never passes', null, 80, canaryPass, 0, true, 1, 'fail', 'No baseline health score'],
  ] as const)('%s', (_name, before, after, judgement, failures, isFinalSample, wantFailures, outcome, reason) => {
    const d = decideSample({ before, after, threshold: 0.9, judgement, consecutiveFailures: failures, isFinalSample });
    expect(d.consecutiveFailures).toBe(wantFailures);
    expect(d.outcome).toBe(outcome);
    expect(d.reason).toContain(reason);
  });
});

describe('budgetedSamplingIntervalSeconds', () => {
  test.each([
    // window, stages → interval
    [300, 3, 60],
    [10, 3, 2],
    [3, 1, 1],
    [3600, 3, 60],
    [7 * 24 * 3600, 3, (7 * 24 * 3600) / 400],
    [7 * 24 * 3600, 20, (7 * 24 * 3600) / 60],
    [24 * 3600, 1, 72],
  ])('a %ss window in a %i-stage rollout is sampled every %ss', (window, stages, interval) => {
    expect(budgetedSamplingIntervalSeconds(window, stages)).toBeCloseTo(interval, 9);
  });

  test('windows the budget does not constrain keep the unbudgeted schedule', () => {
    for (const window of [1, 5, 30, 300, 1800, 3600, 6 * 3600]) {
      expect(budgetedSamplingIntervalSeconds(window, 3)).toBe(samplingIntervalSeconds(window));
    }
  });

  test('no schema-valid request exceeds the tick budget (1 to 20 stages, windows up to a week)', () => {
    for (let stages = 1; stages <= 20; stages++) {
      for (const window of [0.5, 59, 300, 3599, 86_400, 7 * 24 * 3600 - 1, 7 * 24 * 3600]) {
        const perStage = monitoringTicks(window, budgetedSamplingIntervalSeconds(window, stages)).length;
        expect(perStage * stages).toBeLessThanOrEqual(MONITORING_TICK_BUDGET);
      }
    }
  });

  test('a degenerate stage count still samples', () => {
    expect(budgetedSamplingIntervalSeconds(600, 0)).toBe(60);
    expect(SERIES_INTERVALS * 2).toBeLessThanOrEqual(50);
  });
});
