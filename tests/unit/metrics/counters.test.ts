import { counterDelta, rate } from '../../../metrics';

describe('counterDelta', () => {
  it('is the difference when the counter grew or stood still', () => {
    expect(counterDelta(10, 15)).toBe(5);
    expect(counterDelta(10, 10)).toBe(0);
  });
  it('is the current value after a reset, as PromQL increase() assumes', () => {
    expect(counterDelta(10, 3)).toBe(3);
    expect(counterDelta(10, 0)).toBe(0);
  });
});

describe('rate', () => {
  it('is the increase per second', () => {
    expect(rate(10, 20, 5)).toBe(2);
    expect(rate(100, 40, 10)).toBe(4); // reset: 40 new since restart
    expect(rate(7, 7, 30)).toBe(0);
  });
  it('is null for an empty or negative window', () => {
    expect(rate(1, 2, 0)).toBeNull();
    expect(rate(1, 2, -1)).toBeNull();
    expect(rate(1, 2, NaN)).toBeNull();
  });
});
