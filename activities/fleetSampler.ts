import type { AxiosInstance } from 'axios';
import type { EngineType } from '../models';
import { mergeSamples, MetricsParseError, scrapeTextToSample, type EngineSample } from '../metrics';
import { activityLog } from './log';
import { mapWithConcurrency } from './concurrency';
import { replicaUrl } from './replicaAddress';

/** Reads one replica's /metrics page into the engine-neutral cumulative sample. */
export async function scrapeReplica(http: AxiosInstance, engine: EngineType, address: string, signal?: AbortSignal): Promise<EngineSample> {
  const res = await http.get<string>(replicaUrl(address, '/metrics'), { responseType: 'text', transformResponse: (d) => d, signal });
  const text = String(res.data);
  try {
    return scrapeTextToSample(engine, text, Date.now());
  } catch (err) {
    if (!(err instanceof MetricsParseError)) throw err;
    // The page's text stays out of the error (it may be any internal page): the line number and size do not.
    activityLog().debug({ replica: address, err: err.message }, 'metrics page did not parse');
    throw new Error(`metrics page of ${address} is not Prometheus text: parse error at line ${err.line} (${Buffer.byteLength(text)} bytes)`);
  }
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
  signal?: AbortSignal,
): Promise<EngineSample> {
  const samples = await mapWithConcurrency(replicas, concurrency, (address) => scrapeReplica(http, engine, address, signal));
  return mergeSamples(samples);
}
