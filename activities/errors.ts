import { ApplicationFailure } from '@temporalio/activity';
import { isAxiosError } from 'axios';

/** Error types the workflow's retry policies name as non-retryable: retrying cannot help. */
export const NON_RETRYABLE = {
  configRejected: 'ConfigRejected',
  invalidReplicaAnswer: 'InvalidReplicaAnswer',
  fleetChanged: 'FleetChanged',
} as const;

export function describeHttpError(err: unknown, what: string): string {
  if (isAxiosError(err)) {
    if (err.response) {
      const body = typeof err.response.data === 'string' ? err.response.data : JSON.stringify(err.response.data);
      return `${what}: HTTP ${err.response.status} ${body?.slice(0, 300) ?? ''}`.trim();
    }
    return `${what}: ${err.code ?? 'network error'} ${err.message}`;
  }
  return `${what}: ${(err as Error)?.message ?? String(err)}`;
}

/**
 * A 4xx (other than 408/429) means the replica understood and refused: no retry will change its mind.
 * That includes 409 `lease_held`: another rollout holds the replica (docs/replica-leases.md).
 */
export function isClientRefusal(err: unknown): boolean {
  if (!isAxiosError(err) || !err.response) return false;
  const s = err.response.status;
  return s >= 400 && s < 500 && s !== 408 && s !== 429;
}

export function nonRetryable(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}
