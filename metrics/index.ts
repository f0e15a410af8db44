export { parsePrometheusText, parsePromFloat, familiesByName, samplesByName, MetricsParseError } from './prometheusText';
export type { MetricFamily, MetricType, PromSample } from './prometheusText';
export { histogramQuantile, sampleQuantile, toBuckets, histogramFromBuckets, histogramDelta, mergeHistograms, HistogramMismatchError } from './histogram';
export type { Bucket, HistogramSample } from './histogram';
export { counterDelta, rate } from './counters';
export {
  COUNTER_KEYS,
  GAUGE_KEYS,
  HISTOGRAM_KEYS,
  EngineSampleSchema,
  HistogramSampleSchema,
  parseEngineSample,
  mergeSamples,
  snapshotBetween,
  snapshotAcross,
  snapshotOf,
} from './sample';
export type { EngineSample, CounterKey, GaugeKey, HistogramKey, SamplePair } from './sample';
export { adapterFor, UnsupportedEngineError } from './engines/adapter';
export type { EngineAdapter } from './engines/adapter';
export { vllmAdapter, vllmToSample, vllmArgsFromPage, vllmFactsFromPage, VLLM_FAILED_FINISH_REASONS } from './engines/vllmAdapter';
export { tgiAdapter, tgiToSample } from './engines/tgiAdapter';
export { sglangAdapter, sglangToSample, SGLANG_RANK_LABELS } from './engines/sglangAdapter';
export { scrapeTextToSample } from './scrape';
