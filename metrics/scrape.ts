import type { EngineType } from '../models/engine';
import { adapterFor } from './engines/adapter';
import { parsePrometheusText } from './prometheusText';
import type { EngineSample } from './sample';

/**
 * Parse one replica's `/metrics` text and read it with the engine's adapter.
 * Throws `MetricsParseError` for a malformed page and `UnsupportedEngineError` for an engine
 * without an adapter.
 */
export function scrapeTextToSample(engine: EngineType, text: string, at_ms: number): EngineSample {
  const adapter = adapterFor(engine);
  return adapter.toSample(parsePrometheusText(text), at_ms);
}
