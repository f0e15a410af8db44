/** Engine adapters turn one parsed `/metrics` page into an engine-neutral `EngineSample`. */
import type { EngineType } from '../../models/engine';
import type { MetricFamily } from '../prometheusText';
import type { EngineSample } from '../sample';
import { sglangAdapter } from './sglangAdapter';
import { tgiAdapter } from './tgiAdapter';
import { vllmAdapter } from './vllmAdapter';

export interface EngineAdapter {
  engine: EngineType;
  /** Reading of one replica's page taken at `at_ms` (ms since the epoch); `replicas` is 1. */
  toSample(families: readonly MetricFamily[], at_ms: number): EngineSample;
}

export class UnsupportedEngineError extends Error {
  readonly engine: string;
  constructor(engine: string) {
    super(`metrics for engine "${engine}" are not supported (adapters exist for vllm, tgi and sglang)`);
    this.name = 'UnsupportedEngineError';
    this.engine = engine;
  }
}

/** The adapter for `engine`; throws `UnsupportedEngineError` for anything else (e.g. an unchecked string). */
export function adapterFor(engine: EngineType): EngineAdapter {
  switch (engine) {
    case 'vllm':
      return vllmAdapter;
    case 'tgi':
      return tgiAdapter;
    case 'sglang':
      return sglangAdapter;
    default:
      throw new UnsupportedEngineError(String(engine));
  }
}
