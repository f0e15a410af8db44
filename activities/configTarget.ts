import type { AxiosInstance } from 'axios';
import { isAxiosError } from 'axios';
import { ConfigPushSchema, LeaseHeldBodySchema, LeaseReleaseSchema, ReplicaConfigSchema, type ConfigPush, type ReplicaConfig } from '../models';
import { replicaUrl } from './replicaAddress';

/** Where a replica's engine config is read and pushed. One implementation per kind of target. */
export interface ConfigTarget {
  /** `signal` stops the request at once (the HTTP client adds the running activity's own). */
  read(address: string, signal?: AbortSignal): Promise<ReplicaConfig>;
  push(address: string, push: ConfigPush, signal?: AbortSignal): Promise<ReplicaConfig>;
  /** Ends `holder`'s lease on the replica; idempotent. Another holder's lease is left alone and reported. */
  release(address: string, holder: string): Promise<LeaseReleaseOutcome>;
}

export type LeaseReleaseOutcome =
  | { kind: 'released' }
  /** Nothing to release: no live lease, or an agent older than leases (404). */
  | { kind: 'free' }
  | { kind: 'held_by_other'; holder: string; expires_at: string };

/** The lease in a 409 `lease_held` answer, or null when the error is something else. */
export function leaseHeldBy(err: unknown): { holder: string; expires_at: string } | null {
  if (!isAxiosError(err) || err.response?.status !== 409) return null;
  const parsed = LeaseHeldBodySchema.safeParse(err.response.data);
  return parsed.success ? parsed.data.lease : null;
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
    async release(address, holder) {
      try {
        // The holder goes in `params`: the target check refuses a query written into a replica's address.
        const res = await http.delete(replicaUrl(address, '/servetune/v1/lease'), { params: { holder } });
        return LeaseReleaseSchema.parse(res.data).released ? { kind: 'released' } : { kind: 'free' };
      } catch (err) {
        const held = leaseHeldBy(err);
        if (held) return { kind: 'held_by_other', ...held };
        if (isAxiosError(err) && err.response?.status === 404) return { kind: 'free' };
        throw err;
      }
    },
  };
}
