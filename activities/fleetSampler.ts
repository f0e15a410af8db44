import type { AxiosInstance } from 'axios';
import type { EngineType } from '../models';
import { mergeSamples, scrapeTextToSample, type EngineSample } from '../metrics';
import { mapWithConcurrency } from './concurrency';
import { replicaUrl } from './replicaAddress';

/** Reads one replica's /metrics page into the engine-neutral cumulative sample. */
export async function scrapeReplica(http: AxiosInstance, engine: EngineType, address: string): Promise<EngineSample> {
  const res = await http.get<string>(replicaUrl(address, '/metrics'), { responseType: 'text', transformResponse: (d) => d });
  return scrapeTextToSample(engine, String(res.data), Date.now());
}

/**
 * One reading of a set of replicas, merged into a single sample. Merging here keeps the payload
 * that enters workflow history the same size for 10 replicas or 1,000.
 */
export async function sampleReplicas(
  http: AxiosInstance,
  engine: EngineType,
  replicas: string[],
  concurrency: number,
): Promise<EngineSample> {
  const samples = await mapWithConcurrency(replicas, concurrency, (address) => scrapeReplica(http, engine, address));
  return mergeSamples(samples);
}
