import { appendSeries } from '../../../activities';
import { CANARY_METRICS } from '../../../core/canaryJudge';
import { SERIES_INTERVALS } from '../../../core/monitoring';

const interval = (v: number | null) => Object.fromEntries(CANARY_METRICS.map((m) => [m, v]));

test('appends one value per metric, oldest first', () => {
  const s = appendSeries(appendSeries({}, interval(1)), interval(2));
  for (const m of CANARY_METRICS) expect(s[m]).toEqual([1, 2]);
});

test('an interval without data adds nothing', () => {
  const s = appendSeries(appendSeries({}, interval(1)), interval(null));
  for (const m of CANARY_METRICS) expect(s[m]).toEqual([1]);
});

test('keeps only the latest SERIES_INTERVALS values however many ticks the window has', () => {
  let s = {};
  for (let i = 1; i <= 1000; i++) s = appendSeries(s, interval(i));
  const expected = Array.from({ length: SERIES_INTERVALS }, (_, k) => 1000 - SERIES_INTERVALS + 1 + k);
  for (const m of CANARY_METRICS) expect((s as Record<string, number[]>)[m]).toEqual(expected);
  // A series handed in longer than the bound (an older worker's) is trimmed too.
  const long = Object.fromEntries(CANARY_METRICS.map((m) => [m, Array.from({ length: 40 }, (_, k) => k)]));
  for (const m of CANARY_METRICS) expect(appendSeries(long, interval(null))[m]).toHaveLength(SERIES_INTERVALS);
});
