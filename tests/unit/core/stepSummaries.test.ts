import { fitSummary, MAX_SUMMARY_BYTES, replicasText, summaries, type StagePosition } from '../../../core/stepSummaries';

const second: StagePosition = { label: '50%', number: 2, count: 3 };

describe('activity and timer summaries', () => {
  it.each([
    [replicasText({ from: 2, to: 3 }, 10), 'replica 3 of 10'],
    [replicasText({ from: 1, to: 5 }, 10), 'replicas 2–5 of 10'],
    [summaries.push('servetune-rollout-1', { from: 1, to: 5 }, 10, second), 'push revision servetune-rollout-1 to replicas 2–5 of 10 (stage 2/3 (50%))'],
    [summaries.monitoringTick(second, 60, 1, 1), 'monitoring window stage 2/3 (50%): 60 s until sample 1/1'],
    [summaries.monitoringTick(second, 7.5, 2, 8), 'monitoring window stage 2/3 (50%): 7.5 s until sample 2/8'],
    [summaries.discover('localhost:8000'), 'discover the replicas of localhost:8000'],
    [summaries.readConfigs(10), 'read the engine config of 10 replicas'],
    [summaries.baselineSample('start', 10), 'baseline sample (start) of 10 replicas'],
    [summaries.baselineWindow(5), 'baseline window: 5 s'],
    [summaries.analyze(), 'analyze the baseline: health score and bottlenecks'],
    [summaries.plan('vllm'), 'plan vllm engine-flag changes'],
    [summaries.approvalWait(86400), 'wait for approval (times out after 86400 s)'],
    [summaries.measure(second, 3, 6), 'stage 2/3 (50%): measure and judge, sample 3/6'],
    [summaries.windowStartSample('baseline', { from: 5, to: 10 }, 10, second), 'stage 2/3 (50%): baseline sample at window start, replicas 6–10 of 10'],
    [summaries.promotionWait(second, 3600), 'wait for promotion after stage 2/3 (50%) (times out after 3600 s)'],
    [summaries.rollback(1), 'roll back 1 replica to the config each had before'],
    [summaries.releaseLeases(5), 'release the leases on 5 replicas'],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('a summary is one line of at most 200 bytes', () => {
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

  it.each([
    ['short text is kept as it is', 'push revision r1 to replica 1 of 1', 'push revision r1 to replica 1 of 1'],
    ['line breaks become spaces', 'a\n  b', 'a b'],
  ])('%s', (_label, text, expected) => {
    expect(fitSummary(text)).toBe(expected);
  });

  it('cuts long text at a character boundary and marks the cut', () => {
    const long = `discover the replicas of ${'é'.repeat(300)}`;
    const fitted = fitSummary(long);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(bytes(fitted)).toBeGreaterThan(MAX_SUMMARY_BYTES - 3);
    expect(fitted.endsWith('é…')).toBe(true);
  });

  it('every builder fits its result, a 512-character deployment address included', () => {
    const address = `${'a'.repeat(500)}.example:8000`;
    expect(bytes(summaries.discover(address))).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(summaries.discover(address)).toMatch(/^discover the replicas of a+…$/);
  });
});
