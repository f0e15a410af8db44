/** Cumulative counters: window increase and per-second rate, with reset handling. */

/**
 * Increase of a cumulative counter from `prev` to `cur`. A drop means the process restarted and
 * the counter began again from 0, so the increase is `cur` (as PromQL `increase`/`rate` treat a
 * reset).
 */
export function counterDelta(prev: number, cur: number): number {
  return cur < prev ? cur : cur - prev;
}

/** Per-second rate of a counter over `seconds`; null when the window is not positive. */
export function rate(prev: number, cur: number, seconds: number): number | null {
  if (!(seconds > 0)) return null;
  return counterDelta(prev, cur) / seconds;
}
