import { createHash } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import type { FleetRef, ReplicaRange } from '../core/fleetRef';
import { discoverReplicaList } from './discovery';
import { NON_RETRYABLE } from '../contract';
import { nonRetryable, readFailure } from './errors';

export function fleetDigest(addresses: string[]): string {
  return createHash('sha256').update(addresses.join('\n')).digest('hex').slice(0, 32);
}

/**
 * The addresses behind a fleet reference, found the way the rollout first found them. A fleet that
 * changed since (an autoscaler added or removed replicas) makes the ranges meaningless, so the
 * rollout stops rather than push to the wrong replicas; its rollback names addresses explicitly.
 */
export async function resolveFleet(http: AxiosInstance, fleet: FleetRef): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await discoverReplicaList(http, fleet.instance_id, fleet.replicas);
  } catch (err) {
    throw readFailure(err, `discovering replicas of ${fleet.instance_id}`);
  }
  if (addresses.length !== fleet.count || fleetDigest(addresses) !== fleet.digest) {
    throw nonRetryable(
      `the replicas of ${fleet.instance_id} changed during the rollout (${fleet.count} at the start, ${addresses.length} now)`,
      NON_RETRYABLE.fleetChanged,
    );
  }
  return addresses;
}

export function inRange(addresses: string[], range: ReplicaRange): string[] {
  return addresses.slice(range.from, range.to);
}
