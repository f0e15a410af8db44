import type { Accumulated, ObservationStream } from './engines/types';
import { lognormalCdf, lognormalMean } from './lognormal';

/** Empty counters and histograms for an engine's histogram layout. */
export function emptyAccumulated(histogramBuckets: Readonly<Record<string, readonly number[]>>): Accumulated {
  const histograms: Accumulated['histograms'] = {};
  for (const [name, bounds] of Object.entries(histogramBuckets)) {
    histograms[name] = { buckets: bounds.map(() => 0), count: 0, sum: 0 };
  }
  return { counters: {}, histograms };
}

/**
 * Fluid advance: every counter grows by rate × dt, and each histogram receives rate × dt
 * observations spread over its buckets by the distribution's CDF. Mutates `acc`.
 */
export function advanceAccumulated(
  acc: Accumulated,
  histogramBuckets: Readonly<Record<string, readonly number[]>>,
  dtSeconds: number,
  counterRates: Record<string, number>,
  observations: Record<string, ObservationStream>,
): void {
  if (!(dtSeconds > 0)) return;
  for (const [key, rate] of Object.entries(counterRates)) {
    acc.counters[key] = (acc.counters[key] ?? 0) + Math.max(0, rate) * dtSeconds;
  }
  for (const [name, stream] of Object.entries(observations)) {
    const bounds = histogramBuckets[name];
    const h = acc.histograms[name];
    if (!bounds || !h) continue;
    const n = Math.max(0, stream.rate) * dtSeconds;
    if (n === 0) continue;
    const cdf = stream.cdf ?? ((x: number) => lognormalCdf(x, stream));
    bounds.forEach((bound, i) => {
      h.buckets[i] += n * cdf(bound);
    });
    h.count += n;
    h.sum += n * (stream.mean ?? lognormalMean(stream));
  }
}
