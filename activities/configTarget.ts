import type { AxiosInstance } from 'axios';
import { ConfigPushSchema, ReplicaConfigSchema, type ConfigPush, type ReplicaConfig } from '../models';
import { replicaUrl } from './replicaAddress';

/** Where a replica's engine config is read and pushed. One implementation per kind of target. */
export interface ConfigTarget {
  /** `signal` stops the request at once (the HTTP client adds the running activity's own). */
  read(address: string, signal?: AbortSignal): Promise<ReplicaConfig>;
  push(address: string, push: ConfigPush, signal?: AbortSignal): Promise<ReplicaConfig>;
}

/**
 * The servetune agent protocol of DESIGN.md: the agent beside each replica restarts the engine with
 * the new args and answers once it is healthy. Pushing the same revision twice is a no-op there,
 * which is what makes a retried push safe.
 */
export function agentConfigTarget(http: AxiosInstance, applyTimeoutMs: number): ConfigTarget {
  return {
    async read(address, signal) {
      const res = await http.get(replicaUrl(address, '/servetune/v1/config'), { signal });
      return ReplicaConfigSchema.parse(res.data);
    },
    async push(address, push, signal) {
      // The target's HTTP client (activities/httpClient.ts) takes `timeout` as the push's total deadline.
      const res = await http.put(replicaUrl(address, '/servetune/v1/config'), ConfigPushSchema.parse(push), {
        timeout: applyTimeoutMs,
        signal,
      });
      return ReplicaConfigSchema.parse(res.data);
    },
  };
}
