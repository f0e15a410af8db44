import { ApplicationFailure } from '@temporalio/activity';
import { isAxiosError } from 'axios';
import { NON_RETRYABLE } from '../contract';
import { TargetRefusedError } from './httpClient';
import { activityLog } from './log';

/**
 * What went wrong, in words safe to put in a rollout's state: for an HTTP answer only its status
 * and size, never its body (a target may be an internal page whose text must not leak into
 * `error_message`); the body's start is logged at debug level for the operator.
 */
export function describeHttpError(err: unknown, what: string): string {
  if (isAxiosError(err)) {
    if (err.response) {
      const { status } = err.response;
      const body = typeof err.response.data === 'string' ? err.response.data : JSON.stringify(err.response.data ?? '');
      activityLog().debug({ status, body: body.slice(0, 300) }, `${what}: HTTP ${status} answer`);
      const redirect = status >= 300 && status < 400 ? ' (redirect, not followed)' : '';
      return `${what}: HTTP ${status}${redirect}, ${Buffer.byteLength(body)} bytes`;
    }
    return `${what}: ${err.code ?? 'network error'} ${err.message}`;
  }
  return `${what}: ${(err as Error)?.message ?? String(err)}`;
}

/**
 * No retry will change the answer: a 4xx (other than 408/429) means the replica understood and
 * refused; a 3xx is a redirect the worker never follows; a refused target stays refused.
 * That includes 409 `lease_held`: another rollout holds the replica (docs/replica-leases.md).
 */
export function isClientRefusal(err: unknown): boolean {
  if (err instanceof TargetRefusedError) return true;
  if (!isAxiosError(err) || !err.response) return false;
  const s = err.response.status;
  return (s >= 300 && s < 400) || (s >= 400 && s < 500 && s !== 408 && s !== 429);
}

/**
 * The failure of a read (discovery, a config read, a scrape): retried, unless the target is refused,
 * which no retry changes (a refused target would otherwise be asked five times over about 15 s).
 */
export function readFailure(err: unknown, what: string): Error {
  const message = describeHttpError(err, what);
  return err instanceof TargetRefusedError ? nonRetryable(message, NON_RETRYABLE.targetRefused) : new Error(message);
}

export function nonRetryable(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}
